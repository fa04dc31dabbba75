/** Pieces every architecture shares: weight upload per backend, streaming reads, input checks. */
import type { Backend, DeviceTensor } from '../backend';
import { toFloat16Bits } from '../cpu/reference/half';
import { packLayer } from '../../protocol/packing';
import { EngineError, type Remedy } from '../errors';
import type { ForwardEvent, ForwardRequest, ForwardWants, HiddenStack } from '../model';
import type { AttentionStack } from '../../protocol/run';
import { HostTensor, LazyTensor } from '../tensor';
import { type ProjectedAttention, releaseAttention } from './attention';
import { type LensHead, readLens } from './lens';

/**
 * One model's weights going to one backend: each lazy weight is read, uploaded and dropped in turn, so
 * the host holds one tensor at a time (a block of rows of it where the backend packs rows as it reads);
 * the uploads are remembered so that the model can free them.
 */
export class WeightUpload {
  readonly tensors: DeviceTensor[] = [];

  constructor(readonly backend: Backend) {}

  tensor(weight: LazyTensor | HostTensor): DeviceTensor {
    const uploaded = weight instanceof LazyTensor && weight.rows && this.backend.uploadRows
      ? this.backend.uploadRows(weight.rows)
      : this.backend.upload(weight instanceof LazyTensor ? weight.read() : weight);
    this.tensors.push(uploaded);
    return uploaded;
  }

  /** Every weight of a plain object or array (absent optional ones stay absent), uploaded in place. */
  tree<T>(tree: T): Uploaded<T> {
    if (tree instanceof LazyTensor) return this.tensor(tree) as Uploaded<T>;
    if (Array.isArray(tree)) return tree.map((t) => this.tree(t)) as Uploaded<T>;
    if (typeof tree === 'object' && tree !== null) {
      return Object.fromEntries(Object.entries(tree).map(([key, t]) => [key, this.tree(t)])) as Uploaded<T>;
    }
    return tree as Uploaded<T>;
  }
}

/**
 * A model's weights on each backend it has run on: uploaded on first use, the same handles afterwards,
 * and freed everywhere by `release` (a model evicted from the engine). A backend that is dropped is not
 * kept alive by the model.
 */
export class PerBackend<W> {
  private readonly uploads = new WeakMap<Backend, { weights: W; tensors: readonly DeviceTensor[] }>();
  private readonly backends = new Set<WeakRef<Backend>>();

  constructor(private readonly upload: (to: WeightUpload) => W) {}

  get(backend: Backend): W {
    let held = this.uploads.get(backend);
    if (!held) {
      const to = new WeightUpload(backend);
      try {
        held = { weights: this.upload(to), tensors: to.tensors };
      } catch (err) {
        backend.releaseWeights(to.tensors); // a file that changed, a device out of memory: nothing stays half uploaded
        throw err;
      }
      this.uploads.set(backend, held);
      this.backends.add(new WeakRef(backend));
    }
    return held.weights;
  }

