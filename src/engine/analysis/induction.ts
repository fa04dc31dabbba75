/**
 * Induction heads by the TransformerLens recipe: run the model on prefix + R + R, where R is N random
 * ordinary tokens and the prefix is what the tokenizer puts before text (BOS, [CLS]; nothing for
 * GPT-2). In the second copy, the token at position i repeats the one at i − N, and an induction head
 * attends to i − N + 1, the token that followed it last time, to predict what comes next.
 */
import type { Backend } from '../backend';
import { inspect } from '../inspect';
import type { LoadedModel } from '../loadModel';
import type { AttentionStack } from '../../protocol/run';
import { inductionInput } from '../ordinaryTokens';
import { AttentionProbabilities, checkShape, probabilityAt } from './probabilities';

/**
 * induction = mean over rows i of the second copy (positions prefix + N … prefix + 2N − 1) of
 * A[i, i − N + 1], per head. TransformerLens averages the whole diagonal at offset 1 − N, which also
 * takes in the last two positions of the first copy; the definition, the second copy only,
 * is used here.
 */
export function layerInductionScores(layer: AttentionProbabilities, n: number, prefixLength: number): Float64Array {
  checkShape(layer);
  const { numHeads, queryLength: size, keyLength } = layer;
  if (size !== keyLength || size < prefixLength + 2 * n) throw new RangeError(`induction needs prefix + 2N = ${prefixLength + 2 * n} positions of self-attention, not [${size}, ${keyLength}]`);
  const scores = new Float64Array(numHeads);
  for (let h = 0; h < numHeads; h++) {
    let sum = 0;
    for (let i = prefixLength + n; i < prefixLength + 2 * n; i++) {
      sum += probabilityAt(layer, (h * size + i) * size + i - n + 1);
    }
    scores[h] = sum / n;
  }
  return scores;
}

export type SelfAttentionKind = Exclude<AttentionStack, 'cross'>;

export interface InductionRun {
  readonly n: number;
  readonly seed: number;
  /** The input ids: prefix + R + R. */
  readonly ids: number[];
  /** Encoder-decoder models: the decoder reads its start token + R + R. */
  readonly decoderIds?: readonly number[];
  /** Per self-attention stack of the run: [layer][head] scores. Cross-attention has no induction stripe. */
  readonly scores: Partial<Record<SelfAttentionKind, Float64Array[]>>;
}

export interface InductionOptions {
  /** Length of the random sequence R (default 50). */
  readonly n?: number;
  readonly seed?: number;
  readonly signal?: AbortSignal;
}

/**
 * Runs the recipe and scores every head of every self-attention stack. An encoder-decoder gets
 * prefix + R + R as its input and, through teacher forcing, start + R + R as its decoder input.
 */
export async function inductionScores(loaded: LoadedModel, backend: Backend, options: InductionOptions = {}): Promise<InductionRun> {
  const recipe = await inductionInput(loaded, options.n ?? 50, options.seed ?? 0);
  const layers: Partial<Record<SelfAttentionKind, Float64Array[]>> = {};
  const summary = await inspect(loaded, backend, { ids: recipe.ids, targetIds: recipe.labels }, { probabilityFormat: 'f32' }, {
    onEvent: (event) => {
      if (event.type !== 'attention' || event.stack === 'cross') return;
      const prefixLength = event.stack === 'decoder' ? recipe.prefix.target : recipe.prefix.source;
      (layers[event.stack] ??= [])[event.layer] = layerInductionScores(event, recipe.n, prefixLength);
    },
  }, options.signal);
  return { n: recipe.n, seed: recipe.seed, ids: recipe.ids, decoderIds: summary.target?.ids, scores: layers };
}
