/**
 * Which tokens of a baseline run and of the current run are "the same token": the longest common
 * subsequence of their token strings, as a text diff pairs lines. Tokens an edit inserted have no
 * counterpart (added), tokens it deleted neither (removed); the rest pair up in order.
 */

export interface TokenAlignment {
  /** For each current token, the index of its baseline counterpart, or -1 (added). */
  readonly currentToBaseline: Int32Array;
  /** For each baseline token, the index of its current counterpart, or -1 (removed). */
  readonly baselineToCurrent: Int32Array;
}

/** Beyond this many table cells the middle (after the common prefix and suffix) stays unpaired. */
const MAX_TABLE_CELLS = 32 * 1024 * 1024;

export function alignTokens(baseline: readonly string[], current: readonly string[]): TokenAlignment {
  const currentToBaseline = new Int32Array(current.length).fill(-1);
  const baselineToCurrent = new Int32Array(baseline.length).fill(-1);
  const pair = (b: number, c: number) => {
    baselineToCurrent[b] = c;
    currentToBaseline[c] = b;
  };
  // An edit usually touches one place: the shared prefix and suffix pair up without a table.
  let prefix = 0;
  while (prefix < baseline.length && prefix < current.length && baseline[prefix] === current[prefix]) pair(prefix, prefix++);
  let suffix = 0;
  while (suffix < baseline.length - prefix && suffix < current.length - prefix && baseline[baseline.length - 1 - suffix] === current[current.length - 1 - suffix]) {
    pair(baseline.length - 1 - suffix, current.length - 1 - suffix);
    suffix++;
  }
  const rows = baseline.length - prefix - suffix, cols = current.length - prefix - suffix;
  if (rows === 0 || cols === 0 || (rows + 1) * (cols + 1) > MAX_TABLE_CELLS) return { currentToBaseline, baselineToCurrent };

  // lcs[i][j]: the LCS length of baseline[prefix + i …] and current[prefix + j …] (the middle's suffixes).
  const width = cols + 1;
  const lcs = new Uint32Array((rows + 1) * width);
  for (let i = rows - 1; i >= 0; i--) {
    for (let j = cols - 1; j >= 0; j--) {
      lcs[i * width + j] = baseline[prefix + i] === current[prefix + j]
        ? lcs[(i + 1) * width + j + 1] + 1
        : Math.max(lcs[(i + 1) * width + j], lcs[i * width + j + 1]);
    }
  }
  for (let i = 0, j = 0; i < rows && j < cols;) {
    if (baseline[prefix + i] === current[prefix + j]) {
      pair(prefix + i++, prefix + j++);
    } else if (lcs[(i + 1) * width + j] >= lcs[i * width + j + 1]) {
      i++;
    } else {
      j++;
    }
  }
  return { currentToBaseline, baselineToCurrent };
}