  /** Frees the weights on every backend; a later `get` uploads them again. */
  release(): void {
    for (const ref of this.backends) {
      const backend = ref.deref();
      const held = backend && this.uploads.get(backend);
      if (held) backend.releaseWeights(held.tensors);
      if (backend) this.uploads.delete(backend);
    }
    this.backends.clear();
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
  const shape = {
    numHeads: options.numHeads, numKvHeads: options.numKvHeads, headDim: options.headDim,
    queryLength: result.probs.shape[1], keyLength: result.probs.shape[2],
  };
  const layerShape = { ...shape, causal: options.causal };
  // Packed rows for a causal layer: straight from the backend's memory where it can, else packed here.
  const packed = !half && !!wants.packedProbabilities && options.causal;
  const probsPacked = packed && backend.readPacked ? await backend.readPacked(result.probs, layerShape) : undefined;
  const detailed = !wants.detail || (wants.detail.stack === stack && wants.detail.layer === layer);
  const withScores = !!(wants.scores && result.scores && detailed);
  const withVectors = !!(wants.headVectors && detailed);
  const tensors: DeviceTensor[] = (half && backend.readHalf) || probsPacked ? [] : [result.probs];
  if (withScores) tensors.push(result.scores!);
  if (withVectors) tensors.push(attn.q, attn.k, attn.v, result.context);
  if (attn.valueNorms) tensors.push(attn.valueNorms);
  if (wants.hiddenStates && hidden) tensors.push(hidden.tensor);
  const trace = attn.trace ?? [];
  tensors.push(...trace.map((t) => t.tensor));
  const probsF16 = half && backend.readHalf ? await backend.readHalf(result.probs) : undefined;
  const values = await backend.read(tensors);
  let next = 0;
  const probs = probsF16 ? new Float32Array(0) : probsPacked ?? (packed ? packLayer(values[next++], layerShape) : values[next++]);
  const scores = withScores ? values[next++] : undefined;
  const vectors = withVectors ? { q: values[next++], k: values[next++], v: values[next++], headOutputs: values[next++] } : {};
  const valueNorms = attn.valueNorms ? values[next++] : undefined;
  const events: ForwardEvent[] = [{
    type: 'attention', stack, layer, ...shape, recipe,
    ...(half ? { probs: new Float32Array(0), probsF16: probsF16 ?? toFloat16Bits(probs) } : { probs, ...(packed && { packed }) }), scores, ...vectors,
    ...(valueNorms && { valueNorms }), step,
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

/** One layer of a stack: its output (the next residual stream) and its attention, to be read. */
export type StackLayer = (layer: number, x: DeviceTensor) => { out: DeviceTensor; attention: ProjectedAttention };

/**
 * Runs a stack's layers over the residual stream `x` (the stack now owns it), streaming hidden state 0
 * when asked, then each layer's attention with the hidden state after it (after the last layer only
 * with `hiddenAfterLast`: elsewhere a final norm comes first), and with ForwardWants.logitLens the
 * `lensHead` on each of those hidden states. Returns the last layer's output. However the stream ends
 * early (cancelled between layers, the reader leaving at a layer, a failure), the residual stream and
 * the layer being read are released.
 */
export async function* streamLayers(
  backend: Backend,
  stack: { readonly attention: AttentionStack; readonly hidden: HiddenStack; readonly layers: number; readonly hiddenAfterLast?: boolean; readonly lensHead?: LensHead },
  x: DeviceTensor, layer: StackLayer, request: Pick<ForwardRequest, 'wants' | 'signal' | 'step'>,
): AsyncGenerator<ForwardEvent, DeviceTensor> {
  const { wants, signal, step } = request;
  const top = stack.lensHead && wants.logitLens?.top;
  let finished = false;
  try {
    if (wants.hiddenStates) yield await readHidden(backend, stack.hidden, 0, x);
    if (top) yield await readLens(backend, stack.hidden, 0, x, stack.lensHead!, top, step);
    for (let l = 0; l < stack.layers; l++) {
      throwIfAborted(signal);
      const { out, attention } = layer(l, x);
      backend.release([x]);
      x = out;
      const hidden = l < stack.layers - 1 || stack.hiddenAfterLast ? { stack: stack.hidden, index: l + 1, tensor: x } : undefined;
      try {
        yield* await readLayer(backend, stack.attention, l, attention, wants, hidden, step);
      } finally {
        releaseAttention(backend, attention);
      }
      if (top) yield await readLens(backend, stack.hidden, l + 1, x, stack.lensHead!, top, step);
    }
    finished = true;
    return x;
  } finally {
    if (!finished) backend.release([x]);
  }
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
  const held = [final];
  try {
    if (wants.hiddenStates) yield await readHidden(backend, 'main', numLayers, final);
    if (wants.logits) {
      const raw = backend.linear(final, lmHead);
      held.push(raw);
      const logits = softCap === undefined ? raw : backend.softCap(raw, softCap);
      held.push(logits);
      yield await readLogits(backend, logits, step);
    }
  } finally {
    backend.release(held);
  }
}

/** Lazy weights, anywhere in a plain object or array, replaced by their uploads to one backend. */
export type Uploaded<T> = T extends LazyTensor ? DeviceTensor
  : T extends readonly unknown[] ? { [K in keyof T]: Uploaded<T[K]> }
  : T extends object ? { [K in keyof T]: Uploaded<T[K]> }
  : T;

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
