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
  /** q·k of the final q and k (after any q/k norm and RoPE). */
  readonly dot: number;
  /** dot · scale. */
  readonly scaled: number;
  /** Gemma 2's soft-cap: cap · tanh(scaled / cap); absent for models without one. */
  readonly capped?: number;
  /** T5's relative position bias added next (0 for models without one). */
  readonly bias: number;
  /** Why the key is hidden: after the query (causal) or outside the sliding window; absent when it is seen. */
  readonly masked?: 'causal' | 'window';
  /** What enters the softmax, or −Infinity when masked. */
  readonly score: number;
  /** The engine's attention probability. */
  readonly weight: number;
}

/** The query vector of one head along the stages this model has, each as the engine computed it. */
export interface QueryStage {
  /** 'q': x · W_Q; 'qNorm': after the q/k RMSNorm; 'qRope': after RoPE. */
  readonly name: 'q' | 'qNorm' | 'qRope';
  readonly vector: Float32Array;
}

/** What a layer's recipe says, as the step-by-step view words it (AttentionRecipe without its arrays). */
export interface StepRecipe {
  readonly scale: number;
  readonly scaleSource: 'head_dim' | 'query_pre_attn_scalar' | 'none';
  readonly softCap?: number;
  readonly slidingWindow?: number;
  readonly rope?: { readonly rotaryDims: number; readonly headDim: number; readonly theta: number; readonly scaling: string; readonly factor?: number };
  readonly qkNorm?: 'per-head' | 'whole-projection';
  readonly positionBias?: 'relative';
  readonly causal: boolean;
}

/** softmax(capped(q·kᵀ · scale) + bias + M) · V for one head and one query, with the model's numbers. */
export interface Computation {
  readonly head: number;
  readonly query: number;
  readonly kvHead: number;
  readonly headDim: number;
  readonly recipe: StepRecipe;
  /** "1/√8", "1" or the number itself. */
  readonly scaleLabel: string;
  readonly steps: readonly KeyStep[];
  readonly queryStages: readonly QueryStage[];
  /** The final q (the last of queryStages). */
  readonly queryVector: Float32Array;
  /** Σ weight · v over the keys, computed here. */
  readonly output: Float32Array;
  /** The engine's output of this head for this query (its slice of concat before W_O). */
  readonly engineOutput: Float32Array;
  /**
   * Largest |value computed here − the engine's| of each stage recomputed: the scaled scores, the
   * soft-capped ones, the softmax probabilities.
   */
  readonly checks: { readonly scaled: number; readonly capped?: number; readonly softmax: number };
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
export const FLOAT32_REPLY_LIMIT = 4 * 2 ** 20;
