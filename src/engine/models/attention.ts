/**
 * The attention sub-block every model shares: q, k and v from one fused projection, the optional q/k
 * RMSNorm and RoPE, the key/value cache, the attention op itself and, for the one layer a run traces,
 * every intermediate tensor (ForwardWants.trace). Each layer also carries its AttentionRecipe, the
 * description of what it computes that the views show.
 */
import type { AttentionOptions, AttentionResult, Backend, DeviceTensor, RopeSpec, SplitPart } from '../backend';
import type { LayerCache } from '../kvCache';
import type { ForwardWants } from '../model';
import type { AttentionRecipe, RopeRecipe, TraceStageName } from '../../protocol/run';

/** RMSNorm weights of q and k: [head_dim] each for a per-head norm, [heads · head_dim] for the whole projection. */
export interface QkNorm {
  readonly q: DeviceTensor;
  readonly k: DeviceTensor;
  readonly eps: number;
}

/** Everything one layer's attention needs besides its input. */
export interface AttentionSetup {
  readonly options: AttentionOptions;
  readonly recipe: AttentionRecipe;
  readonly rope?: RopeSpec;
  readonly qkNorm?: QkNorm;
}

/** Builds a setup whose recipe says what the options, RoPE and q/k norm do. */
export function attentionSetup(
  options: AttentionOptions,
  how: { scaleSource: AttentionRecipe['scaleSource']; rope?: { spec: RopeSpec; recipe: RopeRecipe }; qkNorm?: QkNorm & { kind: 'per-head' | 'whole-projection' } },
): AttentionSetup {
  const recipe: AttentionRecipe = {
    scale: options.scale,
    scaleSource: how.scaleSource,
    causal: options.causal,
    ...(options.softCap !== undefined ? { softCap: options.softCap } : {}),
    ...(options.slidingWindow !== undefined ? { slidingWindow: options.slidingWindow } : {}),
    ...(how.rope ? { rope: how.rope.recipe } : {}),
    ...(how.qkNorm ? { qkNorm: how.qkNorm.kind } : {}),
    ...(options.positionBias ? { positionBias: 'relative' as const } : {}),
  };
  return { options, recipe, rope: how.rope?.spec, qkNorm: how.qkNorm };
}

export interface TracedTensor {
  readonly name: TraceStageName;
  readonly tensor: DeviceTensor;
}

export interface ProjectedAttention {
  readonly q: DeviceTensor;
  readonly k: DeviceTensor;
  readonly v: DeviceTensor;
  readonly result: AttentionResult;
  readonly options: AttentionOptions;
  readonly recipe: AttentionRecipe;
  /** k and v belong to a cache (or are shared cross-attention keys) and must outlive this layer. */
  readonly cached?: boolean;
  /** Intermediates kept for the trace, released with the attention. */
  readonly scratch: readonly DeviceTensor[];
  /** The traced layer's stages, in order of computation. */
  readonly trace?: readonly TracedTensor[];
  /** ForwardWants.valueNorms: [heads, keys], ‖W_O,h · v_j‖. */
  readonly valueNorms?: DeviceTensor;
}

/** With ForwardWants.valueNorms, the layer's ‖W_O,h · v_j‖ (Backend.valueNorms), read and released with its attention. */
export function withValueNorms(backend: Backend, attn: ProjectedAttention, o: DeviceTensor, wants: ForwardWants): ProjectedAttention {
  if (!wants.valueNorms) return attn;
  try {
    return { ...attn, valueNorms: backend.valueNorms(attn.v, o, attn.options) };
  } catch (err) {
    releaseAttention(backend, attn);
    throw err;
  }
}

/** What a block of ops holds while it runs (see `tensorScope`). */
export interface TensorScope {
  /** A tensor freed when the block ends, however it ends. */
  temp(t: DeviceTensor): DeviceTensor;
  /** An attention that goes to the caller, freed only if a later op of the block fails. */
  attention(a: ProjectedAttention): ProjectedAttention;
}

