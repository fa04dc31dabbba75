// Mocha reporter for the extension host. Its console goes to the browser under code-server, so it
// mirrors a spec-style log into a file (streamed by the driver) and keeps the results file current.
import * as fs from 'fs';
import Mocha from 'mocha';
import { ResultsFile, TestRecord } from './contract';

export interface ReporterFiles {
  logFile: string;
  resultsFile: string;
}

export class IntegrationReporter extends Mocha.reporters.Base {
  private readonly results: ResultsFile = { finished: false, passed: 0, failed: 0, pending: 0, tests: [] };
  private depth = 0;

  constructor(runner: Mocha.Runner, options: Mocha.MochaOptions) {
    super(runner, options);
    const { logFile, resultsFile } = options.reporterOptions as ReporterFiles;
    const log = (line: string): void => {
      console.log(line);
      fs.appendFileSync(logFile, line + '\n');
    };
    const record = (test: TestRecord): void => {
      this.results.tests.push(test);
      this.results[test.state]++;
      writeResults(resultsFile, this.results);
    };
    const indent = (): string => '  '.repeat(this.depth);

    writeResults(resultsFile, this.results);
    runner.on('suite', (suite) => {
      if (suite.root) return;
      log(indent() + suite.title);
      this.depth++;
    });
    runner.on('suite end', (suite) => {
      if (!suite.root) this.depth--;
    });
    runner.on('test', (test) => log(`${indent()}… ${test.title}`));
    runner.on('pass', (test) => {
      log(`${indent()}✔ ${test.title} (${test.duration ?? 0} ms)`);
      record({ fullTitle: test.fullTitle(), state: 'passed', durationMs: test.duration });
    });
    runner.on('fail', (test, err: Error) => {
      log(`${indent()}✘ ${test.title}\n${indent()}  ${(err.stack ?? String(err)).replace(/\n/g, '\n' + indent() + '  ')}`);
      record({ fullTitle: test.fullTitle(), state: 'failed', durationMs: test.duration, error: String(err) });
    });
    runner.on('pending', (test) => {
      log(`${indent()}- ${test.title} (skipped)`);
      record({ fullTitle: test.fullTitle(), state: 'pending' });
    });
    runner.on('end', () => {
      this.results.finished = true;
      writeResults(resultsFile, this.results);
      log(`${this.results.passed} passing, ${this.results.failed} failing, ${this.results.pending} pending`);
    });
  }
}

function writeResults(resultsFile: string, results: ResultsFile): void {
  // Write then rename, so a reader never sees half a file.
  fs.writeFileSync(resultsFile + '.tmp', JSON.stringify(results, null, 2));
  fs.renameSync(resultsFile + '.tmp', resultsFile);
}
