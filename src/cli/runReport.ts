/**
 * The CLI's standalone report (inspect --html, demo): the run's messages and each layer's weights are
 * handed to the report builder as the engine streams them, so nothing of the run accumulates; short
 * runs also carry each layer's step-by-step data (its trace). Each layer also goes to a run store, as
 * in VS Code: the run's analysis is computed from those exact float32 weights (the report's are
 * float16, and decoding them for every pass took most of the time), with the engine for the
 * induction recipe, and the logit lens the run streamed along with its attention.
 */
import type { InspectionSummary } from '../engine/inspect';
import type { ForwardEvent, LensEvent } from '../engine/model';
import type { EngineClient, InspectRequest, InspectResult, InspectStarted } from '../engine/worker/engineClient';
import type { ReportData } from '../protocol/report';
import type { RunMessage } from '../protocol/messages';
import type { GeneratedToken } from '../protocol/run';
import { embedAnalysis } from '../report/reportAnalysis';
import { ReportBuilder, loadReportAssets } from '../report/reportHtml';
import { enginePasses, lensReply, shownInput } from '../store/analysisPasses';
import { AnalysisStore } from '../store/analysisStore';
import { RunStore } from '../store/runStore';
import { finishedMessage, generatedTokenMessage, layerMessage, startedMessage, type GenerationStart } from '../store/runMessages';
import { AttentionRun } from '../view-model/attentionRun';
import { stepRecipe } from '../view-model/computation';

const RUN_ID = 1;

export class CliReport {
  private readonly builder = new ReportBuilder();
  private readonly store = new RunStore();
  private readonly lenses: LensEvent[] = [];
  private readonly messages: RunMessage[] = [];
  private started: InspectStarted | undefined;
  private sinks: ReportData['sinks'];

  constructor(private readonly texts: { source?: string; target?: string }, private readonly generation?: GenerationStart) {}

  start(started: InspectStarted): void {
    this.started = started;
  }

  event(event: ForwardEvent): void {
    if (event.type === 'lens') this.lenses.push(event);
    if (!this.started || (event.type !== 'attention' && event.type !== 'trace')) return;
    const message = layerMessage(RUN_ID, event, this.started.model);
    if (event.type === 'trace') return this.builder.addSteps(message, event.stages, stepRecipe(event.recipe));
    this.messages.push(message);
    this.builder.addLayer('run', message, event.probs, event.valueNorms);
    this.store.write(message, event.probs, event.valueNorms);
  }

  token(token: GeneratedToken): void {
    this.messages.push(generatedTokenMessage(RUN_ID, token));
  }

  /** Adds the run's analysis (head scores, sinks, rollout; induction and the logit lens run on `engine`). */
  async analyze(engine: Pick<EngineClient, 'inspect'>, request: InspectRequest, result: InspectResult): Promise<void> {
    const run = new AttentionRun(this.store);
    for (const message of this.replay(result)) run.accept(message);
    const passes = enginePasses(() => engine, request, result.model, () => shownInput(request, result, run.stepsShown));
    // A generation's lens is of the prompt and the tokens shown: a pass of its own.
    const streamed = !result.generated && this.lenses.length > 0;
    const lens = lensReply(this.lenses, result.model);
    this.sinks = await embedAnalysis(this.builder, new AnalysisStore(run, streamed ? { ...passes, logitLens: async () => lens } : passes), run.stacks());
  }

  /** Writes the page; returns its size in bytes. */
  write(file: string, summary: InspectionSummary, assetsRoot: string, title: string): number {
    try {
      return this.builder.write(file, this.replay(summary), loadReportAssets(assetsRoot), title, undefined, this.sinks);
    } finally {
      this.dispose();
    }
  }

  dispose(): void {
    this.builder.dispose();
    this.store.dispose();
  }

  /** The run's messages. The started message is made last: generation learns the decoder's start token only from the engine's summary. */
  private replay(summary: InspectionSummary): RunMessage[] {
    const generation = this.generation && { ...this.generation, decoderStartToken: this.generation.decoderStartToken ?? summary.generated?.startToken };
    const started = this.started ? [startedMessage(RUN_ID, this.started, this.texts, generation)] : [];
    return [...started, ...this.messages, finishedMessage(RUN_ID, summary.timings)];
  }
}
