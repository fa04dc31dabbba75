/**
 * The step-by-step view's pipeline: the stages this layer really has, in the order the engine computes
 * them, each with what it does and (for the query) its vector. Every item carries data-stage so that
 * tests and screen readers find a stage by name: project, qkNorm, rope, scale, softCap, bias, mask,
 * softmax, output.
 */
import type { Computation } from '../../src/protocol/data';
import { h } from '../dom';

const VECTOR_DIMS = 6;

export function vector(values: Float32Array): HTMLElement {
  const shown = Array.from(values.subarray(0, VECTOR_DIMS), (x) => x.toFixed(3)).join(', ');
  return h('code', {}, `[${shown}${values.length > VECTOR_DIMS ? ', …' : ''}]`);
}

/** The formula of this layer: only the terms it has. */
export function formulaText(c: Computation): string {
  const r = c.recipe;
  const scaled = r.scaleSource === 'none' ? 'QKᵀ' : r.scaleSource === 'head_dim' ? 'QKᵀ / √dₖ' : `QKᵀ · ${c.scaleLabel}`;
  const capped = r.softCap !== undefined ? `${r.softCap}·tanh(${scaled} / ${r.softCap})` : scaled;
  return `softmax(${capped}${r.positionBias ? ' + B' : ''} + M) · V`;
}

function scaleText(c: Computation): string {
  const r = c.recipe;
  if (r.scaleSource === 'none') return 'q·k is not scaled (this model folds the scale into its weights)';
  const source = r.scaleSource === 'query_pre_attn_scalar'
    ? `1/√query_pre_attn_scalar = 1/√${Math.round(1 / (r.scale * r.scale))}, not 1/√head_dim`
    : `1/√dₖ = 1/√${c.headDim}`;
  return `q·k × ${r.scale.toPrecision(4)} (${source})`;
}

function maskText(c: Computation): string {
  const r = c.recipe;
  const parts = [r.causal ? 'keys after the query (causal)' : '', r.slidingWindow !== undefined ? `keys ${r.slidingWindow} or more positions back (sliding window of ${r.slidingWindow})` : ''].filter(Boolean);
  return parts.length ? `M = −∞ for ${parts.join(' and for ')}, else 0` : 'no mask: every key is seen';
}

export function stageList(c: Computation): HTMLElement {
  const r = c.recipe;
  const byName = new Map(c.queryStages.map((s) => [s.name, s.vector]));
  const item = (stage: string, title: string, text: string | Node, ...rest: (Node | string)[]) =>
    h('li', { class: 'cv-stage', 'data-stage': stage }, h('strong', {}, title), ' ', text, ...rest);
  const items = [
    item('project', 'Project', `q = x · W_Q (head ${c.head}); k, v = x · W_K, x · W_V (kv head ${c.kvHead}): q = `, vector(byName.get('q')!)),
  ];
  const qNorm = byName.get('qNorm');
  if (r.qkNorm && qNorm) items.push(item('qkNorm', 'q/k norm', `RMSNorm ${r.qkNorm === 'per-head' ? `over each head's ${c.headDim} values` : 'over the whole projection (all heads at once)'}: q = `, vector(qNorm)));
  const rotated = byName.get('qRope');
  if (r.rope && rotated) {
    const dims = r.rope.rotaryDims === r.rope.headDim ? `all ${r.rope.headDim} dimensions` : `dimensions 0–${r.rope.rotaryDims - 1} of ${r.rope.headDim} (the other ${r.rope.headDim - r.rope.rotaryDims} pass unchanged)`;
    const scaling = r.rope.scaling === 'default' ? '' : `, ${r.rope.scaling} scaling ×${r.rope.factor}`;
    items.push(item('rope', 'RoPE', `rotates ${dims} by position (θ = ${r.rope.theta}${scaling}): q = `, vector(rotated)));
  }
  items.push(item('scale', 'Scale', scaleText(c)));
  if (r.softCap !== undefined) items.push(item('softCap', 'Soft-cap', `each scaled score s becomes ${r.softCap}·tanh(s / ${r.softCap}), before the mask: scores stay within ±${r.softCap}`));
  if (r.positionBias) items.push(item('bias', 'Position bias', 'B, the learned relative position bias of T5, is added'));
  items.push(item('mask', 'Mask', maskText(c)));
  items.push(item('softmax', 'Softmax', 'over the keys; masked keys get weight 0'));
  items.push(item('output', 'Sum', `Σ weight · v over the keys (the value vectors of kv head ${c.kvHead})`));
  return h('ol', { class: 'cv-stages', 'aria-label': 'The stages of this layer' }, ...items);
}
