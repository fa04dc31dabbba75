/**
 * The fuzzer's smoke slice (issue 14): 500 damaged model folders and odd inputs through the engine
 * client and its separate process, a tenth of them through the CLI too. Any crash, hang, run over 2 GB,
 * NaN in a finished run, error worded as a bug, error that does not name the damaged file or say what
 * to do, or damage accepted fails it. `npm run fuzz` runs 10,000.
 */
import * as assert from 'assert';
import { report, runFuzz } from '../fuzz/fuzz';
import { repoPath } from '../helpers/repo';

/** Another seed than `npm run fuzz`'s default, so the two cover different cases. */
const SMOKE_SEED = 14;
const SMOKE_COUNT = 500;

describe('fuzz smoke slice', function () {
  this.timeout(600_000);

  it(`${SMOKE_COUNT} damaged folders and odd inputs end cleanly`, async () => {
    const threads = process.env.ATTENTION_INSPECTOR_CPU_THREADS;
    process.env.ATTENTION_INSPECTOR_CPU_THREADS = '1'; // the two jobs are the parallelism
    try {
      const failuresDir = repoPath('test-output', 'fuzz-smoke', 'failures');
      const summary = await runFuzz({ count: SMOKE_COUNT, seed: SMOKE_SEED, jobs: 2, cliEvery: 10, failuresDir });
      console.log(report(summary).replace(/^/gm, '      '));
      assert.strictEqual(summary.records.filter((r) => r.via === 'client').length, SMOKE_COUNT);
      assert.deepStrictEqual(summary.failures.map((f) => `${f.outcome.cls} ${f.plan.family}/${f.plan.mutation} #${f.plan.index}: ${f.outcome.message}`), [], `reproducers in ${failuresDir}`);
    } finally {
      if (threads === undefined) delete process.env.ATTENTION_INSPECTOR_CPU_THREADS;
      else process.env.ATTENTION_INSPECTOR_CPU_THREADS = threads;
    }
  });
});
