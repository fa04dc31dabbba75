/**
 * `npm run fuzz`: a seeded mutation fuzzer over model folders and inputs (issue 14). It fails (exit 1)
 * on any crash, hang, run over the memory limit, NaN in a finished run, error worded as a bug, error
 * that does not name the damaged file or say what to do, or damage accepted. Options:
 *   --count N (10000)  --seed S (1)  --jobs J (2)  --cli-every K (50)  --only i,j,…  --out DIR  --log FILE
 * Reproducers go to DIR (default test-output/fuzz/failures); --log writes every outcome as JSON lines.
 */
import * as fs from 'fs';
import * as path from 'path';
import { report, runFuzz } from './fuzz';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1] : fallback;
}

async function main(): Promise<number> {
  const failuresDir = path.resolve(option('out', path.join(__dirname, '..', '..', '..', 'test-output', 'fuzz', 'failures')));
  fs.rmSync(failuresDir, { recursive: true, force: true });
  const only = option('only', '');
  // Kernels on one thread each: the jobs are the parallelism.
  process.env.ATTENTION_INSPECTOR_CPU_THREADS ??= '1';
  const summary = await runFuzz({
    count: Number(option('count', '10000')),
    seed: Number(option('seed', '1')),
    jobs: Number(option('jobs', '2')),
    cliEvery: Number(option('cli-every', '50')),
    only: only ? only.split(',').map(Number) : undefined,
    failuresDir,
    onProgress: (done, total) => {
      if (done % 500 === 0 || done === total) process.stderr.write(`${done}/${total}\n`);
    },
  });
  process.stdout.write(`${report(summary)}\n`);
  const log = option('log', '');
  if (log) {
    fs.writeFileSync(log, summary.records.map(({ plan, outcome, via }) => JSON.stringify({ index: plan.index, family: plan.family, mutation: plan.mutation, detail: plan.detail, model: plan.model.name, via, ...outcome })).join('\n') + '\n');
  }
  if (summary.failures.length) process.stdout.write(`${summary.failures.length} failures; reproducers in ${failuresDir}\n`);
  return summary.failures.length ? 1 : 0;
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(2);
});
