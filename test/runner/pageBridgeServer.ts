// Driver side of the page bridge (see test/integration/pageBridge.ts): watches the bridge folder for
// requests from the extension host, answers each with Playwright on the workbench page.
import * as fs from 'fs';
import * as path from 'path';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import {
  ElementSnapshot,
  FILES,
  PageRequest,
  PageResponse,
  bridgeResponsePath,
  screenshotPath,
} from '../integration/contract';
import { sleep } from './codeServerProcess';

const POLL_INTERVAL_MS = 100;
const REQUEST_SUFFIX = '.request.json';

export interface PageBridgeServer {
  stop(): Promise<void>;
}

export function servePageBridge(page: Page, outDir: string, extensionId: string): PageBridgeServer {
  const bridgeDir = path.join(outDir, FILES.bridgeDir);
  fs.mkdirSync(bridgeDir, { recursive: true });
  const answered = new Set<string>();
  let stopped = false;

  const loop = (async () => {
    while (!stopped) {
      for (const name of fs.readdirSync(bridgeDir)) {
        if (!name.endsWith(REQUEST_SUFFIX) || answered.has(name)) continue;
        answered.add(name);
        const id = name.slice(0, -REQUEST_SUFFIX.length);
        const request = JSON.parse(fs.readFileSync(path.join(bridgeDir, name), 'utf8')) as PageRequest;
        const response = await answer(page, outDir, extensionId, request);
        console.log(`[page bridge] ${request.kind} ${id}: ${response.ok ? 'ok' : response.error}`);
        const responseFile = bridgeResponsePath(outDir, id);
        fs.writeFileSync(responseFile + '.tmp', JSON.stringify(response, null, 2));
        fs.renameSync(responseFile + '.tmp', responseFile);
      }
      await sleep(POLL_INTERVAL_MS);
    }
  })();

  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

async function answer(page: Page, outDir: string, extensionId: string, request: PageRequest): Promise<PageResponse> {
  try {
    switch (request.kind) {
      case 'webview':
        return await readWebview(page, outDir, extensionId, request);
      case 'hover':
        return await readHover(page, outDir, request);
      case 'workbench':
        return await readWorkbench(page, outDir, request);
      default:
        return { ok: false, error: `unknown request kind ${(request as { kind: string }).kind}` };
    }
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** A webview is two nested iframes: the host frame of the extension's panel, then its active frame. */
async function readWebview(
  page: Page,
  outDir: string,
  extensionId: string,
  request: Extract<PageRequest, { kind: 'webview' }>,
): Promise<PageResponse> {
  const hostFrame = page.locator(request.host ?? `iframe.webview.ready[src*="extensionId=${extensionId}"]`).last();
  const document = hostFrame.contentFrame().locator('iframe#active-frame').contentFrame();
  await document.locator(request.waitFor).first().waitFor({ state: 'attached', timeout: request.timeoutMs });
  const values: Record<string, unknown> = {};
  for (const step of request.steps ?? []) {
    if ('hover' in step) await document.locator(step.hover).first().hover({ timeout: request.timeoutMs });
    else if ('click' in step) await document.locator(step.click).first().click({ timeout: request.timeoutMs });
    else if ('pauseMs' in step) await sleep(step.pauseMs);
    else if ('waitFor' in step) await document.locator(step.waitFor).first().waitFor({ state: 'attached', timeout: request.timeoutMs });
    else {
      // A function (not a string) so that Playwright calls it with the element; its source is the test's.
      const probe = new Function('root', `return (${step.evaluate})(root.ownerDocument);`) as (root: { ownerDocument: unknown }) => unknown;
      values[step.name] = await document.locator(':root').evaluate(probe);
    }
  }
  const elements = await readAll(document, request.read);
  const shot = request.screenshot ? await saveScreenshot(hostFrame, outDir, request.screenshot) : undefined;
  return { ok: true, elements, values, screenshotPath: shot };
}

async function readHover(page: Page, outDir: string, request: Extract<PageRequest, { kind: 'hover' }>): Promise<PageResponse> {
  const hover = page.locator('.monaco-hover:visible').first();
  await hover.waitFor({ state: 'visible', timeout: request.timeoutMs });
  const elements = await readAll(hover, request.read);
  const shot = request.screenshot ? await saveScreenshot(hover, outDir, request.screenshot) : undefined;
  return { ok: true, elements, screenshotPath: shot };
}

async function readWorkbench(page: Page, outDir: string, request: Extract<PageRequest, { kind: 'workbench' }>): Promise<PageResponse> {
  const root = page.locator(':root');
  await root.locator(request.waitFor).first().waitFor({ state: 'visible', timeout: request.timeoutMs });
  const elements = await readAll(root, request.read);
  const shot = request.screenshot ? await saveScreenshot(page.locator('body'), outDir, request.screenshot) : undefined;
  return { ok: true, elements, screenshotPath: shot };
}

async function readAll(root: FrameLocator | Locator, selectors: string[]): Promise<Record<string, ElementSnapshot>> {
  const elements: Record<string, ElementSnapshot> = {};
  for (const selector of selectors) {
    const matches = root.locator(selector);
    const count = await matches.count();
    const first =
      count === 0
        ? { text: '', attributes: {} }
        : await matches.first().evaluate((element) => ({
            text: element.textContent ?? '',
            attributes: Object.fromEntries(Array.from(element.attributes, (a: { name: string; value: string }) => [a.name, a.value])),
          }));
    elements[selector] = { count, ...first };
  }
  return elements;
}

async function saveScreenshot(target: Locator, outDir: string, name: string): Promise<string> {
  const file = screenshotPath(outDir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await target.screenshot({ path: file });
  return file;
}
