/**
 * A cancellable progress notification for a run, shown only once the run has taken 300 ms: quick runs
 * never flash one. Its Cancel button calls `onCancel` (which aborts the run's AbortSignal).
 */
import * as vscode from 'vscode';

const PROGRESS_DELAY_MS = 300;

export interface RunProgress {
  /** The latest step ("layer 3 of 8"); shown when the notification appears, and updated while it shows. */
  report(message: string): void;
  /** The run ended: the notification (if any) closes, a pending one never opens. */
  done(): void;
}

export function delayedProgress(title: string, onCancel: () => void): RunProgress {
  let latest: string | undefined;
  let progress: vscode.Progress<{ message?: string }> | undefined;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const timer = setTimeout(() => {
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (p, token) => {
      progress = p;
      if (latest) p.report({ message: latest });
      token.onCancellationRequested(onCancel);
      return finished;
    });
  }, PROGRESS_DELAY_MS);
  return {
    report: (message) => {
      latest = message;
      progress?.report({ message });
    },
    done: () => {
      clearTimeout(timer);
      finish();
    },
  };
}
