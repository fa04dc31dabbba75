/** Tolerance comparison with the index of the first mismatch in the message. */
import * as assert from 'assert';

export interface Tolerance {
  atol: number;
  rtol?: number;
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, what: string, skip?: (i: number) => boolean): void {
  assert.strictEqual(actual.length, expected.length, `${what}: length ${actual.length} ≠ ${expected.length}`);
  const rtol = tol.rtol ?? 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    if (skip?.(i)) continue;
    const a = actual[i];
    const e = expected[i];
    const diff = Math.abs(a - e);
    if (!(diff <= tol.atol + rtol * Math.abs(e))) {
      assert.fail(`${what}: first mismatch at flat index ${i}: got ${a}, expected ${e} (|Δ| ${diff.toExponential(2)} > atol ${tol.atol}${rtol ? ` + rtol ${rtol}·|e|` : ''})`);
    }
    worst = Math.max(worst, diff);
  }
}
