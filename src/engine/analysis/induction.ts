/**
 * Induction heads by the TransformerLens recipe: run the model on prefix + R + R, where R is N random
 * ordinary tokens and the prefix is what the tokenizer puts before text (BOS, [CLS]; nothing for
 * GPT-2). In the second copy, the token at position i repeats the one at i − N, and an induction head
 * attends to i − N + 1, the token that followed it last time, to predict what comes next.
 */
import type { Backend } from '../backend';
import { EngineError } from '../errors';
import { inspect } from '../inspect';
import type { LoadedModel } from '../loadModel';
import type { AttentionStack } from '../../protocol/run';
import { drawOrdinaryTokens, leadingSpecialIds } from './ordinaryTokens';
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
 * prefix + R + R as its input and, through teacher forcing, start + R + R as its decoder input (the
 * labels are R + R plus one more token, which shifting right drops). Needs 2N + prefix positions: a
 * model whose position limit is shorter gets a TOO_MANY_TOKENS error that says which N fits.
 */
export async function inductionScores(loaded: LoadedModel, backend: Backend, options: InductionOptions = {}): Promise<InductionRun> {
  const n = options.n ?? 50;
  const seed = options.seed ?? 0;
  const { info } = loaded.model;
  if (!(Number.isInteger(n) && n >= 1)) throw new EngineError('BAD_INPUT', `The induction length N must be a positive whole number, not ${n}.`);
  const prefix = await leadingSpecialIds(loaded);
  const seq2seq = info.kind === 'encoder-decoder';
  // The decoder of an encoder-decoder reads one start token before R + R.
  const leading = Math.max(prefix.length, seq2seq ? 1 : 0);
  if (leading + 2 * n > info.maxPositions) {
    const fits = Math.floor((info.maxPositions - leading) / 2);
    throw new EngineError('TOO_MANY_TOKENS', `The induction recipe needs ${leading + 2 * n} positions (2·${n} random tokens after ${leading} special), but ${info.name} takes at most ${info.maxPositions}; use N ≤ ${fits}.`);
  }
  const random = await drawOrdinaryTokens(loaded, n, seed);
  const ids = [...prefix, ...random, ...random];
  const labels = seq2seq ? [...random, ...random, random[0]] : undefined;
  const layers: Partial<Record<SelfAttentionKind, Float64Array[]>> = {};
  const summary = await inspect(loaded, backend, { ids, targetIds: labels }, { probabilityFormat: 'f32' }, {
    onEvent: (event) => {
      if (event.type !== 'attention' || event.stack === 'cross') return;
      const prefixLength = event.stack === 'decoder' ? 1 : prefix.length;
      (layers[event.stack] ??= [])[event.layer] = layerInductionScores(event, n, prefixLength);
    },
  }, options.signal);
  return { n, seed, ids, decoderIds: summary.target?.ids, scores: layers };
}
