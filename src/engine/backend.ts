/**
 * The operations a transformer forward pass needs, implemented once per backend (CPU reference,
 * WebGPU). Models are written against this interface only. Tensors are opaque handles that live on
 * the backend (GPU buffers stay on the GPU between ops); `read` brings them back to the host, and
 * models call it once per layer with everything the stream needs.
 *
 * Layout conventions (all row-major, float32 compute):
 * - activations are 2-D [rows, columns]: [tokens, features];
 * - linear weights are [out, in] as in torch.nn.Linear (GPT-2's Conv1D [in, out] is transposed at load);
 * - per-head activations are packed [tokens, heads * headDim], head-major within a row.
 */
import type { HostTensor, RowSource } from './tensor';
import type { LayerShape } from '../protocol/packing';

export interface DeviceTensor {
  readonly shape: readonly number[];
}

export type PointwiseActivation = 'none' | 'gelu_erf' | 'gelu_tanh' | 'relu' | 'silu';

export interface LinearOptions {
  /** [out] added to every row. */
  readonly bias?: DeviceTensor;
  /** Applied after the bias. */
  readonly activation?: PointwiseActivation;
  /** [rows, out] added last (the residual connection), so `x + W·y` is one op. */
  readonly residual?: DeviceTensor;
}

/**
 * Rotate-half RoPE (HF layout) on the first `rotaryDims` of each head: pairs (i, i + rotaryDims/2)
 * rotated by position · invFreq[i]; the remaining headDim − rotaryDims dims pass unchanged (partial
 * rotary: GPT-NeoX's rotary_pct, Phi's partial_rotary_factor).
 */
export interface RopeSpec {
  /** [rotaryDims / 2] inverse frequencies, already scaled for the model's rope type. */
  readonly invFreq: Float32Array;
  readonly headDim: number;
  /** Leading dims of each head that rotate: 2 · invFreq.length, at most headDim. */
  readonly rotaryDims: number;
  /** Position of row 0 (non-zero when continuing from a key/value cache). */
  readonly positionOffset: number;
}

export interface SplitPart {
  readonly width: number;
  /** Apply RoPE to this part, which holds width / rope.headDim heads. */
  readonly rope?: boolean;
}

export interface AttentionOptions {
  readonly numHeads: number;
  /** Key/value heads; query head h reads kv head floor(h / (numHeads / numKvHeads)) (GQA). */
  readonly numKvHeads: number;
  readonly headDim: number;
  /** Multiplies q·k (head_dim^-0.5 for most models, query_pre_attn_scalar^-0.5 for Gemma, 1 for T5). */
  readonly scale: number;
  /**
   * Gemma 2's attention soft-cap: each scaled score s becomes cap·tanh(s / cap), before the position
   * bias and the mask (transformers' eager gemma2 caps, then adds the mask; no model has both a cap
   * and a position bias, and T5 adds its bias together with its mask, so the bias comes after).
   */
  readonly softCap?: number;
  /**
   * Causal mask: query i (absolute position p = i + keyLength - queryLength) sees keys up to its own
   * position. Masked scores are -Infinity; a row with every key masked gets probabilities 0.
   */
  readonly causal: boolean;
  /**
   * Sliding window: query at absolute position p also loses every key k ≤ p − window, so with the
   * causal mask it sees p − window < k ≤ p (transformers' sliding_window; window 1: itself only).
   * Positions are absolute, so this holds for cached decoding (fewer queries than keys) too.
   */
  readonly slidingWindow?: number;
  /** [numHeads, queryLength, keyLength] added to the (capped) scores before the mask (T5's relative bias). */
  readonly positionBias?: DeviceTensor;
  /** Also return the scores exactly as they enter the softmax. */
  readonly keepScores: boolean;
}

/** How q, k and v are split into heads. */
export type HeadLayout = Pick<AttentionOptions, 'numHeads' | 'numKvHeads' | 'headDim'>;

export interface AttentionResult {
  /** [numHeads, queryLength, keyLength], rows sum to 1. */
  readonly probs: DeviceTensor;
  /** [queryLength, numHeads * headDim]: each head's P·V, concatenated (the input of W_O). */
  readonly context: DeviceTensor;
  /** [numHeads, queryLength, keyLength] pre-softmax scores, when keepScores. */
  readonly scores?: DeviceTensor;
}

export interface BackendDescription {
  readonly kind: 'cpu' | 'webgpu';
  /** Human-readable: "CPU (JavaScript)", or the adapter's name. */
  readonly name: string;
}

export interface Backend {
  readonly description: BackendDescription;

  /** Uploads weights (F32, F16 or BF16; the backend decides how to store them). */
  upload(weight: HostTensor): DeviceTensor;
  /** The same for a 2-D weight read from disk a block of rows at a time, where the backend can. */
  uploadRows?(weight: RowSource): DeviceTensor;
  /** Uploads float32 activations or tables computed on the host. */
  fromFloat32(data: Float32Array, shape: readonly number[]): DeviceTensor;

