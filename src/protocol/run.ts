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
