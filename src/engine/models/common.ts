/** Pieces every architecture shares: weight upload per backend, the attention sub-block, streaming reads. */
import type { AttentionOptions, AttentionResult, Backend, DeviceTensor, RopeSpec, SplitPart } from '../backend';
import { toFloat16Bits } from '../cpu/reference/half';
import { EngineError } from '../errors';
import type { ForwardEvent, ForwardWants, HiddenStack } from '../model';
import type { AttentionStack } from '../../protocol/run';
import type { LayerCache } from '../kvCache';

/** Uploads a model's weights once per backend and hands out the same handles afterwards. */
export class PerBackend<W> {
  private readonly cache = new WeakMap<Backend, W>();
  constructor(private readonly upload: (backend: Backend) => W) {}

  get(backend: Backend): W {
    let weights = this.cache.get(backend);
    if (!weights) {
      weights = this.upload(backend);
      this.cache.set(backend, weights);
    }
    return weights;
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new EngineError('CANCELLED', 'The run was cancelled.');
}

export interface ProjectedAttention {
  readonly q: DeviceTensor;
  readonly k: DeviceTensor;
  readonly v: DeviceTensor;
  readonly result: AttentionResult;
  readonly options: AttentionOptions;
  /** k and v belong to a cache (or are shared cross-attention keys) and must outlive this layer. */
  readonly cached?: boolean;
}

/** Appends new keys/values to a layer's cache and returns the full keys/values to attend over. */
function extendCache(backend: Backend, cache: LayerCache | undefined, k: DeviceTensor, v: DeviceTensor): { k: DeviceTensor; v: DeviceTensor } {
  if (!cache) return { k, v };
  if (cache.k && cache.v) {
    const fullK = backend.concatRows(cache.k, k);
    const fullV = backend.concatRows(cache.v, v);
    backend.release([cache.k, cache.v, k, v]);
    k = fullK;
    v = fullV;
  }
  cache.k = k;
  cache.v = v;
  return { k, v };
}

/**
 * Splits a fused q|k|v projection (RoPE on q and k when given) and attends, over the cached keys and
 * values too when a layer cache is given (the cache then owns k and v).
 */
export function attendFused(
  backend: Backend, qkv: DeviceTensor, options: AttentionOptions, rope?: RopeSpec, cache?: LayerCache,
): ProjectedAttention {
  const { numHeads, numKvHeads, headDim } = options;
  const parts: SplitPart[] = [
    { width: numHeads * headDim, rope: !!rope },
    { width: numKvHeads * headDim, rope: !!rope },
    { width: numKvHeads * headDim },
  ];
  const [q, newK, newV] = backend.split(qkv, parts, rope);
  const { k, v } = extendCache(backend, cache, newK, newV);
  return { q, k, v, result: backend.attention(q, k, v, options), options, cached: !!cache };
}

export interface PendingHidden {
  readonly stack: HiddenStack;
  readonly index: number;
  readonly tensor: DeviceTensor;
}

/**
 * Reads one layer's results in a single backend round trip (probabilities first) and turns them into
 * stream events. The hidden state rides along when it was asked for.
 */
export async function readLayer(
  backend: Backend, stack: AttentionStack, layer: number, attn: ProjectedAttention, wants: ForwardWants, hidden?: PendingHidden, step?: number,
): Promise<ForwardEvent[]> {
  const { result, options } = attn;
  const half = wants.probabilityFormat === 'f16';
  const detailed = !wants.detail || (wants.detail.stack === stack && wants.detail.layer === layer);
  const withScores = !!(wants.scores && result.scores && detailed);
  const withVectors = !!(wants.headVectors && detailed);
  const tensors: DeviceTensor[] = half && backend.readHalf ? [] : [result.probs];
  if (withScores) tensors.push(result.scores!);
  if (withVectors) tensors.push(attn.q, attn.k, attn.v, result.context);
  if (wants.hiddenStates && hidden) tensors.push(hidden.tensor);
  const probsF16 = half && backend.readHalf ? await backend.readHalf(result.probs) : undefined;
  const values = await backend.read(tensors);
  let next = 0;
  const probs = probsF16 ? new Float32Array(0) : values[next++];
  const scores = withScores ? values[next++] : undefined;
  const vectors = withVectors ? { q: values[next++], k: values[next++], v: values[next++], headOutputs: values[next++] } : {};
  const events: ForwardEvent[] = [{
    type: 'attention', stack, layer,
    numHeads: options.numHeads, numKvHeads: options.numKvHeads, headDim: options.headDim,
    queryLength: result.probs.shape[1], keyLength: result.probs.shape[2],
    ...(half ? { probs: new Float32Array(0), probsF16: probsF16 ?? toFloat16Bits(probs) } : { probs }), scores, ...vectors, step,
  }];
  if (wants.hiddenStates && hidden) {
    events.push({ type: 'hidden', stack: hidden.stack, index: hidden.index, rows: hidden.tensor.shape[0], cols: hidden.tensor.shape[1], data: values[next++] });
  }
  return events;
}

export async function readHidden(backend: Backend, stack: HiddenStack, index: number, tensor: DeviceTensor): Promise<ForwardEvent> {
  const [data] = await backend.read([tensor]);
  return { type: 'hidden', stack, index, rows: tensor.shape[0], cols: tensor.shape[1], data };
}

export async function readLogits(backend: Backend, tensor: DeviceTensor, step?: number): Promise<ForwardEvent> {
  const [data] = await backend.read([tensor]);
  return { type: 'logits', rows: tensor.shape[0], cols: tensor.shape[1], data, step };
}

/** A decoder-only model's tail: the final-norm hidden state (hidden_states.L) and the LM head's logits. */
export async function* streamFinal(
  backend: Backend, final: DeviceTensor, lmHead: DeviceTensor, numLayers: number, wants: ForwardWants, step?: number,
): AsyncGenerator<ForwardEvent> {
  if (wants.hiddenStates) yield await readHidden(backend, 'main', numLayers, final);
  if (wants.logits) {
    const logits = backend.linear(final, lmHead);
    yield await readLogits(backend, logits, step);
    backend.release([logits]);
  }
  backend.release([final]);
}

export function releaseAttention(backend: Backend, attn: ProjectedAttention): void {
  const { q, k, v, result } = attn;
  backend.release([q, ...(attn.cached ? [] : [k, v]), result.probs, result.context, ...(result.scores ? [result.scores] : [])]);
}

/** Checks ids against the vocabulary and the position limit before any work starts. */
export function checkIds(ids: readonly number[], vocabSize: number, maxPositions: number, what = 'input'): Int32Array {
  if (ids.length === 0) throw new EngineError('BAD_INPUT', `The ${what} has no tokens.`);
  if (ids.length > maxPositions) {
    throw new EngineError('TOO_MANY_TOKENS', `The ${what} has ${ids.length} tokens, but this model supports at most ${maxPositions}.`, {
      remedies: ['shorter-input'], details: { part: what === 'target' ? 'target' : 'input', tokens: ids.length, limit: maxPositions },
    });
  }
  ids.forEach((id, i) => {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new EngineError('BAD_INPUT', `Token id ${id} at position ${i} is outside the vocabulary (0 … ${vocabSize - 1}).`);
    }
  });
  return Int32Array.from(ids);
}

/** Positions offset..offset+count-1 as gather indices. */
export function positions(count: number, offset = 0): Int32Array {
  return Int32Array.from({ length: count }, (_, i) => i + offset);
}
