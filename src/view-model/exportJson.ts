/** The JSON export: every received layer of one attention stack as nested lists, with its tokens. */
import type { AttentionStack } from '../protocol/messages';
import type { AttentionRun } from './attentionRun';

/** Six decimals: more than a float32 probability carries in absolute terms, and half the file size. */
const round = (x: number) => Math.round(x * 1e6) / 1e6;

export function matricesJson(run: AttentionRun, stack: AttentionStack): string {
  const started = run.started;
  if (!started) throw new Error('matricesJson needs a started run');
  const layers = Array.from({ length: run.layerCount(stack) }, (_, l) => l).flatMap((l) => {
    const layer = run.layerData(stack, l);
    if (!layer) return [];
    const { numHeads, queryLength: rows, keyLength: cols, probs } = layer;
    const heads = Array.from({ length: numHeads }, (_, head) =>
      Array.from({ length: rows }, (_, r) => Array.from(probs.subarray((head * rows + r) * cols, (head * rows + r + 1) * cols), round)));
    return [{ layer: layer.layer, shape: [numHeads, rows, cols], attentions: heads }];
  });
  return JSON.stringify({
    model: started.model.name,
    stack,
    queryTokens: run.queryTokens(stack)?.tokens,
    keyTokens: run.keyTokens(stack)?.tokens,
    layers,
  });
}
