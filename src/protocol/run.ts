/**
 * What a run is, in the words every room shares: the model, its tokens, the backend it ran on, its
 * timings and the tokens it generated. Declared once here, at the bottom of the house, so the engine,
 * the host, the CLI and the panel all mean the same thing by each name.
 */

export type ModelKind = 'decoder-only' | 'encoder-only' | 'encoder-decoder';

/** Which attention of the model a layer belongs to: `self` for decoder-only and encoder-only models. */
export type AttentionStack = 'self' | 'encoder' | 'decoder' | 'cross';

export interface ModelInfo {
  /** Folder name, Hub id or "demo". */
  readonly name: string;
  readonly modelType: string;
  readonly kind: ModelKind;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly hiddenSize: number;
  readonly vocabSize: number;
  /** Longest input the model's position scheme supports (learned positions are a hard limit). */
  readonly maxPositions: number;
  /** True when self-attention masks future positions. */
  readonly causal: boolean;
  /** True when the model takes a target (decoder ids) and has encoder, decoder and cross attention. */
  readonly crossAttention: boolean;
  /** Encoder-decoder models: the decoder input starts with this id (teacher forcing shifts the labels right). */
  readonly decoderStartTokenId?: number;
  /** Generation stops at any of these ids. */
  readonly eosTokenIds: readonly number[];
  /** The built-in demo's weights are random: it teaches the mechanics, not language. */
  readonly untrained: boolean;
}

/**
 * How one attention layer really computes its probabilities, so a view can show each stage the model
 * has (and only those): q/k norm → RoPE → q·kᵀ · scale → soft-cap → + position bias → mask → softmax.
 */
export interface AttentionRecipe {
  /** The factor q·k is multiplied by. */
  readonly scale: number;
  /** Where `scale` comes from: head_dim^-0.5, Gemma's query_pre_attn_scalar^-0.5, or none (T5: 1). */
  readonly scaleSource: 'head_dim' | 'query_pre_attn_scalar' | 'none';
  /** Queries see keys at their own position and before (decoders); false: every key (encoders, cross-attention). */
  readonly causal: boolean;
  /** Gemma 2: each scaled score s becomes softCap · tanh(s / softCap), before the mask. */
  readonly softCap?: number;
  /**
   * Sliding window (Mistral, Gemma's local layers, Phi-3, Qwen with use_sliding_window): the query at
   * position p sees only keys k with p − slidingWindow < k ≤ p. Absent: full (causal) attention.
   */
  readonly slidingWindow?: number;
  /** Rotary position embedding of q and k, absent for models with learned or relative positions. */
  readonly rope?: RopeRecipe;
  /**
   * RMSNorm of q and k before RoPE: over each head's head_dim values (Qwen3, Gemma 3) or over the
   * whole projection of all heads at once (OLMo 2).
   */
  readonly qkNorm?: 'per-head' | 'whole-projection';
  /** T5's learned relative position bias, added to the scores before the mask (after any soft-cap). */
  readonly positionBias?: 'relative';
}

/** Rotate-half RoPE as one layer applies it. */
export interface RopeRecipe {
  /** The first rotaryDims of each head rotate, in pairs (i, i + rotaryDims/2); the rest pass unchanged. */
  readonly rotaryDims: number;
  readonly headDim: number;
  /** rope_theta (the base of the frequencies) of this layer. */
  readonly theta: number;
  /** The rope_type: default, linear (positions ÷ factor) or llama3 (frequency-dependent). */
  readonly scaling: 'default' | 'linear' | 'llama3';
  /** linear and llama3: the scaling factor. */
  readonly factor?: number;
  /** [rotaryDims / 2] the frequencies actually used (after scaling): pair i turns by position · inverseFrequencies[i]. */
  readonly inverseFrequencies: Float32Array;
}

/**
 * The intermediate tensors of one traced attention layer, in order of computation (ForwardWants.trace).
 * Vectors are [rows, heads · head_dim] (q: the new rows; k, v: the new rows, or the encoder's for
 * cross-attention); scores are [heads, queries, keys].
 * - q, k, v: the projections as computed, before any norm or RoPE;
 * - qNorm, kNorm: after the q/k RMSNorm (recipe.qkNorm);
 * - qRope, kRope: after RoPE (recipe.rope);
 * - keys, values: every key and value attended when earlier steps' are cached (generation), [keyLength, kvHeads · head_dim];
 * - scaled: q·kᵀ · scale for every query and key, nothing masked;
 * - softCapped: softCap · tanh(scaled / softCap) (recipe.softCap);
 * - biased: plus the position bias (recipe.positionBias);
 * - masked: what enters the softmax: masked positions (causal, sliding window) are −∞;
 * - probs: the attention probabilities; context: each head's P·V [queries, heads · head_dim].
 */
export type TraceStageName =
  | 'q' | 'k' | 'v' | 'qNorm' | 'kNorm' | 'qRope' | 'kRope' | 'keys' | 'values'
  | 'scaled' | 'softCapped' | 'biased' | 'masked' | 'probs' | 'context';

/** [start, end) in UTF-16 code units of the original text; null for an added special token. */
export type Offset = readonly [number, number] | null;

/** A tokenized text: ids, the tokenizer's token strings, and where each token is in the text. */
export interface TokenizedText {
  readonly ids: readonly number[];
  readonly tokens: readonly string[];
  readonly offsetsUtf16: readonly Offset[];
  /** true where the token is a special token (BOS, [CLS], …). */
  readonly special: readonly boolean[];
}

/** Which backend a run used, and why not WebGPU when it did not. */
export interface BackendReport {
  readonly used: 'cpu' | 'webgpu';
  /** The adapter's name (with the self-benchmark's verdict on a software adapter), or the CPU kernels'. */
  readonly adapter: string;
  readonly fallbackReason: string | null;
}

export interface Timings {
  readonly tokenizeMs: number;
  readonly firstLayerMs: number;
  readonly forwardMs: number;
}

/** One token chosen by generation at `step` (0: the first new token). */
export interface GeneratedToken {
  readonly step: number;
  readonly id: number;
  /** The token's string (SentencePiece and byte-level markers included, as the tokenizer has it). */
  readonly text: string;
}

/** Why a run failed: each engine error has one, and the panel and the editor branch on it. */
export type ErrorCode =
  | 'BAD_MODEL_FOLDER'
  | 'BAD_CONFIG'
  | 'BAD_SAFETENSORS'
  | 'MISSING_TENSOR'
  | 'SHAPE_MISMATCH'
  | 'UNSUPPORTED_ARCHITECTURE'
  | 'BAD_TOKENIZER'
  | 'BAD_INPUT'
  | 'TOO_MANY_TOKENS'
  | 'TOO_MUCH_MEMORY'
  | 'ENGINE_CRASHED'
  | 'NO_GPU'
  | 'GPU_FAILURE'
  | 'CANCELLED'
  | 'MODEL_NOT_CACHED'
  | 'OFFLINE'
  | 'DOWNLOAD_FAILED'
  /** A bug: anything that was not an engine error. */
  | 'INTERNAL';
