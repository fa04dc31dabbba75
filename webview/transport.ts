/**
 * Where the panel's messages and data come from and where its files go. In VS Code: the webview API
 * (the host streams runs, answers data queries from its run store, saves exports through a dialog).
 * In the standalone report: the page itself (reportHost.ts) replays the embedded run through the same
 * messages, answers the same queries, and the browser downloads exports.
 */
import type { DataQuery, DataReply } from '../src/protocol/data';
import type { AttentionStack, DataReplyMessage, ExportFormat, ExportResult, FromWebview, ToWebview } from '../src/protocol/messages';
import { REPORT_DATA_ID } from '../src/protocol/report';
import type { Preferences } from '../src/view-model/selection';
import { ReportHost } from './reportHost';

export interface Transport {
  post(message: FromWebview): void;
  onMessage(handler: (message: ToWebview) => void): void;
  /** Asks for the data a view draws about run `runId`; undefined when it is not there (yet). */
  request(runId: number, query: DataQuery): Promise<DataReply | undefined>;
  /** Saves a file; resolves with where it went (null when the user cancelled). HTML and JSON are built by whoever holds the run. */
  save(format: ExportFormat, fileName: string, content?: string | Uint8Array, stack?: AttentionStack): Promise<string | null>;
  /** Called by the panel with the host's reply to a save or a data request. */
  settle(result: ExportResult | DataReplyMessage): void;
  loadPreferences(): Partial<Preferences> | undefined;
  storePreferences(preferences: Preferences): void;
}

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

class VsCodeTransport implements Transport {
  private nextRequest = 1;
  private readonly saves = new Map<number, { resolve(path: string | null): void; reject(err: Error): void }>();
  private readonly queries = new Map<number, (reply: DataReply | undefined) => void>();

  constructor(private readonly api: VsCodeApi) {}

  post(message: FromWebview): void {
    this.api.postMessage(message);
  }

  onMessage(handler: (message: ToWebview) => void): void {
    window.addEventListener('message', (event: MessageEvent<ToWebview>) => handler(event.data));
  }

  request(runId: number, query: DataQuery): Promise<DataReply | undefined> {
    const requestId = this.nextRequest++;
    return new Promise((resolve) => {
      this.queries.set(requestId, resolve);
      this.post({ type: 'data-request', requestId, runId, query });
    });
  }

  save(format: ExportFormat, fileName: string, content?: string | Uint8Array, stack?: AttentionStack): Promise<string | null> {
    const requestId = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.saves.set(requestId, { resolve, reject });
      this.post({ type: 'export-request', requestId, format, fileName, content, stack });
    });
  }

  settle(result: ExportResult | DataReplyMessage): void {
    if (result.type === 'data-reply') {
      this.queries.get(result.requestId)?.(result.reply);
      this.queries.delete(result.requestId);
      return;
    }
    const request = this.saves.get(result.requestId);
    if (!request) return;
    this.saves.delete(result.requestId);
    if (result.error) request.reject(new Error(result.error));
    else request.resolve(result.path);
  }

  loadPreferences(): Partial<Preferences> | undefined {
    return (this.api.getState() as { preferences?: Partial<Preferences> } | undefined)?.preferences;
  }

  storePreferences(preferences: Preferences): void {
    this.api.setState({ preferences });
  }
}

class ReportTransport implements Transport {
  private handler: ((message: ToWebview) => void) | undefined;

  /** `emptyApp` is the root element as loaded, so "Save HTML" writes the report, not its rendered DOM. */
  constructor(private readonly host: ReportHost, private readonly emptyApp: string) {}

  post(message: FromWebview): void {
    if (message.type !== 'ready') return;
    // Replay one message per task, like a host streaming layers: the first layer paints before the rest.
    const messages = [...this.host.messages];
    const next = () => {
      const message = messages.shift();
      if (!message) return;
      this.handler?.(message);
      setTimeout(next, 0);
    };
    setTimeout(next, 0);
  }

  onMessage(handler: (message: ToWebview) => void): void {
    this.handler = handler;
  }

  request(_runId: number, query: DataQuery): Promise<DataReply | undefined> {
    return this.host.answer(query);
  }

  async save(format: ExportFormat, fileName: string, content?: string | Uint8Array, stack?: AttentionStack): Promise<string | null> {
    const body = format === 'html' ? this.pristine() : format === 'json' ? await this.host.json(stack) : content ?? '';
    const type = { png: 'image/png', svg: 'image/svg+xml', json: 'application/json', html: 'text/html' }[format];
    const url = URL.createObjectURL(new Blob([body as BlobPart], { type }));
    const link = document.createElement('a');
    link.href = url;
    link.download = fileName;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    return fileName;
  }

  settle(): void {
    // The report answers itself.
  }

  /** The page as it was loaded: the current one with the root element emptied again. */
  private pristine(): string {
    const page = document.documentElement.cloneNode(true) as HTMLElement;
    const app = page.querySelector('#app');
    const template = document.createElement('template');
    template.innerHTML = this.emptyApp;
    if (app && template.content.firstElementChild) app.replaceWith(template.content.firstElementChild);
    return '<!DOCTYPE html>\n' + page.outerHTML;
  }

  loadPreferences(): undefined {
    return undefined;
  }

  storePreferences(): void {
    // A file on disk keeps no state between openings.
  }
}

export function createTransport(): Transport {
  if (typeof acquireVsCodeApi === 'function') return new VsCodeTransport(acquireVsCodeApi());
  const data = document.getElementById(REPORT_DATA_ID);
  if (!data?.textContent) throw new Error('This page has neither VS Code nor embedded attention data.');
  return new ReportTransport(new ReportHost(data.textContent), document.getElementById('app')?.outerHTML ?? '');
}
