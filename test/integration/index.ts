// Entry point loaded by the extension host (`extensionTestsPath`) under both runners: code-server
// (test/runner/codeServer.ts) and @vscode/test-electron (test/runner/electron.ts). The installed-.vsix
// smoke suite (test/installed/index.ts) runs its own folder through runTestsIn.
import * as fs from 'fs';
import * as path from 'path';
import Mocha from 'mocha';
import { ENV, FILES } from './contract';
import { IntegrationReporter, ReporterFiles } from './reporter';

export function run(): Promise<void> {
  return runTestsIn(__dirname);
}

/** Runs every *.test.js below `dir` with the reporter that writes the log and the results file. */
export async function runTestsIn(dir: string): Promise<void> {
  const outDir = process.env[ENV.outDir];
  if (!outDir) throw new Error(`${ENV.outDir} is not set: start the suite through a runner in test/runner/`);
  fs.mkdirSync(outDir, { recursive: true });
  const reporterOptions: ReporterFiles = {
    logFile: path.join(outDir, FILES.log),
    resultsFile: path.join(outDir, FILES.results),
  };

  const grep = process.env[ENV.grep];
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: IntegrationReporter, reporterOptions, ...(grep ? { grep: new RegExp(grep) } : {}) });
  for (const file of findTestFiles(dir)) mocha.addFile(file);
  await mocha.loadFilesAsync(); // before adding the forced faults, so that they run last
  addForcedFaults(mocha);

  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} integration test(s) failed`);
}

function findTestFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.test.js'))
    .sort()
    .map((name) => path.join(dir, name));
}

/** Lets anyone prove that the runner really fails on a failing test and on a crashed extension host. */
function addForcedFaults(mocha: Mocha): void {
  const suite = Mocha.Suite.create(mocha.suite, 'forced faults');
  if (process.env[ENV.forceFail] === '1') {
    suite.addTest(
      new Mocha.Test(`forced failure (${ENV.forceFail}=1)`, () => {
        throw new Error('this test fails on purpose');
      }),
    );
  }
  if (process.env[ENV.forceCrash] === '1') {
    suite.addTest(
      new Mocha.Test(`forced extension host crash (${ENV.forceCrash}=1)`, () => {
        // SIGKILL, like a native crash: no handler, no exit hook and no results file get to run.
        process.kill(process.pid, 'SIGKILL');
      }),
    );
  }
}
