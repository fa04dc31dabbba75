/**
 * What a user asks the model to read: ordinary sentences for the damaged-folder families, and for the
 * input family odd text (lone surrogates, NUL, control characters, special tokens as literal text,
 * combining marks, 20 and 100 KB), ids out of range, empty inputs, targets where none belong, and
 * generation counts out of range.
 */
import type { InspectInput } from '../../../src/engine/inspect';
import type { ForwardWants } from '../../../src/engine/model';
import type { BaseModel } from '../models';
import type { Rng } from '../rng';

const SENTENCES = ['Once upon a time, there was a little girl named Lily.', '那天雨很大，他等了很久。', 'The cat sat on the mat.', 'café 😀 naïve'];
const PIECES = ['a', ' ', 'the', '。', '那', '😀', '👨‍👩‍👧', '\u0301', '\u200b', '\u0000', '\u0007', '\ud800', '\udfff', '\t', '\n', '<s>', '</s>', '[CLS]', '[UNK]', '<|endoftext|>', '<extra_id_0>', '<mask>', '\u202e', 'ﬁ', '①', 'Ａ', '\uffff', '\u{10ffff}'];

export interface InputChoice {
  readonly mutation: string;
  readonly detail: string;
  readonly input: InspectInput;
  readonly wants: ForwardWants;
}

function oddText(rng: Rng, length: number): string {
  let text = '';
  while (text.length < length) text += rng.chance(0.3) ? rng.pick(SENTENCES) : rng.pick(PIECES);
  return text;
}

/** Some of what a run can be asked for. */
export function randomWants(rng: Rng): ForwardWants {
  return { scores: rng.chance(0.3), hiddenStates: rng.chance(0.3), logits: rng.chance(0.5), headVectors: rng.chance(0.2), probabilityFormat: rng.chance(0.2) ? 'f16' : 'f32' };
}

/** An ordinary input for the model (ids for a model without a tokenizer; a target for an encoder-decoder). */
export function plainInput(rng: Rng, model: BaseModel): InspectInput {
  const target = model.kind === 'encoder-decoder' ? { targetText: rng.pick(SENTENCES) } : {};
  if (!model.hasTokenizer) return { ids: Array.from({ length: rng.between(1, 11) }, () => rng.int(model.vocabSize)) };
  return { text: rng.pick(SENTENCES), ...target };
}

export function chooseInput(rng: Rng, model: BaseModel): InputChoice {
  const wants = randomWants(rng);
  const seq2seq = model.kind === 'encoder-decoder';
  const target = (): Partial<InspectInput> => (seq2seq ? { targetText: oddText(rng, rng.between(0, 40)) } : {});
  const mutation = rng.pick(['odd-text', 'odd-text', 'long-text', 'ids', 'empty', 'target-mismatch', 'generate']);
  switch (mutation) {
    case 'odd-text': {
      const text = oddText(rng, rng.between(1, 200));
      return { mutation, detail: `text ${JSON.stringify(text.slice(0, 60))}…`, input: model.hasTokenizer ? { text, ...target() } : { text }, wants };
    }
    case 'long-text': {
      const length = rng.pick([2_000, 20_000, 100_000]);
      return { mutation, detail: `${length} characters`, input: { text: oddText(rng, length), ...target() }, wants };
    }
    case 'ids': {
      const count = rng.pick([1, 5, 64, 600, 5000]);
      const ids = Array.from({ length: count }, () => (rng.chance(0.9) ? rng.int(model.vocabSize) : rng.pick([model.vocabSize, -1, 2 ** 31, 1.5, 1e300])));
      return { mutation, detail: `${count} ids`, input: seq2seq ? { ids, targetIds: ids.slice(0, rng.between(0, 8)) } : { ids }, wants };
    }
    case 'empty':
      return { mutation, detail: 'empty input', input: rng.chance(0.5) ? { text: '' } : { ids: [] }, wants };
    case 'target-mismatch':
      return { mutation, detail: 'target on any model', input: { ...plainInput(rng, model), targetIds: [rng.int(model.vocabSize)], ...(rng.chance(0.5) ? { generate: 2 } : {}) }, wants };
    default: {
      const generate = rng.pick([1, 3, 8, 0, 513, -1, 1.5]);
      return { mutation, detail: `generate ${generate}`, input: { ...plainInput(rng, model), targetText: undefined, generate }, wants };
    }
  }
}
