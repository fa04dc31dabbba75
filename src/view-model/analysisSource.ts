/**
 * Where the analysis views get their numbers: the host computes them from its run and runs the engine
 * again for the recipes that need a run of their own (src/store/analysisStore.ts); a standalone report
 * carries what was computed when it was written (webview/reportHost.ts). Everything is over model tokens
 * and as the weighting options make the attention; DataService folds tokens for the views.
 */
import type { HeadScoresReply, InductionReply, LogitLensReply, SinkInfo, WeightOptions } from '../protocol/data';
import type { AttentionStack } from '../protocol/messages';
import type { HeadMatrices } from './matrices';

export interface AnalysisSource {
  /** The stack's sinks, detected from its attention as computed; undefined while none of its layers is there. */
  sinks(stack: AttentionStack): readonly SinkInfo[] | undefined;
  /** Every head's role scores over the stack's layers; undefined until every layer is there. */
  headScores(stack: AttentionStack, options: WeightOptions): Promise<HeadScoresReply | undefined>;
  induction(stack: AttentionStack, options: WeightOptions): Promise<InductionReply>;
  /** The stack's rollout [1, queries, keys] over model tokens, why there is none, or undefined until every layer is there. */
  rollout(stack: AttentionStack, options: WeightOptions): Promise<HeadMatrices | string | undefined>;
  logitLens(): Promise<LogitLensReply>;
}

/** The sink positions of a stack, for hiding them (none where they are not known). */
export function sinkPositions(source: AnalysisSource | undefined, stack: AttentionStack): number[] {
  return source?.sinks(stack)?.map((s) => s.position) ?? [];
}
