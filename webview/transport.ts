/**
 * Where the panel's messages come from and where its files go. In VS Code: the webview API (the host
 * streams runs, saves exports through a dialog). In the standalone report: the run embedded in the page,
 * replayed through the same messages, and exports downloaded by the browser.
 */
import { DATA_ELEMENT_ID, decodeRunMessages } from '../src/protocol/codec';
import type { ExportFormat, ExportResult, FromWebview, ToWebview } from '../src/protocol/messages';
import type { Preferences } from '../src/view-model/selection';

export interface Transport {
  post(message: FromWebview): void;
  onMessage(handler: (message: ToWebview) => void): void;
  /** Saves a file; resolves with where it went (null when the user cancelled). */
  save(format: ExportFormat, fileName: string, content?: string | Uint8Array): Promise<string | null>;
  /** Called by the panel with the host's reply to a save. */
  settle(result: ExportResult): void;
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
  private readonly pending = new Map<number, { resolve(path: string | null): void; reject(err: Error): void }>();

  constructor(private readonly api: VsCodeApi) {}

  post(message: FromWebview): void {
    this.api.postMessage(message);
  }

  onMessage(handler: (message: ToWebview) => void): void {
    window.addEventListener('message', (event: MessageEvent<ToWebview>) => handler(event.data));
  }

  save(format: ExportFormat, fileName: string, content?: string | Uint8Array): Promise<string | null> {
    const requestId = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      this.post({ type: 'export-request', requestId, format, fileName, content });
    });
  }

  settle(result: ExportResult): void {
    const request = this.pending.get(result.requestId);
    if (!request) return;
    this.pending.delete(result.requestId);
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

  /** `pristine` is the page as loaded, so "Save HTML" writes the report, not its rendered DOM. */
  constructor(private readonly data: string, private readonly pristine: string) {}

  post(message: FromWebview): void {
    if (message.type !== 'ready') return;
    // Replay one message per task, like a host streaming layers: the first layer paints before the rest.
    const messages = decodeRunMessages(this.data);
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

  async save(format: ExportFormat, fileName: string, content?: string | Uint8Array): Promise<string | null> {
    const body = format === 'html' ? this.pristine : content ?? '';
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
    // The report has no host to reply.
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
  const data = document.getElementById(DATA_ELEMENT_ID);
  if (!data?.textContent) throw new Error('This page has neither VS Code nor embedded attention data.');
  const pristine = '<!DOCTYPE html>\n' + document.documentElement.outerHTML;
  return new ReportTransport(data.textContent, pristine);
}
