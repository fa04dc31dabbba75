/**
 * "Attention: Pin as Baseline" keeps the panel's current run; "Attention: Compare with Baseline" turns
 * the comparison of the panel's run with it on (and off again): the panel then shows current − baseline
 * for tokens that correspond, for this run and the runs after it, until switched off. Issue 6: "edit the
 * text, re-run, and see which weights changed".
 */
import * as vscode from 'vscode';
import type { Notice, Notifier } from '../notify';
import type { Baseline } from '../../protocol/messages';
import { CommandId } from '../commandIds';
import type { RunSession } from '../runs/runSession';

export type BaselineOutcome =
  | { readonly status: 'pinned'; readonly tokens: number; readonly notice: Notice }
  | { readonly status: 'comparing' | 'stopped'; readonly notice: Notice }
  | { readonly status: 'failed'; readonly notice: Notice };

function describe(baseline: Baseline): string {
  const text = baseline.source.text ?? baseline.source.tokens.join(' ');
  return `“${text.length > 40 ? `${text.slice(0, 39)}…` : text}” (${baseline.model.name}, ${baseline.source.tokens.length} tokens)`;
}

export function registerBaselineCommands(session: RunSession, notifier: Notifier): vscode.Disposable {
  const pin = (): BaselineOutcome => {
    const run = session.run;
    if (!run.started) {
      return { status: 'failed', notice: notifier.error(vscode.l10n.t('Nothing to pin yet: inspect a selection first ("Attention: Inspect Selection"), then pin its run as the baseline.')) };
    }
    if (run.state !== 'done') {
      const why = run.state === 'running' ? vscode.l10n.t('The run is still computing: pin it once it has finished.') : vscode.l10n.t('The run failed: only a finished run can be the baseline.');
      return { status: 'failed', notice: notifier.error(why) };
    }
    session.pin();
    const pinned = session.baseline!;
    // While comparing, the panel compares with the new baseline at once.
    if (session.comparing) session.compare(true);
    const notice = notifier.info(vscode.l10n.t('Pinned {0} as the baseline. Edit the text, inspect it again, then run "Attention: Compare with Baseline".', describe(pinned)));
    return { status: 'pinned', tokens: pinned.source.tokens.length, notice };
  };

  const compare = (): BaselineOutcome => {
    const pinned = session.baseline;
    if (!pinned) {
      return { status: 'failed', notice: notifier.error(vscode.l10n.t('No baseline is pinned: run "Attention: Pin as Baseline" on a run first, then edit the text, inspect it again and compare.')) };
    }
    if (!session.run.started) {
      return { status: 'failed', notice: notifier.error(vscode.l10n.t('There is no run to compare with the baseline: inspect the edited text first ("Attention: Inspect Selection").')) };
    }
    if (session.comparing) {
      session.compare(false);
      return { status: 'stopped', notice: notifier.info(vscode.l10n.t('Stopped comparing with the baseline.')) };
    }
    session.compare(true);
    return { status: 'comparing', notice: notifier.info(vscode.l10n.t('Comparing with the baseline {0}: the panel shows how the weights changed.', describe(pinned))) };
  };

  return vscode.Disposable.from(
    vscode.commands.registerCommand(CommandId.PinBaseline, pin),
    vscode.commands.registerCommand(CommandId.CompareWithBaseline, compare),
  );
}
