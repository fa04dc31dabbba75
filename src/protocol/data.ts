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

/** How every view weighs attention before it shows it (src/view-model/weighting.ts). */
export interface WeightOptions {
  /** A[i, j] · ‖W_O,h · v_j‖, rows renormalised (Kobayashi et al. 2020). */
  readonly valueWeighted: boolean;
  /** The stack's detected sink positions get weight 0, rows renormalised. */
  readonly hideSinks: boolean;
}

/** How the views reduce and fold a stack's weights: the selection's data-relevant part. */
export interface ViewParameters extends WeightOptions {
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
export interface StepQuery extends Pick<ViewParameters, 'stack' | 'headMode' | 'heads' | 'hideSpecial' | 'mergeWords' | 'valueWeighted' | 'hideSinks'> {
  readonly kind: 'step';
  readonly step: number;
}

/** The head-role scores of src/engine/analysis (headRoleSpec.ts, induction.ts), as the Heads view names them. */
export type HeadScoreName = 'previous_token' | 'first_token' | 'sink_share' | 'entropy' | 'entropy_normalised' | 'mean_distance' | 'duplicate_token' | 'induction';

/** A detected attention sink of a stack (src/engine/analysis/sinks.ts). */
export interface SinkInfo {
  readonly position: number;
  /** The share of the stack's heads that put more than ε of their mass there. */
  readonly headFraction: number;
}

/** The Heads view: every head's role scores over the layers of one stack, from the weighted attention. */
export interface HeadScoresQuery extends WeightOptions {
  readonly kind: 'head-scores';
  readonly stack: AttentionStack;
}

/** The stack's sinks, detected from the attention itself. */
export interface SinksQuery {
  readonly kind: 'sinks';
  readonly stack: AttentionStack;
}

/** Induction scores: the model run again on BOS + R + R (an extra pass, made on demand). */
export interface InductionQuery extends WeightOptions {
  readonly kind: 'induction';
  readonly stack: AttentionStack;
}

/** Attention rollout of a stack over model tokens (Abnar & Zuidema 2020), folded as the views fold tokens. */
export interface RolloutQuery extends WeightOptions {
  readonly kind: 'rollout';
  readonly stack: AttentionStack;
  readonly hideSpecial: boolean;
  readonly mergeWords: boolean;
}

/** The logit lens of the run's top stack (an extra pass, made on demand). */
export interface LogitLensQuery {
  readonly kind: 'logit-lens';
}

export type AnalysisQuery = HeadScoresQuery | SinksQuery | InductionQuery | RolloutQuery | LogitLensQuery;

export type DataQuery = ViewQuery | ThumbnailQuery | ComputationQuery | StepQuery | AnalysisQuery;

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

export interface HeadScoreTable {
  readonly name: HeadScoreName;
  /** [layers · heads], layer-major; NaN where the score is not defined. */
  readonly values: Float32Array;
  /** Why the score is NaN for every head, when it is. */
  readonly notDefined?: string;
}

export interface HeadScoresReply {
  readonly kind: 'head-scores';
  readonly stack: AttentionStack;
  readonly layers: number;
  readonly heads: number;
  readonly scores: readonly HeadScoreTable[];
  /** Why there are no scores (then `scores` is empty). */
  readonly unavailable?: string;
}

export interface SinksReply {
  readonly kind: 'sinks';
  readonly stack: AttentionStack;
  readonly sinks: readonly SinkInfo[];
}

export interface InductionReply {
  readonly kind: 'induction';
  readonly stack: AttentionStack;
  /** [layers · heads], layer-major; absent with `unavailable`. */
  readonly values?: Float32Array;
  /** The length N of the random sequence R, and its seed. */
  readonly n?: number;
  readonly seed?: number;
  readonly unavailable?: string;
}

export interface RolloutReply {
  readonly kind: 'rollout';
  readonly stack: AttentionStack;
  /** [1, display queries, display keys]: folded like the views' (rows summed into words, then renormalised). */
  readonly matrix?: WireMatrices;
  readonly unavailable?: string;
}

/** What the model's head reads from each hidden state: a grid of layers (the embeddings first) by positions. */
export interface LogitLens {
  /** The stack whose query tokens are the positions: `self`, or an encoder-decoder's `decoder`. */
  readonly stack: AttentionStack;
  /** Hidden states: the embeddings, then each layer's output (the last gives the model's own logits). */
  readonly layers: number;
  readonly positions: number;
  readonly top: number;
  /** [layers, positions, top] token ids, most likely first (−1 past the vocabulary). */
  readonly ids: Int32Array;
  readonly probs: Float32Array;
  /** Each id that occurs, with its token string. */
  readonly vocabulary: { readonly ids: Int32Array; readonly tokens: readonly string[] };
}

export interface LogitLensReply {
  readonly kind: 'logit-lens';
  readonly lens?: LogitLens;
  readonly unavailable?: string;
}

export type AnalysisReply = HeadScoresReply | SinksReply | InductionReply | RolloutReply | LogitLensReply;

export type DataReply = ViewReply | ThumbnailReply | ComputationReply | StepReply | AnalysisReply;

/** Above this many bytes as float32, a reply's matrices travel as float16. */
export const FLOAT32_REPLY_LIMIT = 4 * 2 ** 20;
