// Runs a mocha suite (a `run()` entry) inside code-server's real extension host, driven by Playwright +
// Debian Chromium, fully offline: the integration suite against this repository (codeServer.ts) and the
// smoke suite against an installed .vsix (installed.ts). See README "Tests" and
// ../shared/docs/integration-tests-offline.md. Exit code 0 only when the suite's own results file
// shows every test passed and the extension host exited cleanly.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { setTimeout as delay } from 'timers/promises';
import { Browser, chromium } from 'playwright-core';
import { ENV, FILES } from '../integration/contract';
import {
  CodeServerDirs,
  CodeServerInstall,
  RunningCodeServer,
  codeServerDirs,
  isCleanExtensionHostExit,
  locateInstall,
  readExtensionHostExits,
  sleep,
  startCodeServer,
  waitForHealthy,
} from './codeServerProcess';
import { servePageBridge } from './pageBridgeServer';
import { judgeResults, reportVerdict } from './verdict';
import { tailFile } from './tailFile';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
const timeoutSeconds = Number(process.env.ATTENTION_INSPECTOR_TEST_TIMEOUT_S ?? 600);
/** After the workbench reports the end, the extension host's exit line follows within this time. */
const EXIT_LINE_WAIT_MS = 15_000;
/** Teardown gets this long after the overall timeout before the driver kills everything and exits. */
const TEARDOWN_GRACE_MS = 60_000;

type Ending =
  | { kind: 'automation-exit'; code: number }
  | { kind: 'extension-host-exit'; line: string }
  | { kind: 'server-exit'; code: number | null }
  | { kind: 'timeout' };

export interface SuiteRun {
  /** Where test.log, results.json, code-server.log and screenshots/ go; emptied first. */
  readonly outDir: string;
  /**
   * The development payload: the extension under development and the suite's `run()` entry. The workbench
   * runs a suite only with both (the extension host refuses extensionTestsPath alone).
   */
  readonly developmentPath: string;
  readonly testsPath: string;
  /** More variables for the extension host, beside the output folder and the page bridge's flag. */
  readonly environment?: (dirs: CodeServerDirs) => Record<string, string>;
  /** Runs once the fresh directories exist, before code-server starts (installs a .vsix, say). */
  readonly prepare?: (install: CodeServerInstall, dirs: CodeServerDirs) => void;
  /** Further checks once the run has ended, before the directories go: each line returned fails the run. */
  readonly check?: (dirs: CodeServerDirs) => string[];
}

