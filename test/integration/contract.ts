// What the integration suite (inside the extension host) and the runners (outside it) agree on:
// environment variables, file names in the output folder, and the page-bridge messages.
// Imports nothing from `vscode`, so the runners can load it.
import * as path from 'path';

export const ENV = {
  /** Folder for the log, the results file, screenshots and bridge files. */
  outDir: 'ATTENTION_INSPECTOR_TEST_OUT',
  /** Set to "1" by a runner that serves page-bridge requests (code-server); absent under Electron. */
  pageBridge: 'ATTENTION_INSPECTOR_PAGE_BRIDGE',
  /** "1" adds a test that fails, to prove that a failure fails the run. */
  forceFail: 'ATTENTION_INSPECTOR_FORCE_FAIL',
  /** "1" adds a test that kills the extension host, to prove that a crash fails the run. */
  forceCrash: 'ATTENTION_INSPECTOR_FORCE_CRASH',
  /** Runs only the tests whose full title matches this regular expression (mocha's grep). */
  grep: 'ATTENTION_INSPECTOR_TEST_GREP',
  /** Set by the installed-.vsix runner: the extensions directory the .vsix was installed into. */
  extensionsDir: 'ATTENTION_INSPECTOR_EXTENSIONS_DIR',
} as const;

export const FILES = {
  log: 'test.log',
  results: 'results.json',
  bridgeDir: 'bridge',
  screenshotsDir: 'screenshots',
} as const;

export interface TestRecord {
  fullTitle: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs?: number;
  error?: string;
}

/** Rewritten after every test, so a crash leaves the tests that ran and `finished: false`. */
export interface ResultsFile {
  finished: boolean;
  passed: number;
  failed: number;
  pending: number;
  tests: TestRecord[];
}

/**
 * A page-side check, run by the driver with Playwright. `read` lists CSS selectors evaluated inside
 * the target: the panel's innermost webview document, the editor's visible hover widget, or the
 * workbench page itself (its screenshot is the whole window).
 */
export type PageRequest =
  | {
      kind: 'webview';
      /**
       * CSS selector of the webview's host iframe on the workbench page; by default the extension's own
       * (its panel). Webviews of the workbench itself, such as an Extensions page's README, have an empty
       * extensionId: `iframe.webview.ready[src*="extensionId=&"]`.
       */
      host?: string;
      /** Wait until this selector matches inside the webview (e.g. `#app[data-state="done"]`). */
      waitFor: string;
      /** Done in order after `waitFor`, before `read` and the screenshot. */
      steps?: PageStep[];
      read: string[];
      screenshot?: string;
      timeoutMs: number;
    }
  | { kind: 'hover'; read: string[]; screenshot?: string; timeoutMs: number }
  | { kind: 'workbench'; waitFor: string; read: string[]; screenshot?: string; timeoutMs: number };

/**
 * One action inside the webview: move the real mouse over an element or click it (Playwright, so the
 * page gets genuine pointer events), pause, wait for a selector to match, or evaluate a function `(document) => value` whose JSON
 * result is returned under `name`.
 */
export type PageStep =
  | { hover: string }
  | { click: string }
  | { pauseMs: number }
  | { waitFor: string }
  | { evaluate: string; name: string };

export interface ElementSnapshot {
  count: number;
  /** Text and attributes of the first match; empty when nothing matches. */
  text: string;
  attributes: Record<string, string>;
}

export type PageResponse =
  | { ok: true; elements: Record<string, ElementSnapshot>; values?: Record<string, unknown>; screenshotPath?: string }
  | { ok: false; error: string };

export function bridgeRequestPath(outDir: string, id: string): string {
  return path.join(outDir, FILES.bridgeDir, `${id}.request.json`);
}

export function bridgeResponsePath(outDir: string, id: string): string {
  return path.join(outDir, FILES.bridgeDir, `${id}.response.json`);
}

/** Screenshot names come from tests; keep them to a safe file name. */
export function screenshotPath(outDir: string, name: string): string {
  return path.join(outDir, FILES.screenshotsDir, `${name.replace(/[^\w.-]+/g, '_')}.png`);
}
