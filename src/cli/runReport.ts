/**
 * The CLI's standalone report (inspect --html, demo): the run's messages and each layer's weights are
 * handed to the report builder as the engine streams them, so nothing of the run accumulates; short
 * runs also carry each layer's step-by-step data (its trace).
 */
import type { InspectionSummary } from '../engine/inspect';
import type { ForwardEvent } from '../engine/model';
import type { InspectStarted } from '../engine/worker/messages';
import type { RunMessage } from '../protocol/messages';
import type { GeneratedToken } from '../protocol/run';
import { ReportBuilder, loadReportAssets } from '../report/reportHtml';
import { finishedMessage, generatedTokenMessage, layerMessage, startedMessage, type GenerationStart } from '../store/runMessages';
import { stepRecipe } from '../view-model/computation';

const RUN_ID = 1;

export class CliReport {
  private readonly builder = new ReportBuilder();
  private readonly messages: RunMessage[] = [];
  private started: InspectStarted | undefined;

  constructor(private readonly texts: { source?: string; target?: string }, private readonly generation?: GenerationStart) {}

  start(started: InspectStarted): void {
    this.started = started;
  }

  event(event: ForwardEvent): void {
    if (!this.started || (event.type !== 'attention' && event.type !== 'trace')) return;
    const message = layerMessage(RUN_ID, event, this.started.model);
    if (event.type === 'trace') return this.builder.addSteps(message, event.stages, stepRecipe(event.recipe));
    this.messages.push(message);
    this.builder.addLayer('run', message, event.probs);
  }

  token(token: GeneratedToken): void {
    this.messages.push(generatedTokenMessage(RUN_ID, token));
  }

  /** Writes the page; returns its size in bytes. */
  write(file: string, summary: InspectionSummary, assetsRoot: string, title: string): number {
    // The started message is made last: generation learns the decoder's start token only from the engine's summary.
    const generation = this.generation && { ...this.generation, decoderStartToken: this.generation.decoderStartToken ?? summary.generated?.startToken };
    const started = this.started ? [startedMessage(RUN_ID, this.started, this.texts, generation)] : [];
    try {
      return this.builder.write(file, [...started, ...this.messages, finishedMessage(RUN_ID, summary.timings)], loadReportAssets(assetsRoot), title);
    } finally {
      this.builder.dispose();
    }
  }

  dispose(): void {
    this.builder.dispose();
  }
}
