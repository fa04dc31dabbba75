/**
 * The panel asks for what it draws; whoever holds the run's weights answers (the host in VS Code, the
 * page itself in a standalone report). Each query names one view's data; each reply carries only
 * that, as typed arrays — float32 where it is small, float16 bits where it is large.
 */
import type { AttentionStack } from './run';

/** A matrix stack [heads, rows, cols] as it travels. */
export interface WireMatrices {
  readonly heads: number;
  readonly rows: number;
  readonly cols: number;
  /** float32 values, or float16 bits (then `approximate`: each value within 2⁻¹² relative). */
  readonly values: Float32Array | Uint16Array;
}

/** How the views reduce and fold a stack's weights: the selection's data-relevant part. */
export interface ViewParameters {
  readonly stack: AttentionStack;
  readonly layer: number;
  readonly layerReduction: 'single' | 'mean' | 'max';
  readonly headMode: 'each' | 'mean' | 'max';
  /** The active heads. */
  readonly heads: readonly number[];
  readonly hideSpecial: boolean;
  readonly mergeWords: boolean;
  /** With a baseline: the difference current − baseline as well. */
  readonly compare: boolean;
}

export interface ViewQuery extends ViewParameters {
  readonly kind: 'view';
  /**
   * Only these display query rows (a long run's head view asks for the rows in sight, a chunk at a
   * time, instead of every head's whole matrix); the reply's matrices are [heads, end − start, cols].
   */
  readonly rows?: { readonly start: number; readonly end: number };
  /** Heads shown one by one: only this head-axis index (the matrix view draws one), as [1, rows, cols]. */
  readonly head?: number;
}

/** Rows per windowed view query. */
export const VIEW_ROW_CHUNK = 64;

/** The model view's small pictures: one layer, every head, folded into at most THUMBNAIL_SIZE² blocks. */
export interface ThumbnailQuery extends Omit<ViewParameters, 'layerReduction' | 'headMode' | 'heads'> {
  readonly kind: 'thumbnails';
}

export const THUMBNAIL_SIZE = 64;

/** The step-by-step table of one head and one query (a model token index) of a layer. */
export interface ComputationQuery {
  readonly kind: 'computation';
  readonly stack: AttentionStack;
  readonly layer: number;
  readonly head: number;
  readonly query: number;
}

/** Generation: what step `step` attended to, in every layer, over the keys it saw. */
export interface StepQuery extends Pick<ViewParameters, 'stack' | 'headMode' | 'heads' | 'hideSpecial' | 'mergeWords'> {
  readonly kind: 'step';
  readonly step: number;
}

export type DataQuery = ViewQuery | ThumbnailQuery | ComputationQuery | StepQuery;

/** current − baseline over what a view shows; NaN where the query or the key is new since the baseline. */
export interface WireDiff {
  readonly delta: WireMatrices;
  /** Per display token: 1 when it (or a token merged into it) is new since the baseline. */
  readonly queryAdded: Uint8Array;
  readonly keyAdded: Uint8Array;
  /** Baseline tokens without a counterpart (model token index and label). */
  readonly removedQueries: readonly { readonly index: number; readonly label: string }[];
  readonly removedKeys: readonly { readonly index: number; readonly label: string }[];
  /** Largest |delta| of each head-axis index. */
  readonly headMaxAbs: Float32Array;
}

export interface ViewReply {
  readonly kind: 'view';
  readonly matrices: WireMatrices;
  readonly diff?: WireDiff;
}

export interface ThumbnailReply {
  readonly kind: 'thumbnails';
  readonly matrices: WireMatrices;
  /** Blocks of display tokens: the last query and the first key of each (for the causal mask). */
  readonly queryLast: Int32Array;
  readonly keyFirst: Int32Array;
  readonly diff?: Pick<WireDiff, 'delta' | 'headMaxAbs'>;
}

/** One key's line of the step-by-step table. */
export interface KeyStep {
  readonly key: number;
  readonly dot: number;
  readonly scaled: number;
  /** Additive bias the scores hold besides scale · q·k (T5's relative position bias; 0 for most models). */
  readonly bias: number;
  readonly masked: boolean;
  /** What enters the softmax: scaled + bias, or −Infinity when masked. */
  readonly score: number;
  /** The engine's attention probability. */
  readonly weight: number;
}

/** softmax(q·kᵀ · scale + bias + M) · V for one head and one query, with the model's numbers. */
export interface Computation {
  readonly head: number;
  readonly query: number;
  readonly kvHead: number;
  readonly headDim: number;
  readonly scale: number;
  /** "1/√8", "1" or the number itself. */
  readonly scaleLabel: string;
  readonly hasBias: boolean;
  readonly steps: readonly KeyStep[];
  readonly queryVector: Float32Array;
  /** Σ weight · v over the keys, computed here. */
  readonly output: Float32Array;
  /** The engine's output of this head for this query (its slice of concat before W_O). */
  readonly engineOutput: Float32Array;
  /** Largest |softmax recomputed here − engine probability|, a check of the whole table. */
  readonly softmaxError: number;
  /** [keys, headDim]: the value vector of each key (of this head's key/value head). */
  readonly values: Float32Array;
}

export interface ComputationReply {
  readonly kind: 'computation';
  /** Absent when the data cannot be had, with the reason shown instead. */
  readonly computation?: Computation;
  readonly unavailable?: string;
}

export interface StepReply {
  readonly kind: 'step';
  /** The layers that have this step. */
  readonly layers: readonly number[];
  /** [layers × shown heads, keys]: one row per layer and head, over the display keys the step saw. */
  readonly rows: WireMatrices;
}

export type DataReply = ViewReply | ThumbnailReply | ComputationReply | StepReply;

/** Above this many bytes as float32, a reply's matrices travel as float16. */
export const FLOAT32_REPLY_LIMIT = 8 * 2 ** 20;
