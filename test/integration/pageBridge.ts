// Extension-host side of the page bridge: a test asks the driver (which owns the browser page) to read
// the panel's DOM or the hover widget, and awaits the answer. Request and response are files in the
// output folder. The wait is a timer-paced poll, so the extension host keeps serving the workbench.
import * as fs from 'fs';
import * as path from 'path';
import { ENV, ElementSnapshot, PageRequest, PageResponse, bridgeRequestPath, bridgeResponsePath } from './contract';

const POLL_INTERVAL_MS = 100;
/** Time the driver gets beyond the request's own timeout to answer at all. */
const ANSWER_GRACE_MS = 15_000;
let nextRequestNumber = 1;

/** True when the runner serves page requests (code-server); false under @vscode/test-electron. */
export function pageBridgeAvailable(): boolean {
  return process.env[ENV.pageBridge] === '1' && !!process.env[ENV.outDir];
}

/**
 * For checks that read the page: under a runner without the bridge (the Electron runner) the test,
 * having made its other checks, is marked skipped instead of passing without the page checks.
 */
export function skipWithoutPageBridge(test: Mocha.Context): void {
  if (pageBridgeAvailable()) return;
  console.log(`    (the page checks of "${test.test?.title}" need the code-server runner: marked skipped)`);
  test.skip();
}

/** Sends one request and resolves with the elements read, or rejects with the driver's error. */
export async function askPage(request: PageRequest): Promise<Record<string, ElementSnapshot>> {
  return (await askPageFully(request)).elements;
}

/** As askPage, with the values of the request's `evaluate` steps. */
export async function askPageFully(request: PageRequest): Promise<{ elements: Record<string, ElementSnapshot>; values: Record<string, unknown> }> {
  const outDir = process.env[ENV.outDir];
  if (!pageBridgeAvailable() || !outDir) throw new Error('no page bridge in this runner (use the code-server runner)');
  const id = `${process.pid}-${nextRequestNumber++}`;
  const requestFile = bridgeRequestPath(outDir, id);
  const responseFile = bridgeResponsePath(outDir, id);
  fs.mkdirSync(path.dirname(requestFile), { recursive: true });
  // Write then rename, so the driver never reads half a request.
  await fs.promises.writeFile(requestFile + '.tmp', JSON.stringify(request));
  await fs.promises.rename(requestFile + '.tmp', requestFile);

  const deadline = Date.now() + request.timeoutMs + ANSWER_GRACE_MS;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    let text: string;
    try {
      text = await fs.promises.readFile(responseFile, 'utf8');
    } catch {
      continue;
    }
    const response = JSON.parse(text) as PageResponse;
    if (!response.ok) throw new Error(`page check failed: ${response.error}`);
    return { elements: response.elements, values: response.values ?? {} };
  }
  throw new Error(`the driver did not answer page request ${id} (${request.kind}) in time`);
}

/** An `evaluate` step's source: sets the panel's select labelled `label` to `value` and fires its change, as a user's pick does. */
export function chooseInSelect(label: string, value: string): string {
  return `(doc) => {
    const select = doc.querySelector('select[aria-label="${label}"]');
    select.value = '${value}';
    select.dispatchEvent(new Event('change'));
    return true;
  }`;
}