  /** Rows `ids` of `table` [vocab, dim] → [ids.length, dim]. */
  gather(table: DeviceTensor, ids: Int32Array): DeviceTensor;
  /** x [rows, in] · wᵀ (w [out, in]) → [rows, out], then bias, activation, residual. */
  linear(x: DeviceTensor, weight: DeviceTensor, options?: LinearOptions): DeviceTensor;
  /** Elementwise a + b, same shapes. */
  add(a: DeviceTensor, b: DeviceTensor): DeviceTensor;
  /** Elementwise x · factor. */
  scale(x: DeviceTensor, factor: number): DeviceTensor;
  /** Elementwise cap · tanh(x / cap) (Gemma 2's final-logit soft-cap). */
  softCap(x: DeviceTensor, cap: number): DeviceTensor;
  /** Per row: (x - mean) / sqrt(var + eps) · weight + bias. */
  layerNorm(x: DeviceTensor, weight: DeviceTensor, bias: DeviceTensor, eps: number): DeviceTensor;
  /**
   * x / sqrt(mean(x²) + eps) · weight over each group of weight.length columns: a whole row, or each
   * head of a row when the weight has head_dim entries (Qwen3's and Gemma 3's per-head q/k norm).
   */
  rmsNorm(x: DeviceTensor, weight: DeviceTensor, eps: number): DeviceTensor;
  /** act(gate) · up, elementwise (SwiGLU with silu, gated GELU). */
  gated(gate: DeviceTensor, up: DeviceTensor, activation: PointwiseActivation): DeviceTensor;
  /** [a rows; b rows] → one tensor (a key/value cache growing by one step). */
  concatRows(a: DeviceTensor, b: DeviceTensor): DeviceTensor;
  /** Splits the columns of x [rows, Σ widths] into parts, applying RoPE to those that ask for it. */
  split(x: DeviceTensor, parts: readonly SplitPart[], rope?: RopeSpec): DeviceTensor[];
  /** q [Tq, H·D], k and v [Tk, Hkv·D] → probabilities, context and (optionally) scores. */
  attention(q: DeviceTensor, k: DeviceTensor, v: DeviceTensor, options: AttentionOptions): AttentionResult;
  /**
   * ‖W_O,h · v_j‖ for each query head h and key j → [numHeads, keys] (cpu/reference/valueNorms.ts):
   * v [keys, kvHeads · headDim] as `attention` takes it, o the output projection [out, heads · headDim].
   */
  valueNorms(v: DeviceTensor, o: DeviceTensor, heads: HeadLayout): DeviceTensor;

  /** Brings tensors back to the host, in order. One call per layer: it is the synchronization point. */
  read(tensors: readonly DeviceTensor[]): Promise<Float32Array[]>;
  /** A causal layer's probabilities as packed rows (protocol/packing.ts), read without a full copy, where the backend can. */
  readPacked?(probs: DeviceTensor, shape: LayerShape): Promise<Float32Array>;
  /**
   * Optional: one tensor as IEEE float16 bits, converted on the backend so that only half the bytes
   * reach the host (compact probabilities, ForwardWants.probabilityFormat 'f16').
   */
  readHalf?(tensor: DeviceTensor): Promise<Uint16Array>;
  /**
   * Frees tensors that are no longer needed. Releasing a tensor again does nothing, so a forward pass
   * may release everything it could still hold when it ends early. Weights are left alone.
   */
  release(tensors: readonly DeviceTensor[]): void;
  /** Frees uploaded weights (a model the engine evicts); `dispose` frees everything at once. */
  releaseWeights(weights: readonly DeviceTensor[]): void;
  /**
   * The tensors handed out and not released, weights included (not the backend's own caches): a run
   * that ends, however it ends, gives back what it took.
   */
  liveTensors(): LiveTensors;
  dispose(): void;
}

export interface LiveTensors {
  readonly count: number;
  readonly bytes: number;
}

/** valueNorms' inputs: v holds whole kv heads, o has one column per query head dimension, heads group evenly. */
export function checkValueNormShapes(v: DeviceTensor, o: DeviceTensor, heads: HeadLayout): void {
  const { numHeads, numKvHeads, headDim } = heads;
  if (numHeads % numKvHeads !== 0) throw new Error(`valueNorms: ${numHeads} heads do not group over ${numKvHeads} kv heads`);
  if (v.shape[1] !== numKvHeads * headDim) throw new Error(`valueNorms: v has ${v.shape[1]} columns, not ${numKvHeads} kv heads of ${headDim}`);
  if (o.shape.length !== 2 || o.shape[1] !== numHeads * headDim) throw new Error(`valueNorms: the output projection [${o.shape}] does not take ${numHeads} heads of ${headDim}`);
}
