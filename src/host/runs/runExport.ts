/**
 * The run as files: the standalone HTML report (every layer's weights and value norms, the baseline's
 * while comparing, and the run's analysis) and the JSON matrices of one stack. Both read the session's
 * run store, exactly.
 */
import type { LayerMessage } from '../../protocol/messages';
import { embedAnalysis } from '../../report/reportAnalysis';
import { ReportBuilder, loadReportAssets } from '../../report/reportHtml';
import type { AttentionRun } from '../../view-model/attentionRun';
import type { RunSession } from './runSession';

function addLayers(builder: ReportBuilder, part: 'run' | 'baseline', run: AttentionRun): void {
  for (const message of run.messages()) {
    if (message.type !== 'layer') continue;
    const data = run.withTensors(message as LayerMessage);
    if (data) builder.addLayer(part, message, data.probs, data.valueNorms);
  }
}

/** Writes the report of the session's run to `file` (running the analysis's extra passes if not done yet); resolves to its size in bytes. */
export async function writeRunReport(session: RunSession, file: string, extensionRoot: string): Promise<number> {
  const builder = new ReportBuilder();
  try {
    const run = session.run;
    addLayers(builder, 'run', run);
    const sinks = await embedAnalysis(builder, session.analysis, run.stacks());
    const baseline = session.comparing ? session.pinnedRun : undefined;
    if (baseline) addLayers(builder, 'baseline', baseline);
    return builder.write(file, session.replay(), loadReportAssets(extensionRoot), `Attention — ${run.started?.model.name ?? 'run'}`, baseline?.messages(), sinks);
  } finally {
    builder.dispose();
  }
}
