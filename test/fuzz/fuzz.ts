/**
 * The fuzz run: cases from one seed, spread over parallel jobs (each with its own engine process),
 * every case's folder written to a scratch directory (unchanged files linked to ../shared), the outcome
 * classified, counted per class, family and mutation, and every failure saved as a reproducer:
 * its folder (links resolved), the case and the outcome.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { makeCase } from './cases';
import type { CasePlan } from './plan';
import { FAMILIES } from './plan';
import { CLASSES, CaseRunner, FAILING, Outcome, OutcomeClass, runCli } from './runner';

export interface FuzzOptions {
  readonly count: number;
  readonly seed: number;
  readonly jobs: number;
  /** Every n-th case also runs through the CLI command (0: never). */
  readonly cliEvery: number;
  /** Where reproducers go. */
  readonly failuresDir: string;
  /** Only these case indices (reproducing a failure). */
  readonly only?: readonly number[];
  readonly onProgress?: (done: number, total: number) => void;
}

export interface FuzzRecord {
  readonly plan: CasePlan;
  readonly outcome: Outcome;
  readonly via: 'client' | 'cli';
}

export interface FuzzSummary {
  readonly records: readonly FuzzRecord[];
  readonly failures: readonly FuzzRecord[];
  readonly seconds: number;
}

const ENGINE_FILES = ['config.json', 'model.safetensors', 'tokenizer.json'];

/** The case's folder: its damaged files written, the rest linked to the base model. */
function materialize(plan: CasePlan, root: string): string {
  if (!plan.files) return plan.model.folder;
  const folder = path.join(root, `case-${plan.index}`);
  fs.mkdirSync(folder, { recursive: true });
  for (const name of ENGINE_FILES) {
    if (!plan.files.has(name) && plan.model.files.has(name)) fs.symlinkSync(path.join(plan.model.folder, name), path.join(folder, name));
  }
  for (const [name, entry] of plan.files) {
    if (entry === 'directory') fs.mkdirSync(path.join(folder, name));
    else if (entry) fs.writeFileSync(path.join(folder, name), entry);
  }
  return folder;
}

function saveReproducer(dir: string, record: FuzzRecord, folder: string, seed: number): void {
  const { plan, outcome } = record;
  const target = path.join(dir, `${outcome.cls}-${plan.family}-${plan.index}`);
  fs.mkdirSync(target, { recursive: true });
  if (folder !== plan.model.folder) fs.cpSync(folder, path.join(target, 'model'), { recursive: true, dereference: true });
  const input = { ...plan.input, text: plan.input.text && plan.input.text.length > 2000 ? `${plan.input.text.slice(0, 2000)}… (${plan.input.text.length} characters)` : plan.input.text };
  fs.writeFileSync(path.join(target, 'case.json'), JSON.stringify({
    reproduce: `npm run fuzz -- --seed ${seed} --only ${plan.index}`, seed, index: plan.index, family: plan.family, mutation: plan.mutation, detail: plan.detail,
    model: plan.model.name, via: record.via, input, wants: plan.wants, outcome,
  }, null, 1));
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const started = Date.now();
  const indices = options.only ?? Array.from({ length: options.count }, (_, i) => i);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-fuzz-'));
  const records: FuzzRecord[] = [];
  const failures: FuzzRecord[] = [];
  let next = 0;
  let done = 0;
  const job = async (j: number) => {
    const runner = new CaseRunner();
    const root = path.join(scratch, `job-${j}`);
    try {
      while (next < indices.length) {
        const plan = makeCase(options.seed, indices[next++]);
        const folder = materialize(plan, root);
        const results: FuzzRecord[] = [{ plan, outcome: await runner.run(plan, folder), via: 'client' }];
        if (options.cliEvery > 0 && plan.index % options.cliEvery === 0) results.push({ plan, outcome: await runCli(plan, folder, root), via: 'cli' });
        for (const record of results) {
          records.push(record);
          if (FAILING.includes(record.outcome.cls)) {
            failures.push(record);
            saveReproducer(options.failuresDir, record, folder, options.seed);
          }
        }
        if (folder !== plan.model.folder) fs.rmSync(folder, { recursive: true, force: true });
        options.onProgress?.(++done, indices.length);
      }
    } finally {
      await runner.dispose();
    }
  };
  try {
    await Promise.all(Array.from({ length: options.jobs }, (_, j) => job(j)));
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return { records, failures, seconds: (Date.now() - started) / 1000 };
}

/** Counts per class: overall, per family, and the mutations behind every failure. */
export function report(summary: FuzzSummary): string {
  const count = (records: readonly FuzzRecord[]) => Object.fromEntries(CLASSES.map((c) => [c, records.filter((r) => r.outcome.cls === c).length])) as Record<OutcomeClass, number>;
  const row = (label: string, records: readonly FuzzRecord[]) => {
    const counts = count(records);
    return `${label.padEnd(14)}${String(records.length).padStart(7)}${CLASSES.map((c) => String(counts[c]).padStart(9)).join('')}`;
  };
  const client = summary.records.filter((r) => r.via === 'client');
  const cli = summary.records.filter((r) => r.via === 'cli');
  const lines = [`${''.padEnd(14)}${'inputs'.padStart(7)}${CLASSES.map((c) => c.padStart(9)).join('')}`];
  for (const family of FAMILIES) lines.push(row(family, client.filter((r) => r.plan.family === family)));
  lines.push(row('all (client)', client), row('all (CLI)', cli));
  const slowest = Math.max(0, ...summary.records.map((r) => r.outcome.ms));
  const peak = Math.max(0, ...summary.records.map((r) => r.outcome.peakBytes ?? 0));
  lines.push('', `${client.length} inputs through the engine client, ${cli.length} through the CLI, in ${summary.seconds.toFixed(0)} s; slowest ${(slowest / 1000).toFixed(1)} s; largest engine peak ${(peak / 1024 ** 2).toFixed(0)} MB.`);
  const byMutation = new Map<string, FuzzRecord[]>();
  for (const f of summary.failures) byMutation.set(`${f.plan.family}/${f.plan.mutation}/${f.outcome.cls}`, [...(byMutation.get(`${f.plan.family}/${f.plan.mutation}/${f.outcome.cls}`) ?? []), f]);
  for (const [key, failures] of byMutation) lines.push(`FAIL ${key}: ${failures.length}, e.g. case ${failures[0].plan.index} (${failures[0].plan.detail}): ${failures[0].outcome.message.slice(0, 300)}`);
  return lines.join('\n');
}
