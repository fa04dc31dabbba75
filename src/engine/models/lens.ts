/**
 * The logit lens (nostalgebraist 2020; Ecco, TransformerLens): the model's own head — final norm,
 * unembedding, soft-cap — applied to the hidden state after every layer, read as a next-token
 * distribution, so one sees at which layer a prediction forms. Only each position's most likely
 * tokens come back: a block of rows' logits [rows, vocab] is on the device at a time, and the top
 * tokens and their softmax probabilities are picked on the host.
 */
import type { Backend, DeviceTensor } from '../backend';
import type { HiddenStack, LensEvent } from '../model';

/** Rows whose logits are on the device at once (GPT-2's 50,257 columns: 13 MB). */
export const LENS_ROWS = 64;

/** The model's head on a hidden state [rows, hidden] → logits [rows, vocab]; the input stays the caller's. */
export type LensHead = (hidden: DeviceTensor) => DeviceTensor;

/** The lens of one hidden state: index 0 the embeddings, l + 1 the output of layer l. */
export async function readLens(backend: Backend, stack: HiddenStack, index: number, hidden: DeviceTensor, head: LensHead, top: number, step?: number): Promise<LensEvent> {
  const rows = hidden.shape[0];
  const ids = new Int32Array(rows * top);
  const probs = new Float32Array(rows * top);
  for (let start = 0; start < rows; start += LENS_ROWS) {
    const count = Math.min(LENS_ROWS, rows - start);
    const block = count === rows ? hidden : backend.gather(hidden, Int32Array.from({ length: count }, (_, i) => start + i));
    const held = block === hidden ? [] : [block];
    let values: Float32Array, vocab: number;
    try {
      const logits = head(block);
      held.push(logits);
      vocab = logits.shape[1];
      [values] = await backend.read([logits]);
    } finally {
      backend.release(held);
    }
    for (let r = 0; r < count; r++) topTokens(values.subarray(r * vocab, (r + 1) * vocab), top, ids.subarray((start + r) * top), probs.subarray((start + r) * top));
  }
  return { type: 'lens', stack, index, rows, top, ids, probs, step };
}

/**
 * The `ids.length` largest logits of a row, largest first (the lower id on a tie), and their
 * probabilities under the softmax over the whole row.
 */
export function topTokens(logits: Float32Array, top: number, ids: Int32Array, probs: Float32Array): void {
  const k = Math.min(top, logits.length);
  const best = new Float64Array(k).fill(-Infinity);
  const bestIds = new Int32Array(k).fill(-1);
  let max = -Infinity;
  for (let v = 0; v < logits.length; v++) {
    const x = logits[v];
    if (x > max) max = x;
    if (!(x > best[k - 1])) continue;
    let at = k - 1;
    for (; at > 0 && x > best[at - 1]; at--) {
      best[at] = best[at - 1];
      bestIds[at] = bestIds[at - 1];
    }
    best[at] = x;
    bestIds[at] = v;
  }
  let sum = 0;
  for (let v = 0; v < logits.length; v++) sum += Math.exp(logits[v] - max);
  for (let i = 0; i < ids.length; i++) {
    ids[i] = i < k ? bestIds[i] : -1;
    probs[i] = i < k ? Math.exp(best[i] - max) / sum : 0;
  }
}
