// The run's verdict. The workbench's exit code cannot be trusted (under code-server a crashed extension
// host still reports 0), so it rests on the suite's own results file, plus whatever else a runner knows.
import * as fs from 'fs';
import { ResultsFile } from '../integration/contract';

export interface Verdict {
  results: ResultsFile | undefined;
  problems: string[];
}

export function judgeResults(resultsFile: string): Verdict {
  const problems: string[] = [];
  const results = fs.existsSync(resultsFile) ? (JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as ResultsFile) : undefined;
  if (!results) {
    problems.push('the suite wrote no results file: it never started');
  } else {
    if (!results.finished) problems.push('the suite did not finish: the extension host died or hung during a test');
    if (results.tests.length === 0) problems.push('no test ran');
    if (results.failed > 0) problems.push(`${results.failed} test(s) failed`);
  }
  return { results, problems };
}

/** Prints every test, every problem, and the closing line; returns the process exit code. */
export function reportVerdict({ results, problems }: Verdict): number {
  if (results) {
    console.log('\nintegration tests:');
    for (const test of results.tests) {
      const duration = test.durationMs === undefined ? '' : ` (${test.durationMs} ms)`;
      console.log(`  ${test.state.padEnd(7)} ${test.fullTitle}${duration}`);
    }
  }
  for (const problem of problems) console.log(`FAIL: ${problem}`);
  // A crash or a missing results file fails the run without a failed test: it counts as one.
  const failed = problems.length > 0 ? Math.max(results?.failed ?? 0, 1) : 0;
  console.log(`integration: ${results?.passed ?? 0} passed, ${failed} failed`);
  return problems.length === 0 ? 0 : 1;
}
