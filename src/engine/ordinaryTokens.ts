/**
 * The induction recipe's input (analysis/induction.ts): random "ordinary" tokens, and the ids a
 * tokenizer puts before any text. Beside inspect.ts, which builds the recipe's run from it.
 * The tokenizer interface does not list its special tokens, so they are read from tokenizer.json:
 * when the tokenizer gains that list, this file should ask it instead.
 */
import * as fs from 'fs';
import * as path from 'path';
import { seededUniform } from './demo/demoWeights';
import { EngineError } from './errors';
import type { LoadedModel } from './loadModel';

interface TokenizerFile {
  readonly added_tokens?: readonly { readonly id: number; readonly special?: boolean }[];
  readonly model?: { readonly vocab?: Record<string, number> | unknown[]; readonly byte_fallback?: boolean };
}

/** What tokenizer.json says about the vocabulary: its size, its special ids, and whether it has byte pieces. */
function readVocabulary(folder: string): { size: number; special: Set<number>; byteFallback: boolean } | undefined {
  const file = path.join(folder, 'tokenizer.json');
  if (!fs.existsSync(file)) return undefined;
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as TokenizerFile;
  const vocab = parsed.model?.vocab;
  const added = parsed.added_tokens ?? [];
  // Unigram lists [piece, score] pairs in id order; BPE and WordPiece map piece → id.
  const lastVocabId = Array.isArray(vocab) ? vocab.length - 1 : Object.values(vocab ?? {}).reduce((a, b) => Math.max(a, b), -1);
  return {
    size: added.reduce((last, t) => Math.max(last, t.id), lastVocabId) + 1,
    special: new Set(added.filter((t) => t.special).map((t) => t.id)),
    byteFallback: parsed.model?.byte_fallback === true,
  };
}

/**
 * `count` distinct ordinary token ids, drawn in a seeded random order from the ids below both the
 * model's embedding rows and the tokenizer's vocabulary. Left out: the tokenizer's special tokens,
 * byte-fallback pieces (<0xE9> is a byte of a character, not a token of text), and pieces that decode
 * to no visible text (whitespace only, control characters, an incomplete UTF-8 sequence). A model
 * without a tokenizer (ids only) takes any id below its vocabulary size.
 */
export async function drawOrdinaryTokens(loaded: LoadedModel, count: number, seed: number): Promise<number[]> {
  const { info } = loaded.model;
  if (info.modelType === 'demo') {
    throw new EngineError('BAD_INPUT', 'The demo model builds its vocabulary from the text you inspect, so it has no random tokens to draw.');
  }
  const vocabulary = loaded.tokenizer ? readVocabulary(loaded.source) : undefined;
  const limit = Math.min(info.vocabSize, vocabulary?.size ?? Infinity);
  const order = Int32Array.from({ length: limit }, (_, i) => i);
  const uniform = seededUniform(seed);
  const chosen: number[] = [];
  for (let n = limit; n > 0 && chosen.length < count; n--) {
    // One Fisher–Yates step: a random id among the n not yet looked at.
    const pick = Math.floor(uniform() * n);
    const id = order[pick];
    order[pick] = order[n - 1];
    if (await isOrdinary(loaded, vocabulary, id)) chosen.push(id);
  }
  if (chosen.length < count) {
    throw new EngineError('BAD_INPUT', `${info.name} has only ${chosen.length} ordinary tokens; the induction recipe needs ${count} distinct ones. Use a smaller N.`);
  }
  return chosen;
}

async function isOrdinary(loaded: LoadedModel, vocabulary: ReturnType<typeof readVocabulary>, id: number): Promise<boolean> {
  if (!loaded.tokenizer) return true;
  if (vocabulary?.special.has(id)) return false;
  if (vocabulary?.byteFallback && /^<0x[0-9A-Fa-f]{2}>$/.test(loaded.tokenizer.idToToken(id))) return false;
  const text = await loaded.tokenizer.decode([id]);
  return /\S/u.test(text) && !/[\p{Cc}\uFFFD]/u.test(text);
}

/** The input of the induction recipe (induction.ts): prefix + R + R, and for an encoder-decoder its labels. */
export interface InductionInput {
  readonly n: number;
  readonly seed: number;
  /** prefix + R + R. */
  readonly ids: number[];
  /** Encoder-decoder models: R + R plus one more token, which teacher forcing shifts behind the start token. */
  readonly labels?: number[];
  /** Positions before the first copy of R in each self-attention stack: the prefix, or the decoder's start token. */
  readonly prefix: { readonly source: number; readonly target: number };
}

/**
 * Draws R (N seeded random ordinary tokens) for the induction recipe. Needs 2N + prefix positions: a
 * model whose position limit is shorter gets a TOO_MANY_TOKENS error that says which N fits.
 */
export async function inductionInput(loaded: LoadedModel, n: number, seed: number): Promise<InductionInput> {
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
  return {
    n, seed, ids: [...prefix, ...random, ...random],
    ...(seq2seq && { labels: [...random, ...random, random[0]] }),
    prefix: { source: prefix.length, target: 1 },
  };
}

/** The special ids the tokenizer puts before any text (BOS, [CLS]); none without a tokenizer. */
export async function leadingSpecialIds(loaded: LoadedModel): Promise<number[]> {
  if (!loaded.tokenizer) return [];
  const encoded = await loaded.tokenizer.encode('a');
  const firstText = encoded.special.indexOf(false);
  return encoded.ids.slice(0, firstText < 0 ? 0 : firstText);
}
