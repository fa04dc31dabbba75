/**
 * What a model is to the rest of the program: a description plus a forward pass that streams its
 * results layer by layer, so a consumer can draw layer 0 while layer 1 is still computing.
 */
import type { Backend } from './backend';
import type { AttentionRecipe, AttentionStack, ModelInfo, TraceStageName } from '../protocol/run';
import type { KvCache } from './kvCache';

export type HiddenStack = 'main' | 'encoder' | 'decoder';

export interface ForwardWants {
  /** Pre-softmax scores (scaled, biased, masked with -Infinity) for every layer. */
  readonly scores?: boolean;
  /** Each head's q, k, v (after RoPE) and its output before W_O, for the step-by-step view. */
  readonly headVectors?: boolean;
  /**
   * Scores and head vectors of this one layer only (the step-by-step view asks for one layer, and the
   * run need not carry every layer's).
   */
  readonly detail?: { readonly stack: AttentionStack; readonly layer: number };
  readonly hiddenStates?: boolean;
  readonly logits?: boolean;
  /**
   * Each attention layer's ‖W_O,h · v_j‖ per head and key (AttentionEvent.valueNorms): what value-weighted
   * attention (Kobayashi et al. 2020) multiplies the weights by. Costs about headDim² per head and key.
   */
  readonly valueNorms?: boolean;
  /**
   * The logit lens (LensEvent): the model's head (final norm, unembedding, soft-cap) on the embeddings
   * and on every layer's output, as the `top` most likely tokens of each position. Decoder-only models,
   * an encoder-decoder's decoder, and BERT's masked-LM head. Costs one LM head per layer.
   */
  readonly logitLens?: { readonly top: number };
  /**
   * Traced layers: each also emits a TraceEvent with every intermediate tensor of its attention, for all
   * heads. One layer (the step-by-step view), or every layer of a run whose source and target have at
   * most `maxTokens` tokens each (a standalone report's step-by-step data; a longer run traces none).
   * Costs a few extra score computations per traced layer.
   */
  readonly trace?: { readonly stack: AttentionStack; readonly layer: number } | { readonly everyLayer: true; readonly maxTokens: number };
  /**
   * 'f16': attention events carry `probsF16` (IEEE half bits, half the memory: enough for display) and
   * an empty `probs`. Default 'f32' (exports, the numeric tests).
   */
  readonly probabilityFormat?: 'f32' | 'f16';
  /**
   * Causal layers' float32 probabilities as packed rows (AttentionEvent.packed), read so from the backend
   * where it can: for a reader that stores them packed (the editor's run store), half the bytes of a
   * square layer on their way there and no full copy of it in the engine.
   */
  readonly packedProbabilities?: boolean;
}

export interface ForwardRequest {
  /** The input ids; for encoder-decoder models the encoder's (ignored once `cache` holds the encoder output). */
  readonly ids: readonly number[];
  /** Encoder-decoder only: the decoder's input ids (already shifted right), or the next ones when stepping. */
  readonly decoderIds?: readonly number[];
  readonly wants: ForwardWants;
  readonly signal?: AbortSignal;
  /** Incremental decoding: keys and values of earlier steps; the new tokens continue after them. */
  readonly cache?: KvCache;
  /** Generation step number, copied onto the events. */
  readonly step?: number;
  /** Rotary models: run past max_position_embeddings (outside the trained context) instead of refusing. */
  readonly pastContext?: boolean;
}

/** Which attention layer an event is about, its shape, and how it computes its scores. */
export interface AttentionLayer {
  readonly stack: AttentionStack;
  readonly layer: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly queryLength: number;
  readonly keyLength: number;
  /** How this layer computes its scores: scale, soft-cap, window, RoPE, q/k norm, position bias. */
  readonly recipe: AttentionRecipe;
  /** Generation step (0 = the prompt), when generating. */
  readonly step?: number;
}