export async function runSuite(run: SuiteRun): Promise<number> {
  const { outDir } = run;
  const startedAt = Date.now();
  const install = locateInstall();
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-inspector-code-server-'));
  const dirs = codeServerDirs(scratchDir);
  const serverLog = path.join(outDir, 'code-server.log');
  let server: RunningCodeServer | undefined;
  let browser: Browser | undefined;
  const interrupt = (): void => {
    server?.killNow();
    process.exit(130);
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  setTimeout(() => {
    console.error('FAIL: the integration run and its teardown hung; killing code-server');
    server?.killNow();
    process.exit(1);
  }, timeoutSeconds * 1000 + TEARDOWN_GRACE_MS).unref();
  const runEnded = new AbortController();
  const log = tailFile(path.join(outDir, FILES.log), (text) => process.stdout.write(text));

  let ending: Ending = { kind: 'timeout' };
  const checkProblems: string[] = [];
  try {
    run.prepare?.(install, dirs);
    server = await startCodeServer(install, dirs, serverLog);
    await waitForHealthy(server, 60_000);
    console.log(`code-server is up on port ${server.port} (log: ${path.relative(repoRoot, serverLog)})`);

    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    let reportAutomationExit: (code: number) => void = () => undefined;
    const automationExit = new Promise<number>((resolve) => (reportAutomationExit = resolve));
    await page.exposeFunction('codeAutomationExit', (code: number) => reportAutomationExit(code)); // before goto
    const bridge = servePageBridge(page, outDir, extensionId());
    await page.goto(workbenchUrl(server, run, dirs));

    const { signal } = runEnded;
    ending = await Promise.race<Ending>([
      automationExit.then((code) => ({ kind: 'automation-exit', code })),
      firstExtensionHostExit(serverLog, signal).then((line) => ({ kind: 'extension-host-exit', line })),
      server.exited.then((code) => ({ kind: 'server-exit', code })),
      timer(timeoutSeconds * 1000 - (Date.now() - startedAt), signal).then(() => ({ kind: 'timeout' }) as const),
    ]);
    if (ending.kind === 'automation-exit') {
      await Promise.race([firstExtensionHostExit(serverLog, signal), timer(EXIT_LINE_WAIT_MS, signal)]);
    }
    runEnded.abort();
    await page.screenshot({ path: path.join(outDir, FILES.screenshotsDir, 'workbench-at-end.png') }).catch(() => undefined);
    await bridge.stop();
  } finally {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await log.stop();
    if (run.check) checkProblems.push(...run.check(dirs));
    fs.rmSync(scratchDir, { recursive: true, force: true });
  }

  console.log(`run ended by: ${describeEnding(ending)} after ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  const verdict = judgeResults(path.join(outDir, FILES.results));
  if (ending.kind === 'timeout') verdict.problems.unshift(`the run did not finish within ${timeoutSeconds} s`);
  const exits = readExtensionHostExits(serverLog);
  if (exits.length === 0) verdict.problems.push(`code-server logged no extension host exit (see ${path.relative(repoRoot, serverLog)})`);
  for (const line of exits.filter((exit) => !isCleanExtensionHostExit(exit))) verdict.problems.push(`unclean exit: ${line}`);
  verdict.problems.push(...checkProblems);
  return reportVerdict(verdict);
}

export function extensionId(): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { publisher: string; name: string };
  return `${manifest.publisher}.${manifest.name}`;
}

/** The development payload makes the workbench load the extension under development and run the suite. */
function workbenchUrl(server: RunningCodeServer, run: SuiteRun, dirs: CodeServerDirs): string {
  const authority = `127.0.0.1:${server.port}`; // must equal the page's host:port
  const extensionEnvironment: Record<string, string> = { ...run.environment?.(dirs), [ENV.outDir]: run.outDir, [ENV.pageBridge]: '1' };
  for (const name of [ENV.forceFail, ENV.forceCrash]) {
    const value = process.env[name];
    if (value !== undefined) extensionEnvironment[name] = value;
  }
  const payload = [
    ['extensionDevelopmentPath', `vscode-remote://${authority}${run.developmentPath}`],
    ['extensionTestsPath', `vscode-remote://${authority}${run.testsPath}`],
    ['extensionEnvironment', JSON.stringify(extensionEnvironment)],
  ];
  const query = `folder=${encodeURIComponent(server.workspaceFolder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return `http://${authority}/?${query}`;
}

/** Resolves after `ms`, or never once `signal` aborts (so a settled race leaves no timer behind). */
function timer(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => new Promise<void>(() => undefined));
}

/** Resolves with the first exit line; never resolves once `signal` aborts. */
async function firstExtensionHostExit(serverLog: string, signal: AbortSignal): Promise<string> {
  while (!signal.aborted) {
    const [line] = readExtensionHostExits(serverLog);
    if (line) return line;
    await sleep(250);
  }
  return new Promise<string>(() => undefined);
}

function describeEnding(ending: Ending): string {
  switch (ending.kind) {
    case 'automation-exit':
      return `the workbench's automation exit (code ${ending.code})`;
    case 'extension-host-exit':
      return `the extension host exiting (${ending.line})`;
    case 'server-exit':
      return `code-server exiting (code ${ending.code})`;
    case 'timeout':
      return `the overall timeout (${timeoutSeconds} s, ATTENTION_INSPECTOR_TEST_TIMEOUT_S)`;
  }
}

/** Ends the process with the run's exit code; a run that could not start or finish fails with its stack. */
export function exitWith(run: Promise<number>): void {
  run.then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`the code-server run failed to start or finish: ${err instanceof Error ? err.stack : String(err)}`);
      process.exit(1);
    },
  );
}
