/**
 * Every message the extension shows a user goes through here: it is shown as a notification, written
 * to the output channel, and kept (the last few) so that tests can read what a user was told — in
 * code-server's smoke-test mode notifications are not rendered. An action button runs its handler
 * once, whether the user clicks it or a test chooses it through `choose`.
 */
import * as vscode from 'vscode';

export type Severity = 'info' | 'warning' | 'error';

export interface NoticeAction {
  readonly title: string;
  run(): unknown;
}

export interface Notice {
  readonly id: number;
  readonly severity: Severity;
  readonly message: string;
  /** The buttons' titles. */
  readonly actions: readonly string[];
}

const KEPT_NOTICES = 50;

export class Notifier implements vscode.Disposable {
  private readonly kept: Notice[] = [];
  private readonly handlers = new Map<number, (title: string) => unknown>();
  private readonly notified = new vscode.EventEmitter<Notice>();
  readonly onDidNotify = this.notified.event;
  private nextId = 1;

  constructor(private readonly log: vscode.OutputChannel) {}

  info(message: string, ...actions: NoticeAction[]): Notice {
    return this.show('info', message, actions);
  }

  warn(message: string, ...actions: NoticeAction[]): Notice {
    return this.show('warning', message, actions);
  }

  error(message: string, ...actions: NoticeAction[]): Notice {
    return this.show('error', message, actions);
  }

  /** The last notices, oldest first. */
  get notices(): readonly Notice[] {
    return this.kept;
  }

  /** Runs the action titled `title` of a notice, as its button would; resolves with what the action returns. */
  async choose(notice: Notice, title: string): Promise<unknown> {
    const handler = this.handlers.get(notice.id);
    if (!handler || !notice.actions.includes(title)) throw new Error(`notice ${notice.id} has no action "${title}" (or it already ran)`);
    return handler(title);
  }

  private show(severity: Severity, message: string, actions: readonly NoticeAction[]): Notice {
    const notice: Notice = { id: this.nextId++, severity, message, actions: actions.map((a) => a.title) };
    this.kept.push(notice);
    if (this.kept.length > KEPT_NOTICES) this.handlers.delete(this.kept.shift()!.id);
    this.log.appendLine(`[${severity}] ${message}`);
    if (actions.length) {
      this.handlers.set(notice.id, (title) => {
        this.handlers.delete(notice.id); // one click per notice
        return actions.find((a) => a.title === title)?.run();
      });
    }
    const titles = actions.map((a) => a.title);
    const shown = severity === 'error'
      ? vscode.window.showErrorMessage(message, ...titles)
      : severity === 'warning' ? vscode.window.showWarningMessage(message, ...titles) : vscode.window.showInformationMessage(message, ...titles);
    void shown.then((title) => {
      const handler = title && this.handlers.get(notice.id);
      if (handler) void Promise.resolve(handler(title)).catch((err: unknown) => this.error(String(err instanceof Error ? err.message : err)));
    });
    this.notified.fire(notice);
    return notice;
  }

  dispose(): void {
    this.notified.dispose();
    this.handlers.clear();
  }
}
