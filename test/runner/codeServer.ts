// Runs the integration suite (out/test/integration/index.js) in code-server with this repository as the
// extension under development (npm run test:integration). The run itself: suiteRun.ts.
import * as path from 'path';
import { exitWith, repoRoot, runSuite } from './suiteRun';

exitWith(
  runSuite({
    outDir: path.join(repoRoot, 'test-output', 'integration'),
    developmentPath: repoRoot,
    testsPath: path.join(repoRoot, 'out', 'test', 'integration', 'index.js'),
  }),
);
