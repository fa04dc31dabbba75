/**
 * Generation runs, step by step. Step 0 is the prompt (decoder-only: a full [heads, P, P] layer) or the
 * encoder plus the decoder start token; every later step adds one query row over all tokens so far.
 * Stacking the steps' rows gives the full lower-triangular matrix the views draw, and step k's row is
 * what the model looked at when it chose generated token k.
 */
import type { AttentionStack, LayerMessage, PanelTokens } from '../protocol/messages';
import type { ModelInfo } from '../protocol/run';
import { foldMatrix, type HeadMatrices } from './matrices';
import type { LayerTensors } from './tensors';

interface StepToken {
  readonly step: number;
  readonly id: number;
  readonly text: string;
}

/** A received layer with its weights. */
export type Layer = LayerMessage & LayerTensors;

/** The shape of one layer's steps (step 0 first) stacked: every step's query rows over all keys. */
export function assembleShape(steps: readonly LayerMessage[]): LayerMessage {
  if (steps.length === 0) throw new Error('assembleShape needs at least one step');
  const last = steps[steps.length - 1];
  if (steps.length === 1) return steps[0];
  const { step: _step, ...shape } = last;
  return { ...shape, queryLength: steps.reduce((sum, s) => sum + s.queryLength, 0), keyLength: Math.max(...steps.map((s) => s.keyLength)) };
}

/**
 * One layer's steps (step 0 first) as one layer: rows in step order, each over the keys its step saw,
 * the keys it could not see yet zero, so the result is what a full pass over the same tokens returns.
 */
export function assembleSteps(steps: readonly Layer[]): Layer {
  const shape = assembleShape(steps);
  if (steps.length === 1) return steps[0];
  const heads = shape.numHeads, rows = shape.queryLength, cols = shape.keyLength;
  const probs = new Float32Array(heads * rows * cols);
  let row = 0;
  for (const step of steps) {
    if (step.numHeads !== heads) throw new Error('assembleSteps: steps differ in heads');
    for (let h = 0; h < heads; h++) {
      for (let r = 0; r < step.queryLength; r++) {
        const from = (h * step.queryLength + r) * step.keyLength;
        probs.set(step.probs.subarray(from, from + step.keyLength), (h * rows + row + r) * cols);
      }
    }
    row += step.queryLength;
  }
  // Each step's keys are every key so far: the last step's value norms cover them all.
  const valueNorms = steps[steps.length - 1].valueNorms;
  return { ...shape, probs, approximate: steps.some((s) => s.approximate), ...(valueNorms && { valueNorms }) };
}

/** The stacks whose queries grow by one token per step. */
export function isStepStack(kind: ModelInfo['kind'], stack: AttentionStack): boolean {
  return kind === 'encoder-decoder' ? stack === 'decoder' || stack === 'cross' : stack === 'self';
}

/**
 * The query row (model token index) of step `step` in the assembled matrices: the prompt's last token
 * for step 0 of a decoder-only model, the decoder start token for step 0 of an encoder-decoder.
 */
export function stepRow(kind: ModelInfo['kind'], promptLength: number, step: number): number {
  return kind === 'encoder-decoder' ? step : promptLength - 1 + step;
}

/** A generated token's text as it reads: SentencePiece and byte-level markers back to spaces and newlines. */
export function tokenPiece(token: string): string {
  if (/^<0x0A>$/i.test(token)) return '\n';
  return token.replace(/[▁Ġ]/gu, ' ').replace(/Ċ/g, '\n');
}

// Added special tokens (</s>, <|endoftext|>), but not SentencePiece byte pieces such as <0x0A>.
const SPECIAL = /^<[^<>]+>$/;
const BYTE_PIECE = /^<0x[0-9a-f]{2}>$/i;

export function isSpecialToken(token: string): boolean {
  return SPECIAL.test(token) && !BYTE_PIECE.test(token);
}

/**
 * `base` followed by generated tokens, their pieces appended to the text (with offsets) so that
 * "Merge subwords into words" joins generated subwords as it joins the prompt's.
 */
export function withGenerated(base: PanelTokens, generated: readonly StepToken[]): PanelTokens {
  if (generated.length === 0) return base;
  let text = base.text ?? '';
  const offsets: (readonly [number, number] | null)[] = [...base.offsetsUtf16];
  const special = [...base.special];
  for (const token of generated) {
    const isSpecial = isSpecialToken(token.text);
    const piece = isSpecial ? '' : tokenPiece(token.text);
    offsets.push(isSpecial ? null : [text.length, text.length + piece.length]);
    special.push(isSpecial);
    text += piece;
  }
  return {
    text, ids: [...base.ids, ...generated.map((t) => t.id)], tokens: [...base.tokens, ...generated.map((t) => t.text)],
    offsetsUtf16: offsets, special,
  };
}

/**
 * One query row of a layer, [heads, 1, groups]: the keys the row saw, folded into display tokens as
 * foldMatrix folds them (a group's part beyond the row's keys is left out).
 */
export function stepRowMatrix(layer: Layer, row: number, keyGroups: readonly (readonly number[])[]): HeadMatrices {
  const { numHeads: heads, queryLength, keyLength } = layer;
  const data = new Float32Array(heads * keyLength);
  for (let h = 0; h < heads; h++) data.set(layer.probs.subarray((h * queryLength + row) * keyLength, (h * queryLength + row + 1) * keyLength), h * keyLength);
  const matrix = { heads, rows: 1, cols: keyLength, data };
  const groups = keyGroups.map((g) => g.filter((t) => t < keyLength)).filter((g) => g.length > 0);
  const identity = groups.length === keyLength && groups.every((g, i) => g.length === 1 && g[0] === i);
  return identity ? matrix : foldMatrix(matrix, [[0]], groups);
}
