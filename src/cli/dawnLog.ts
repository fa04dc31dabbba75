/**
 * Keeps Dawn's own log lines out of the CLI's output. Dawn (npm `webgpu`) prints lines such as
 * "Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit
 * dynamic offset allocation limit." from native code, straight to file descriptor 2, when it lists the
 * adapters. It has no flag to silence them, and nothing in Node can redirect a native write to fd 2
 * inside the same process. So a command that may open WebGPU runs in a child process whose stderr passes
 * through `DawnLogFilter`; `--verbose` runs in this process and shows everything.
 */
import { spawn } from 'child_process';
import { NO_WEBGPU_ENV } from '../engine/webgpu/gpuDevice';

/** Set in the child, so that it runs the command instead of starting another child. */
const CHILD_ENV = 'ATTENTION_INSPECTOR_CLI_CHILD';

/**
 * Dawn's log format is `<Severity>: <message>` (dawn/common/Log.cpp). Its warnings, infos and debug lines
 * are dropped; its errors are kept. The CLI's own messages start in lower case ("error: …").
 */
const DAWN_PREFIXES = ['Warning: ', 'Info: ', 'Debug: '];
const isDawnLine = (line: string): boolean => DAWN_PREFIXES.some((prefix) => line.startsWith(prefix));
/** True while a partial line may still become one of Dawn's. */
const couldBeDawnLine = (partial: string): boolean => DAWN_PREFIXES.some((prefix) => prefix.startsWith(partial) || partial.startsWith(prefix));

/**
 * Passes text on line by line (a line ends at \n, \r or \r\n), dropping Dawn's log lines; a partial line
 * that cannot be one passes at once, so a progress bar redrawn with \r still moves.
 */
export class DawnLogFilter {
  private pending = '';
  /** A dropped line ended in \r at the end of a chunk: a \n that follows belongs to it. */
  private dropNewline = false;

  constructor(private readonly write: (text: string) => void) {}

  push(chunk: string): void {
    let text = this.pending + chunk;
    if (this.dropNewline && text.startsWith('\n')) text = text.slice(1);
    this.dropNewline = false;
    let out = '';
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      if (text[i] !== '\n' && text[i] !== '\r') continue;
      const dawn = isDawnLine(text.slice(start, i));
      if (text[i] === '\r' && text[i + 1] === '\n') i++;
      else if (dawn && text[i] === '\r' && i === text.length - 1) this.dropNewline = true;
      if (!dawn) out += text.slice(start, i + 1);
      start = i + 1;
    }
    this.pending = text.slice(start);
    if (this.pending && !couldBeDawnLine(this.pending)) {
      out += this.pending;
      this.pending = '';
    }
    if (out) this.write(out);
  }

  end(): void {
    if (this.pending && !isDawnLine(this.pending)) this.write(this.pending);
    this.pending = '';
  }
}

/** True for the commands that may open a WebGPU device, unless WebGPU is off or this is already the child. */
export function needsDawnFilter(command: string | undefined, args: readonly string[]): boolean {
  if (command !== 'inspect' && command !== 'demo') return false;
  if (process.env[CHILD_ENV] === '1' || process.env[NO_WEBGPU_ENV] === '1') return false;
  const backend = args.findIndex((a) => a === '--backend' || a.startsWith('--backend='));
  const choice = backend < 0 ? 'auto' : args[backend].includes('=') ? args[backend].split('=')[1] : args[backend + 1];
  return choice !== 'cpu';
}

/**
 * Runs this CLI again with `argv` in a child process: stdin and stdout shared, stderr filtered.
 * Resolves with the child's exit code; a child killed by a signal is reported, and Ctrl+C (which reaches
 * both processes) ends this one the same way once the child has gone.
 */
export function runFilteringDawnLog(argv: readonly string[]): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...argv], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env: { ...process.env, [CHILD_ENV]: '1' },
  });
  const filter = new DawnLogFilter((text) => process.stderr.write(text));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => filter.push(chunk));
  const ignore = (): void => undefined; // the child gets the same signal and decides
  process.on('SIGINT', ignore).on('SIGTERM', ignore);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      filter.end();
      process.off('SIGINT', ignore).off('SIGTERM', ignore);
      if (signal === 'SIGINT' || signal === 'SIGTERM') process.kill(process.pid, signal);
      else if (signal) {
        process.stderr.write(`error: the engine process was killed by ${signal}, a crash in native code (Dawn or the tokenizer). `
          + 'Run again with --backend cpu to leave WebGPU out, or with --verbose to see the native log.\n');
        resolve(1);
      } else resolve(code ?? 1);
    });
  });
}
