/**
 * Benchmarks check that the fast run is also right: both sides return a sample of the last layer's
 * probabilities (every head, four query rows) and how peaked that layer is, and the bench reports
 * the largest difference. bench/cpu/torchPeer.py samples the same rows.
 */
const MAX_DIFFERENCE = 1e-3;

/** The sampled query rows of a T-token run. */
const sampleRows = (tokens) => [...new Set([0, Math.floor(tokens / 3), Math.floor(tokens / 2), tokens - 1])];

/** probs: [heads, T, T] → { rows, probs: [heads × rows][T], mean_row_max } (mean over every row and head). */
function sampleLastLayer(probs, heads, tokens) {
  const rows = sampleRows(tokens);
  const sampled = [];
  for (let h = 0; h < heads; h++) {
    for (const r of rows) sampled.push(Array.from(probs.subarray((h * tokens + r) * tokens, (h * tokens + r + 1) * tokens)));
  }
  let rowMaxSum = 0;
  for (let row = 0; row < heads * tokens; row++) {
    let max = 0;
    for (let j = 0; j < tokens; j++) max = Math.max(max, probs[row * tokens + j]);
    rowMaxSum += max;
  }
  return { rows, probs: sampled, mean_row_max: rowMaxSum / (heads * tokens) };
}

/** Largest |a − b| over two samples of the same rows. */
function sampleDifference(a, b) {
  if (a.rows.join() !== b.rows.join() || a.probs.length !== b.probs.length) throw new Error('the two samples cover different rows');
  let worst = 0;
  a.probs.forEach((row, i) => row.forEach((p, j) => {
    worst = Math.max(worst, Math.abs(p - b.probs[i][j]));
  }));
  return worst;
}

/** `{ max_abs_diff, mean_row_max, agree }` for a report line and the bench's JSON. */
function agreement(ours, peer) {
  const maxAbsDiff = sampleDifference(ours, peer);
  return { max_abs_diff: maxAbsDiff, mean_row_max: Math.round(ours.mean_row_max * 1000) / 1000, agree: maxAbsDiff <= MAX_DIFFERENCE };
}

module.exports = { sampleLastLayer, agreement, MAX_DIFFERENCE };
