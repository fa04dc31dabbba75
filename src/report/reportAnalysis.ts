/**
 * What a report carries of its run's analysis, computed when it is written, so that the page's Heads,
 * rollout and logit-lens views have what they show in VS Code: each stack's sinks, head scores,
 * induction scores and rollout under every weighting the toolbar offers, and the logit lens.
 */
import type { SinkInfo, WeightOptions } from '../protocol/data';
import type { AttentionStack } from '../protocol/messages';
import { analysisKey } from '../protocol/report';
import type { AnalysisSource } from '../view-model/analysisSource';
import type { ReportBuilder } from './reportHtml';

/** Every combination of the two weighting toggles. */
const WEIGHTINGS: readonly WeightOptions[] = [false, true].flatMap((valueWeighted) => [false, true].map((hideSinks) => ({ valueWeighted, hideSinks })));

/** Adds the analysis of `stacks` to the report; returns the sinks, which the report keeps in its JSON. */
export async function embedAnalysis(builder: ReportBuilder, source: AnalysisSource, stacks: readonly AttentionStack[]): Promise<Partial<Record<AttentionStack, readonly SinkInfo[]>>> {
  const sinks: Partial<Record<AttentionStack, readonly SinkInfo[]>> = {};
  for (const stack of stacks) {
    sinks[stack] = source.sinks(stack) ?? [];
    for (const options of WEIGHTINGS) {
      const scores = await source.headScores(stack, options);
      if (scores) builder.addAnalysis(analysisKey('scores', stack, options), scores);
      builder.addAnalysis(analysisKey('induction', stack, options), await source.induction(stack, options));
      const rollout = await source.rollout(stack, options);
      if (rollout !== undefined) builder.addAnalysis(analysisKey('rollout', stack, options), rollout);
    }
  }
  builder.addAnalysis(analysisKey('lens'), await source.logitLens());
  return sinks;
}
