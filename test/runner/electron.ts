// Runs the same integration suite in desktop VS Code through @vscode/test-electron, for machines that
// can download VS Code (this one cannot: use test/runner/codeServer.ts there). The page bridge is not
// served here, so tests that read the panel's DOM check only what the extension host can see.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runTests } from '@vscode/test-electron';
import { ENV, FILES } from '../integration/contract';
import { judgeResults, reportVerdict } from './verdict';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const outDir = path.join(repoRoot, 'test-output', 'integration-electron');

async function main(): Promise<number> {
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const workspaceFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-inspector-electron-'));
  const extensionTestsEnv: Record<string, string | undefined> = {
    [ENV.outDir]: outDir,
    [ENV.forceFail]: process.env[ENV.forceFail],
    [ENV.forceCrash]: process.env[ENV.forceCrash],
  };
  try {
    await runTests({
      version: process.env.VSCODE_TEST_VERSION ?? 'stable',
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: path.join(repoRoot, 'out', 'test', 'integration', 'index.js'),
      extensionTestsEnv,
      launchArgs: [workspaceFolder, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
    });
  } catch (err) {
    // A failing suite also lands here; the results file below says what happened.
    console.error(`VS Code test run ended with an error: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    fs.rmSync(workspaceFolder, { recursive: true, force: true });
  }
  return reportVerdict(judgeResults(path.join(outDir, FILES.results)));
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
