/**
 * Runs fuzz cases the way a user's run goes: through the engine client and its separate engine
 * process (one long-lived process per job, replaced after a crash, as in the editor), and now and then
 * through the `attention-inspector inspect` command itself. Each case is classified; the failing
 * classes are the issue's: a crash, a hang, too much memory, NaN in a finished run, an error worded
 * as a bug, an error that does not name the damaged file or say what to do, or damage accepted.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { EngineError, isEngineError } from '../../src/engine/errors';
import { readSafetensorsIndex, readTensor } from '../../src/engine/loader/safetensors';
import type { ForwardEvent } from '../../src/engine/model';
import { toFloat32 } from '../../src/engine/tensor';
import { EngineClient } from '../../src/engine/worker/engineClient';
import { cliErrorText } from '../../src/cli/errorText';
import type { CasePlan } from './plan';

export const CLASSES = ['ok', 'refused', 'crash', 'hang', 'memory', 'nan', 'unclean', 'vague', 'accepted'] as const;
export type OutcomeClass = (typeof CLASSES)[number];
export const FAILING: readonly OutcomeClass[] = ['crash', 'hang', 'memory', 'nan', 'unclean', 'vague', 'accepted'];

/** The limits for a tiny model. */
export const HANG_MS = 20_000;
export const MEMORY_LIMIT_BYTES = 2 * 1024 ** 3;
/** The budget the fuzzed engine runs under: the memory cap must hold runs below the limit above. */
export const FUZZ_MEMORY_BUDGET_MB = 1536;

export interface Outcome {
  readonly cls: OutcomeClass;
  /** The error code, or 'OK'. */
  readonly code: string;
  readonly message: string;
  readonly ms: number;
  readonly peakBytes?: number;
}

const repoRoot = path.resolve(__dirname, '..', '..', '..');
export const ENGINE_SCRIPT = path.join(repoRoot, 'dist', 'engineWorker.js');
const CLI_SCRIPT = path.join(repoRoot, 'dist', 'cli.js');

