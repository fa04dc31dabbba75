// Entry of the installed-.vsix smoke suite (test/runner/installed.ts): this folder's tests, with the
// integration suite's reporter and results file.
import { runTestsIn } from '../integration/index';

export function run(): Promise<void> {
  return runTestsIn(__dirname);
}