export interface AttentionEvent extends AttentionLayer {
  readonly type: 'attention';
  /**
   * [numHeads, queryLength, keyLength]; empty when wants.probabilityFormat is 'f16'. With `packed`
   * (ForwardWants.packedProbabilities), a causal layer's rows hold only the keys each query sees
   * (protocol/packing.ts): half the bytes of a square layer.
   */
  readonly probs: Float32Array;
  readonly packed?: boolean;
  /** [numHeads, queryLength, keyLength] as float16 bits, when wants.probabilityFormat is 'f16'. */
  readonly probsF16?: Uint16Array;
  readonly scores?: Float32Array;
  /** [queryLength, numHeads · headDim]. */
  readonly q?: Float32Array;
  /** [keyLength, numKvHeads · headDim]. */
  readonly k?: Float32Array;
  readonly v?: Float32Array;
  /** [queryLength, numHeads · headDim]: P·V per head, the concatenation that W_O multiplies. */
  readonly headOutputs?: Float32Array;
  /** [numHeads, keyLength]: ‖W_O,h · v_j‖ (ForwardWants.valueNorms); with GQA v_j is head h's kv head's value. */
  readonly valueNorms?: Float32Array;
}

/** One intermediate tensor of a traced attention layer. */
export interface TraceStage {
  readonly name: TraceStageName;
  /** [rows, heads · head_dim] for vectors, [heads, queries, keys] for scores. */
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** ForwardWants.trace: one layer's attention, stage by stage, in order of computation (see TraceStageName). */
export interface TraceEvent extends AttentionLayer {
  readonly type: 'trace';
  readonly stages: readonly TraceStage[];
}

export interface HiddenStateEvent {
  readonly type: 'hidden';
  readonly stack: HiddenStack;
  readonly index: number;
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

export interface LogitsEvent {
  readonly type: 'logits';
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
  readonly step?: number;
}

/** ForwardWants.logitLens: what the model's head reads from one hidden state. */
export interface LensEvent {
  readonly type: 'lens';
  readonly stack: HiddenStack;
  /** The hidden state: 0 the embeddings, l + 1 the output of layer l (the last one gives the model's own logits). */
  readonly index: number;
  readonly rows: number;
  readonly top: number;
  /** [rows, top] token ids, most likely first (−1 past the vocabulary's size). */
  readonly ids: Int32Array;
  /** [rows, top] their probabilities under the softmax over the whole vocabulary. */
  readonly probs: Float32Array;
  /** [rows, top] the ids' token strings ('' for −1), where the model has a tokenizer (added by inspect). */
  readonly tokens?: readonly string[];
  readonly step?: number;
}

export type ForwardEvent = AttentionEvent | TraceEvent | HiddenStateEvent | LogitsEvent | LensEvent;

export interface TransformerModel {
  readonly info: ModelInfo;
  /**
   * Streams the pass's events. However it ends (finished, failed, cancelled between layers or by the
   * reader leaving at a yield), every tensor it made is released; a key/value cache's stay in the cache.
   */
  forward(backend: Backend, request: ForwardRequest): AsyncGenerator<ForwardEvent>;
  /** Frees the weights on every backend they were uploaded to (the engine evicts the model); a later pass uploads them again. */
  releaseWeights(): void;
}

/** The tensor names of the reference fixtures (and of the CLI's output file). */
export function tensorName(event: ForwardEvent, part: 'probs' | 'scores' = 'probs'): string {
  switch (event.type) {
    case 'attention': {
      const prefix = event.stack === 'self' ? '' : `${event.stack}_`;
      return `${prefix}${part === 'scores' ? 'scores' : 'attentions'}.${event.layer}`;
    }
    case 'hidden':
      return `${event.stack === 'main' ? '' : `${event.stack}_`}hidden_states.${event.index}`;
    case 'logits':
      return 'logits';
    case 'trace':
      return `trace.${event.stack}.${event.layer}`;
    case 'lens':
      return `${event.stack === 'main' ? '' : `${event.stack}_`}logit_lens.${event.index}`;
  }
}
