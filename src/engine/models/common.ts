/** Pieces every architecture shares: weight upload per backend, streaming reads, input checks. */
import type { Backend, DeviceTensor } from '../backend';
import { toFloat16Bits } from '../cpu/reference/half';
import { EngineError, type Remedy } from '../errors';
import type { ForwardEvent, ForwardWants, HiddenStack } from '../model';
import type { AttentionStack } from '../../protocol/run';
import type { HostTensor } from '../tensor';
import type { ProjectedAttention } from './attention';

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

export interface PendingHidden {
  readonly stack: HiddenStack;
  readonly index: number;
  readonly tensor: DeviceTensor;
}

/** Whether ForwardWants.trace names this layer. */
export function isTraced(wants: ForwardWants, stack: AttentionStack, layer: number): boolean {
  const trace = wants.trace;
  if (!trace) return false;
  return 'everyLayer' in trace || (trace.stack === stack && trace.layer === layer);
}

/**
 * Reads one layer's results in a single backend round trip (probabilities first) and turns them into
 * stream events: the attention, then the trace when this layer is traced. The hidden state rides along
 * when it was asked for.
 */
export async function readLayer(
  backend: Backend, stack: AttentionStack, layer: number, attn: ProjectedAttention, wants: ForwardWants, hidden?: PendingHidden, step?: number,
): Promise<ForwardEvent[]> {
  const { result, options, recipe } = attn;
  const half = wants.probabilityFormat === 'f16';
  const detailed = !wants.detail || (wants.detail.stack === stack && wants.detail.layer === layer);
  const withScores = !!(wants.scores && result.scores && detailed);
  const withVectors = !!(wants.headVectors && detailed);
  const tensors: DeviceTensor[] = half && backend.readHalf ? [] : [result.probs];
  if (withScores) tensors.push(result.scores!);
  if (withVectors) tensors.push(attn.q, attn.k, attn.v, result.context);
  if (wants.hiddenStates && hidden) tensors.push(hidden.tensor);
  const trace = attn.trace ?? [];
  tensors.push(...trace.map((t) => t.tensor));
  const probsF16 = half && backend.readHalf ? await backend.readHalf(result.probs) : undefined;
  const values = await backend.read(tensors);
  let next = 0;
  const probs = probsF16 ? new Float32Array(0) : values[next++];
  const scores = withScores ? values[next++] : undefined;
  const vectors = withVectors ? { q: values[next++], k: values[next++], v: values[next++], headOutputs: values[next++] } : {};
  const shape = {
    numHeads: options.numHeads, numKvHeads: options.numKvHeads, headDim: options.headDim,
    queryLength: result.probs.shape[1], keyLength: result.probs.shape[2],
  };
  const events: ForwardEvent[] = [{
    type: 'attention', stack, layer, ...shape, recipe,
    ...(half ? { probs: new Float32Array(0), probsF16: probsF16 ?? toFloat16Bits(probs) } : { probs }), scores, ...vectors, step,
  }];
  if (wants.hiddenStates && hidden) {
    events.push({ type: 'hidden', stack: hidden.stack, index: hidden.index, rows: hidden.tensor.shape[0], cols: hidden.tensor.shape[1], data: values[next++] });
  }
  if (attn.trace) {
    const stages = trace.map((t) => ({ name: t.name, shape: t.tensor.shape, data: values[next++] }));
    events.push({ type: 'trace', stack, layer, ...shape, recipe, stages, step });
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

/**
 * A decoder-only model's tail: the final-norm hidden state (hidden_states.L) and the LM head's logits,
 * soft-capped (cap · tanh(x / cap)) when the model says so (Gemma 2's final_logit_softcapping).
 */
export async function* streamFinal(
  backend: Backend, final: DeviceTensor, lmHead: DeviceTensor, numLayers: number, wants: ForwardWants, step?: number, softCap?: number,
): AsyncGenerator<ForwardEvent> {
  if (wants.hiddenStates) yield await readHidden(backend, 'main', numLayers, final);
  if (wants.logits) {
    const raw = backend.linear(final, lmHead);
    const logits = softCap === undefined ? raw : backend.softCap(raw, softCap);
    yield await readLogits(backend, logits, step);
    backend.release(logits === raw ? [raw] : [raw, logits]);
  }
  backend.release([final]);
}

/** Host tensors, anywhere in a plain object or array, replaced by their uploads to one backend. */
export type Uploaded<T> = T extends HostTensor ? DeviceTensor
  : T extends readonly unknown[] ? { [K in keyof T]: Uploaded<T[K]> }
  : T extends object ? { [K in keyof T]: Uploaded<T[K]> }
  : T;

function isHostTensor(x: unknown): x is HostTensor {
  return typeof x === 'object' && x !== null && 'dtype' in x && 'shape' in x && 'data' in x;
}

/** Uploads every host tensor of a weight tree (objects, arrays, absent optional tensors) to a backend. */
export function uploadTree<T>(backend: Backend, tree: T): Uploaded<T> {
  if (isHostTensor(tree)) return backend.upload(tree) as Uploaded<T>;
  if (Array.isArray(tree)) return tree.map((t) => uploadTree(backend, t)) as Uploaded<T>;
  if (typeof tree === 'object' && tree !== null) {
    return Object.fromEntries(Object.entries(tree).map(([key, t]) => [key, uploadTree(backend, t)])) as Uploaded<T>;
  }
  return tree as Uploaded<T>;
}

/**
 * Checks ids against the vocabulary and the position limit before any work starts. `offset` tokens are
 * already in a key/value cache: together with the new ones they must fit the limit.
 */
export function checkIds(ids: readonly number[], vocabSize: number, maxPositions: number, what = 'input', offset = 0, moreRemedies: readonly Remedy[] = []): Int32Array {
  if (ids.length === 0) throw new EngineError('BAD_INPUT', `The ${what} has no tokens.`);
  const tokens = ids.length + offset;
  if (tokens > maxPositions) {
    const counted = offset ? `${tokens} tokens with the ${offset} already generated` : `${tokens} tokens`;
    throw new EngineError('TOO_MANY_TOKENS', `The ${what} has ${counted}, but this model supports at most ${maxPositions}.`, {
      remedies: ['shorter-input', ...moreRemedies], details: { part: what === 'target' ? 'target' : 'input', tokens, limit: maxPositions },
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
