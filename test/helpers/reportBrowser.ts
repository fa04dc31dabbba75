/**
 * Standalone reports in headless Debian Chromium (playwright-core), for the report tests: reports
 * written by the CLI as a user would, one browser profile per suite, every request that would leave the
 * file refused and recorded, and a page opened on a report once it has replayed its run. Without
 * Chromium a suite skips locally and fails in CI.
 */
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { BrowserContext, Page } from 'playwright-core';
import { DATA_ELEMENT_ID, decodeRunMessages } from '../../src/protocol/codec';
import type { LayerMessage, ReplayMessage } from '../../src/protocol/messages';
import { layerMatrices } from '../../src/view-model/attentionRun';
import { selectLinks, type Focus } from '../../src/view-model/links';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const REPORT_OUT = path.join(ROOT, 'test-output', 'report');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface ReportBrowser {
  /** Opens a report from disk and waits for its run to finish replaying; `errors` collects page errors. */
  open(file: string, beforeLoad?: (page: Page) => Promise<unknown>): Promise<{ page: Page; errors: string[] }>;
  /** URLs the pages asked for beyond file:, data: and blob: (each refused). */
  readonly remoteRequests: string[];
  close(): Promise<void>;
}

/** Call from a `before` hook (it may skip the suite). */
export async function launchReportBrowser(suite: Mocha.Context): Promise<ReportBrowser | undefined> {
  if (!fs.existsSync(CHROMIUM)) {
    const why = `${CHROMIUM} is missing: install it with "apt-get install -y --no-install-recommends chromium".`;
    if (process.env.CI) throw new Error(why);
    console.warn(`      skipped: ${why}`);
    suite.skip();
    return undefined;
  }
  assert.ok(fs.existsSync(path.join(ROOT, 'media', 'webview.js')), 'media/webview.js is missing: run npm run build');
  fs.mkdirSync(REPORT_OUT, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-report-chromium-'));
  const { chromium } = await import('playwright-core');
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1280, height: 900 }, acceptDownloads: true,
  });
  const remoteRequests: string[] = [];
  // No request may leave the file: the report is self-contained.
  await context.route(/^(?!file:|data:|blob:)/, (route) => {
    remoteRequests.push(route.request().url());
    return route.abort();
  });
  return {
    remoteRequests,
    async open(file, beforeLoad) {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await beforeLoad?.(page);
      await page.goto(`file://${file}`);
      await page.waitForSelector('#app[data-state="done"]');
      return { page, errors };
    },
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The slice of an HTML element these checks read (the test tsconfig has no DOM types). */
export type Styled = { dataset: Record<string, string>; style: { backgroundColor: string } };

export async function appState(page: Page): Promise<Record<string, string>> {
  return page.locator('#app').evaluate((app) => ({ ...(app as unknown as Styled).dataset }));
}

/** Writes a report with the CLI and returns the messages embedded in it. */
export function cliReportMessages(file: string, ...args: string[]): ReplayMessage[] {
  execFileSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'inspect', ...args, '--backend', 'cpu', '--html', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  const html = fs.readFileSync(file, 'utf8');
  const data = new RegExp(`<script id="${DATA_ELEMENT_ID}" type="application/json">(.*?)</script>`, 's').exec(html);
  assert.ok(data, 'the report embeds its run');
  return decodeRunMessages(data[1]);
}

/** The links the head view should draw for a focus with every head on (computed here from the same data). */
export function expectedLinks(layer: LayerMessage, focus: Focus) {
  const heads = Array.from({ length: layer.numHeads }, (_, h) => h);
  return selectLinks({ matrices: layerMatrices(layer), heads, activeCount: heads.length, focus, rows: { start: 0, end: 0 } });
}
