/** Pieces every architecture shares: weight upload per backend, the attention sub-block, streaming reads. */
import type { AttentionOptions, AttentionResult, Backend, DeviceTensor, RopeSpec, SplitPart } from '../backend';
import { EngineError } from '../errors';
import type { AttentionKind, ForwardEvent, ForwardWants, HiddenStack } from '../model';

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
}

/** Splits a fused q|k|v projection (RoPE on q and k when given) and attends. */
export function attendFused(
  backend: Backend, qkv: DeviceTensor, options: AttentionOptions, rope?: RopeSpec,
): ProjectedAttention {
  const { numHeads, numKvHeads, headDim } = options;
  const parts: SplitPart[] = [
    { width: numHeads * headDim, rope: !!rope },
    { width: numKvHeads * headDim, rope: !!rope },
    { width: numKvHeads * headDim },
  ];
  const [q, k, v] = backend.split(qkv, parts, rope);
  return { q, k, v, result: backend.attention(q, k, v, options), options };
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
  backend: Backend, kind: AttentionKind, layer: number, attn: ProjectedAttention, wants: ForwardWants, hidden?: PendingHidden,
): Promise<ForwardEvent[]> {
  const { result, options } = attn;
  const tensors: DeviceTensor[] = [result.probs];
  if (wants.scores && result.scores) tensors.push(result.scores);
  if (wants.headVectors) tensors.push(attn.q, attn.k, attn.v, result.context);
  if (wants.hiddenStates && hidden) tensors.push(hidden.tensor);
  const values = await backend.read(tensors);
  let next = 0;
  const probs = values[next++];
  const scores = wants.scores && result.scores ? values[next++] : undefined;
  const vectors = wants.headVectors ? { q: values[next++], k: values[next++], v: values[next++], headOutputs: values[next++] } : {};
  const events: ForwardEvent[] = [{
    type: 'attention', kind, layer,
    numHeads: options.numHeads, numKvHeads: options.numKvHeads, headDim: options.headDim,
    queryLength: result.probs.shape[1], keyLength: result.probs.shape[2],
    probs, scores, ...vectors,
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

export async function readLogits(backend: Backend, tensor: DeviceTensor): Promise<ForwardEvent> {
  const [data] = await backend.read([tensor]);
  return { type: 'logits', rows: tensor.shape[0], cols: tensor.shape[1], data };
}

export function releaseAttention(backend: Backend, attn: ProjectedAttention): void {
  const { q, k, v, result } = attn;
  backend.release([q, k, v, result.probs, result.context, ...(result.scores ? [result.scores] : [])]);
}

/** Checks ids against the vocabulary and the position limit before any work starts. */
export function checkIds(ids: readonly number[], vocabSize: number, maxPositions: number, what = 'input'): Int32Array {
  if (ids.length === 0) throw new EngineError('BAD_INPUT', `The ${what} has no tokens.`);
  if (ids.length > maxPositions) {
    throw new EngineError('TOO_MANY_TOKENS', `The ${what} has ${ids.length} tokens, but this model supports at most ${maxPositions}. Select less text or truncate.`);
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
