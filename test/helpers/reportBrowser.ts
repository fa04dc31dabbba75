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
import * as zlib from 'zlib';
import { base64ToBytes } from '../../src/protocol/codec';
import { fromFloat16Bits } from '../../src/protocol/float16';
import type { LayerMessage, RunMessage } from '../../src/protocol/messages';
import { unpackLayer } from '../../src/protocol/packing';
import { REPORT_DATA_ID, type ReportData } from '../../src/protocol/report';
import { layerMatrices, type AttentionRun } from '../../src/view-model/attentionRun';
import type { Layer } from '../../src/view-model/generation';
import { selectLinks, type Focus } from '../../src/view-model/links';
import { layerKey } from '../../src/view-model/tensors';
import { StoredRun } from './storedRun';
import { REPO_ROOT } from './repo';

export const ROOT = REPO_ROOT;
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

/**
 * A suite's Chromium: launched before its tests (which are skipped, with the reason, where it is
 * missing), each test checked to have asked nothing of the network, closed after the suite.
 */
export function reportBrowserForSuite(): () => ReportBrowser {
  let browser: ReportBrowser | undefined;
  before(async function () {
    browser = await launchReportBrowser(this);
  });
  afterEach(() => assert.deepStrictEqual(browser?.remoteRequests, [], 'the report asked the network'));
  after(async () => browser?.close());
  return () => browser!;
}

/** Call from a `before` hook (it may skip the suite). */
async function launchReportBrowser(suite: Mocha.Context): Promise<ReportBrowser | undefined> {
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
      await settled(page);
      return { page, errors };
    },
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Waits until the panel has drawn what it asked for: two frames (a change schedules its drawing and
 * its data queries for the next one), then until no query is on its way.
 */
export async function settled(page: Page): Promise<void> {
  // A string, evaluated in the page: the test tsconfig has no DOM types.
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
  await page.waitForSelector('#app:not([data-loading])');
}

/** The slice of an HTML element these checks read (the test tsconfig has no DOM types). */
export type Styled = { dataset: Record<string, string>; style: { backgroundColor: string } };

export async function appState(page: Page): Promise<Record<string, string>> {
  return page.locator('#app').evaluate((app) => ({ ...(app as unknown as Styled).dataset }));
}

/** Reads a report as the page does: its data, and its runs over the embedded (float16) weights. */
export function readReport(file: string): { data: ReportData; run: AttentionRun; baseline?: AttentionRun } {
  const html = fs.readFileSync(file, 'utf8');
  const json = new RegExp(`<script id="${REPORT_DATA_ID}" type="application/json">(.*?)</script>`, 's').exec(html);
  assert.ok(json, 'the report embeds its run');
  const data = JSON.parse(json[1]) as ReportData;
  const decode = (part: 'run' | 'baseline', messages: readonly RunMessage[]) => {
    const stored = new StoredRun(messages);
    const layers = new Map(stored.run.messages().filter((m): m is LayerMessage => m.type === 'layer').map((m) => [layerKey(m), m]));
    for (const chunk of data.chunks.filter((c) => c.part === part && c.content === 'probs')) {
      const text = new RegExp(`<script id="${chunk.element}" type="application/octet-stream">([^<]*)</script>`).exec(html);
      assert.ok(text, `the report has its chunk ${chunk.element}`);
      const bytes = zlib.inflateRawSync(base64ToBytes(text[1]));
      const layer = layers.get(chunk.key)!;
      const half = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
      stored.tensors.set(layer, { probs: unpackLayer(fromFloat16Bits(half), layer), approximate: true });
    }
    return stored.run;
  };
  const run = decode('run', data.messages.filter((m): m is RunMessage => m.type !== 'baseline'));
  return { data, run, baseline: data.baseline && decode('baseline', data.baseline) };
}

/** Writes a report with the CLI and reads it back as the page does. */
export function cliReport(file: string, ...args: string[]): { data: ReportData; run: AttentionRun } {
  execFileSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'inspect', ...args, '--backend', 'cpu', '--html', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  return readReport(file);
}

/** The links the head view should draw for a focus with every head on (computed here from the same data). */
export function expectedLinks(layer: Layer, focus: Focus) {
  const heads = Array.from({ length: layer.numHeads }, (_, h) => h);
  return selectLinks({ matrices: layerMatrices(layer), heads, activeCount: heads.length, focus, rows: { start: 0, end: 0 } });
}