/** A stack frame, a bug report's wording, or an object printed as text: nothing a user should read. */
const UNCLEAN = /\n\s+at |\bat [\w.<>]+ \(|internal error|Internal engine error|\[object Object\]/i;

function hasNaN(values: Float32Array | Uint16Array | undefined, half = false): boolean {
  if (!values) return false;
  if (half) return values.some((b) => (b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0);
  return (values as Float32Array).some((v) => Number.isNaN(v));
}

function eventHasNaN(event: ForwardEvent): boolean {
  if (event.type === 'trace') return event.stages.some((s) => hasNaN(s.data));
  if (event.type === 'lens') return hasNaN(event.probs);
  if (event.type !== 'attention') return hasNaN(event.data);
  return hasNaN(event.probs) || hasNaN(event.probsF16, true) || hasNaN(event.scores) || hasNaN(event.q) || hasNaN(event.headOutputs);
}

/** What a refusal must say: clean words, the damaged file, and something to do. */
export function classifyError(plan: CasePlan, err: unknown): { cls: OutcomeClass; code: string; message: string } {
  if (!isEngineError(err)) return { cls: 'unclean', code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
  const shown = cliErrorText(err);
  if (err.code === 'ENGINE_CRASHED') return { cls: 'crash', code: err.code, message: shown };
  if (UNCLEAN.test(shown)) return { cls: 'unclean', code: err.code, message: shown };
  const aboutFile = plan.blame && !['TOO_MUCH_MEMORY', 'TOO_MANY_TOKENS', 'BAD_INPUT', 'CANCELLED'].includes(err.code);
  // The damaged file, or the tensor the damage took away ("names the file and the field or tensor").
  const namesFile = !plan.blame || shown.includes(plan.blame) || (err.details.file !== undefined && path.basename(err.details.file) === plan.blame) || err.details.tensor !== undefined;
  if (aboutFile && (!namesFile || err.remedies.length === 0)) return { cls: 'vague', code: err.code, message: shown };
  return { cls: 'refused', code: err.code, message: shown };
}

/** Peak resident memory of a process since the last reset (Linux; elsewhere undefined). */
function peakBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function resetPeak(pid: number | undefined): void {
  try {
    if (pid !== undefined) fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // Not Linux, or not allowed: the peak then covers the process's life, which only overstates it.
  }
}

/** One job: an engine client whose process lives across cases. */
export class CaseRunner {
  private readonly client = new EngineClient(ENGINE_SCRIPT, { memoryBudgetMB: () => FUZZ_MEMORY_BUDGET_MB });

  async run(plan: CasePlan, folder: string): Promise<Outcome> {
    resetPeak(this.client.enginePid);
    const started = Date.now();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), HANG_MS);
    let nan = false;
    let pid: number | undefined;
    let result: { cls: OutcomeClass; code: string; message: string };
    try {
      const run = this.client.inspect({ model: folder, backend: 'cpu', input: plan.input, wants: plan.wants }, {
        onStart: () => void (pid = this.client.enginePid),
        onEvent: (event) => void (nan ||= eventHasNaN(event)),
      }, controller.signal);
      pid = this.client.enginePid;
      await run;
      result = nan ? { cls: 'nan', code: 'OK', message: 'a finished run holds NaN' } : plan.mustRefuse ? { cls: 'accepted', code: 'OK', message: 'damage accepted' } : { cls: 'ok', code: 'OK', message: '' };
    } catch (err) {
      result = controller.signal.aborted ? { cls: 'hang', code: 'TIMEOUT', message: `no answer in ${HANG_MS / 1000} s` } : classifyError(plan, err);
    } finally {
      clearTimeout(timer);
    }
    const peak = peakBytes(pid === this.client.enginePid ? pid : undefined);
    const ms = Date.now() - started;
    if (peak !== undefined && peak > MEMORY_LIMIT_BYTES) return { ...result, cls: 'memory', message: `peak ${(peak / 1024 ** 3).toFixed(2)} GB; ${result.message}`, ms, peakBytes: peak };
    return { ...result, ms, peakBytes: peak };
  }

  dispose(): Promise<void> {
    return this.client.dispose();
  }
}

/** The command-line arguments for a case's input (text goes through a file: NUL cannot be an argument). */
function cliArgs(plan: CasePlan, scratch: string): string[] {
  const { input } = plan;
  const args: string[] = [];
  if (input.text !== undefined) {
    fs.writeFileSync(path.join(scratch, 'input.txt'), input.text);
    args.push('--text-file', path.join(scratch, 'input.txt'));
  }
  if (input.ids) args.push('--ids', input.ids.join(',') || ' ');
  if (input.targetText !== undefined) args.push('--target-text', input.targetText.replace(/\0/g, ' '));
  if (input.targetIds) args.push('--target-ids', input.targetIds.join(',') || ' ');
  if (input.generate !== undefined) args.push('--generate', String(input.generate));
  if (plan.wants.scores) args.push('--scores');
  if (plan.wants.hiddenStates) args.push('--hidden-states');
  return args;
}

/** The same case through `attention-inspector inspect` in its own process: exit code, stderr, the output file. */
export function runCli(plan: CasePlan, folder: string, scratch: string): Promise<Outcome> {
  const out = path.join(scratch, 'out.safetensors');
  const args = [CLI_SCRIPT, 'inspect', '--model', folder, ...cliArgs(plan, scratch), '--backend', 'cpu', '--out', out, '--memory-budget', String(FUZZ_MEMORY_BUDGET_MB)];
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Date.now() - started;
      if (ms >= HANG_MS) return resolve({ cls: 'hang', code: 'TIMEOUT', message: stderr, ms });
      if (signal || (code !== 0 && code !== 1)) return resolve({ cls: 'crash', code: `exit ${signal ?? code}`, message: stderr, ms });
      if (code === 1) {
        const clean = stderr.startsWith('error: ') && !UNCLEAN.test(stderr);
        return resolve({ cls: clean ? 'refused' : 'unclean', code: 'exit 1', message: stderr.trim(), ms });
      }
      resolve({ ...outputCheck(out, plan), ms });
    });
  });
}

function outputCheck(file: string, plan: CasePlan): { cls: OutcomeClass; code: string; message: string } {
  try {
    const index = readSafetensorsIndex(file);
    for (const entry of index.entries.values()) {
      if (toFloat32(readTensor(index, entry)).some((v) => Number.isNaN(v))) return { cls: 'nan', code: 'exit 0', message: `${entry.name} holds NaN` };
    }
  } catch (err) {
    return { cls: 'unclean', code: 'exit 0', message: `unreadable output: ${(err as EngineError).message}` };
  }
  return plan.mustRefuse ? { cls: 'accepted', code: 'exit 0', message: 'damage accepted' } : { cls: 'ok', code: 'exit 0', message: '' };
}
