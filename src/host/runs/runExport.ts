/**
 * The run as files: the standalone HTML report (every layer's weights, and the baseline's while
 * comparing) and the JSON matrices of one stack. Both read the session's run store, exactly.
 */
import type { LayerMessage } from '../../protocol/messages';
import { ReportBuilder, loadReportAssets } from '../../report/reportHtml';
import type { AttentionRun } from '../../view-model/attentionRun';
import type { RunSession } from './runSession';

function addLayers(builder: ReportBuilder, part: 'run' | 'baseline', run: AttentionRun): void {
  for (const message of run.messages()) {
    if (message.type !== 'layer') continue;
    const data = run.withTensors(message as LayerMessage);
    if (data) builder.addLayer(part, message, data.probs);
  }
}

/** Writes the report of the session's run to `file`; returns its size in bytes. */
export function writeRunReport(session: RunSession, file: string, extensionRoot: string): number {
  const builder = new ReportBuilder();
  try {
    const run = session.run;
    addLayers(builder, 'run', run);
    const baseline = session.comparing ? session.pinnedRun : undefined;
    if (baseline) addLayers(builder, 'baseline', baseline);
    return builder.write(file, session.replay(), loadReportAssets(extensionRoot), `Attention — ${run.started?.model.name ?? 'run'}`, baseline?.messages());
  } finally {
    builder.dispose();
  }
}
