/**
 * No run hands back NaN. Every streamed event is scanned (cheap next to computing it); when one holds
 * NaN, or an infinity where none belongs, the run stops and the weights are searched for the cause, so
 * the error names the damaged tensor instead of the user reading a picture of nothing.
 */
import * as path from 'path';
import { EngineError } from './errors';
import type { WeightFile } from './loader/weights';
import type { ForwardEvent } from './model';
import { tensorName } from './model';
import { toFloat32 } from './tensor';

/** NaN anywhere, or ±Infinity (scores may hold −Infinity: that is the mask). */
function firstBad(values: Float32Array, allowInfinity: boolean): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v || (!allowInfinity && (v === Infinity || v === -Infinity))) return i;
  }
  return -1;
}

/** float16 bits: exponent all ones is an infinity or NaN. */
function firstBadHalf(bits: Uint16Array): number {
  for (let i = 0; i < bits.length; i++) if ((bits[i] & 0x7c00) === 0x7c00) return i;
  return -1;
}

function badArray(event: ForwardEvent): string | undefined {
  // A trace's stages include masked scores (−Infinity): only NaN is wrong there.
  if (event.type === 'trace') return event.stages.find((s) => firstBad(s.data, true) >= 0) ? tensorName(event) : undefined;
  if (event.type === 'lens') return firstBad(event.probs, false) >= 0 ? tensorName(event) : undefined;
  if (event.type !== 'attention') return firstBad(event.data, false) >= 0 ? tensorName(event) : undefined;
  if (firstBad(event.probs, false) >= 0 || (event.probsF16 && firstBadHalf(event.probsF16) >= 0)) return tensorName(event);
  if (event.scores && firstBad(event.scores, true) >= 0) return tensorName(event, 'scores');
  for (const vectors of [event.q, event.k, event.v, event.headOutputs, event.valueNorms]) if (vectors && firstBad(vectors, false) >= 0) return `${tensorName(event)} head vectors`;
  return undefined;
}

/** The first weight that is not finite, or else the largest in magnitude: what a NaN output points at. */
function suspectWeight(weights: WeightFile): { tensor: string; file: string; nonFinite: boolean; largest: number } | undefined {
  let largest: { tensor: string; file: string; value: number } | undefined;
  for (const entry of weights.entries()) {
    const values = toFloat32(weights.read(entry.name));
    const file = weights.fileOf(entry.name)!;
    if (firstBad(values, false) >= 0) return { tensor: entry.name, file, nonFinite: true, largest: NaN };
    for (let i = 0; i < values.length; i++) {
      const magnitude = Math.abs(values[i]);
      if (!largest || magnitude > largest.value) largest = { tensor: entry.name, file, value: magnitude };
    }
  }
  return largest && { tensor: largest.tensor, file: largest.file, nonFinite: false, largest: largest.value };
}

/** Throws when the event holds NaN (or an infinity in probabilities, vectors, hidden states or logits). */
export function checkFinite(event: ForwardEvent, weights: WeightFile | undefined, modelName: string): void {
  const bad = badArray(event);
  if (!bad) return;
  const suspect = weights && suspectWeight(weights);
  if (!suspect) throw new Error(`${modelName} produced NaN in ${bad}`); // the built-in demo: a bug, not a file
  const where = `${path.basename(suspect.file)} (${suspect.file})`;
  const message = suspect.nonFinite
    ? `Tensor "${suspect.tensor}" in ${where} holds NaN or infinite values, so ${bad} came out as NaN. The file is damaged; download it again.`
    : `${bad} came out as NaN although every weight is finite: the numbers overflowed float32. The largest weight is ${suspect.largest.toExponential(2)}, in tensor "${suspect.tensor}" of ${where}; a trained model's weights are far smaller, so the weights or config.json are likely damaged.`;
  throw new EngineError('BAD_SAFETENSORS', message, { remedies: ['choose-model'], details: { file: suspect.file, tensor: suspect.tensor } });
}