/**
 * Runs a block of ops (a layer, an embedding) so that an op that fails — a device out of memory, the
 * kernels' memory limit, a lost GPU — leaves nothing of the block held: a leaked intermediate would
 * stay in the backend's memory until the engine restarts.
 */
export function tensorScope<T>(backend: Backend, block: (hold: TensorScope) => T): T {
  const temps: DeviceTensor[] = [];
  const attentions: ProjectedAttention[] = [];
  try {
    return block({ temp: (t) => (temps.push(t), t), attention: (a) => (attentions.push(a), a) });
  } catch (err) {
    for (const a of attentions) releaseAttention(backend, a);
    throw err;
  } finally {
    backend.release(temps);
  }
}

/**
 * Splits a fused q|k|v projection, applies the q/k norm and RoPE, and attends, over the cached keys
 * and values too when a layer cache is given (the cache then owns k and v). Untraced layers without a
 * q/k norm take the one-op path: split and RoPE together.
 */
export function attendFused(backend: Backend, qkv: DeviceTensor, setup: AttentionSetup, cache?: LayerCache, traced = false): ProjectedAttention {
  const { numHeads, numKvHeads, headDim } = setup.options;
  const widths = [numHeads * headDim, numKvHeads * headDim, numKvHeads * headDim];
  const { rope, qkNorm } = setup;
  if (!qkNorm && !traced) {
    const [q, k, v] = backend.split(qkv, widths.map((width, i): SplitPart => ({ width, rope: i < 2 && !!rope })), rope);
    return attendProjected(backend, q, k, v, setup, { cache });
  }
  const scratch: DeviceTensor[] = [];
  const trace: TracedTensor[] | undefined = traced ? [] : undefined;
  // Intermediates a trace reads later are kept; otherwise they go at once.
  const spend = (t: DeviceTensor) => (traced ? scratch.push(t) : backend.release([t]));
  let [q, k, v] = backend.split(qkv, widths.map((width) => ({ width })));
  trace?.push({ name: 'q', tensor: q }, { name: 'k', tensor: k }, { name: 'v', tensor: v });
  try {
    // One op at a time, each result held before the next op: a failure frees exactly what is live.
    if (qkNorm) {
      const qn = backend.rmsNorm(q, qkNorm.q, qkNorm.eps);
      spend(q);
      q = qn;
      const kn = backend.rmsNorm(k, qkNorm.k, qkNorm.eps);
      spend(k);
      k = kn;
      trace?.push({ name: 'qNorm', tensor: q }, { name: 'kNorm', tensor: k });
    }
    if (rope) {
      const [qr] = backend.split(q, [{ width: q.shape[1], rope: true }], rope);
      spend(q);
      q = qr;
      const [kr] = backend.split(k, [{ width: k.shape[1], rope: true }], rope);
      spend(k);
      k = kr;
      trace?.push({ name: 'qRope', tensor: q }, { name: 'kRope', tensor: k });
    }
  } catch (err) {
    backend.release([...new Set([q, k, v, ...scratch])]);
    throw err;
  }
  return attendProjected(backend, q, k, v, setup, { cache, trace, scratch });
}

/**
 * Attention over projected q, k, v: the key/value cache (`cache`), or keys and values that outlive the
 * layer (`cached`: cross-attention), and the score stages of a trace (`trace` holds the stages so far).
 */
function attendProjected(
  backend: Backend, q: DeviceTensor, k: DeviceTensor, v: DeviceTensor, setup: AttentionSetup,
  how: { cache?: LayerCache; cached?: boolean; trace?: TracedTensor[]; scratch?: DeviceTensor[] },
): ProjectedAttention {
  const scratch = how.scratch ?? [];
  const trace = how.trace;
  const cache = how.cache;
  const options = trace ? { ...setup.options, keepScores: true } : setup.options;
  const cached = !!cache || !!how.cached;
  // Whether k and v belong to someone else (cross-attention's caller, or the cache once it has them).
  let kvOwned = !!how.cached;
  let result: AttentionResult | undefined;
  try {
    if (cache?.k && cache.v) {
      const fullK = backend.concatRows(cache.k, k);
      let fullV: DeviceTensor;
      try {
        fullV = backend.concatRows(cache.v, v);
      } catch (err) {
        backend.release([fullK]);
        throw err;
      }
      backend.release([cache.k, cache.v]);
      // This step's own rows: a trace shows them (kRope, v), then all keys and values as 'keys'/'values'.
      if (trace) scratch.push(k, v);
      else backend.release([k, v]);
      [k, v] = [fullK, fullV];
      trace?.push({ name: 'keys', tensor: k }, { name: 'values', tensor: v });
    }
    if (cache) {
      [cache.k, cache.v] = [k, v]; // the cache frees them
      kvOwned = true;
    }
    result = backend.attention(q, k, v, options);
    if (trace) {
      for (const stage of scoreStages(backend, q, k, v, setup.options)) {
        scratch.push(stage.tensor);
        trace.push(stage);
      }
      trace.push({ name: 'masked', tensor: result.scores! }, { name: 'probs', tensor: result.probs }, { name: 'context', tensor: result.context });
    }
  } catch (err) {
    // An op that fails (a buffer over the GPU's limit, a lost device) takes nothing of this layer with it.
    const live = [q, ...(kvOwned ? [] : [k, v]), ...scratch, ...(result ? [result.probs, result.context, ...(result.scores ? [result.scores] : [])] : [])];
    backend.release([...new Set(live)]);
    throw err;
  }
  return { q, k, v, result, options, recipe: setup.recipe, cached, scratch, trace };
}

/** Cross-attention: queries from the decoder over the encoder's keys and values, which outlive the layer. */
export function attendCross(backend: Backend, q: DeviceTensor, cross: { k: DeviceTensor; v: DeviceTensor }, setup: AttentionSetup, traced: boolean): ProjectedAttention {
  const trace: TracedTensor[] | undefined = traced ? [{ name: 'q', tensor: q }, { name: 'k', tensor: cross.k }, { name: 'v', tensor: cross.v }] : undefined;
  return attendProjected(backend, q, cross.k, cross.v, setup, { cached: true, trace });
}

/**
 * The scores before the mask, one stage per step the layer has: scaled (q·kᵀ · scale), soft-capped,
 * biased. Each is the scores output of the attention op with the later steps and the mask turned off,
 * so every backend computes them with the very kernel the layer uses.
 */
function* scoreStages(backend: Backend, q: DeviceTensor, k: DeviceTensor, v: DeviceTensor, options: AttentionOptions): Generator<TracedTensor> {
  const unmasked: AttentionOptions = { ...options, causal: false, slidingWindow: undefined, softCap: undefined, positionBias: undefined, keepScores: true };
  const steps: { name: TraceStageName; options: AttentionOptions }[] = [{ name: 'scaled', options: unmasked }];
  if (options.softCap !== undefined) steps.push({ name: 'softCapped', options: { ...unmasked, softCap: options.softCap } });
  if (options.positionBias) steps.push({ name: 'biased', options: { ...unmasked, softCap: options.softCap, positionBias: options.positionBias } });
  // One at a time: the caller holds each stage before the next is computed (and can free it if that fails).
  for (const { name, options: o } of steps) {
    const { probs, context, scores } = backend.attention(q, k, v, o);
    backend.release([probs, context]);
    yield { name, tensor: scores! };
  }
}

/** Frees a layer's attention tensors once they have been read (never cached keys and values). */
export function releaseAttention(backend: Backend, attn: ProjectedAttention): void {
  const { q, k, v, result } = attn;
  const tensors = new Set<DeviceTensor>([q, ...(attn.cached ? [] : [k, v]), result.probs, result.context, ...attn.scratch]);
  if (result.scores) tensors.add(result.scores);
  if (attn.valueNorms) tensors.add(attn.valueNorms);
  backend.release([...tensors]);
}
