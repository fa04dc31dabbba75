/**
 * Commands that call native code in their own process (`tokenize`, `analyze`: the tokenizers library,
 * Dawn) run in a child copy of the CLI: a Rust panic there ends the child, and this process prints what
 * crashed and on which file (the child's native-activity notes, as the engine client reads them) and
 * exits 1, instead of dying with exit 134 and a panic message. The child's stderr is held until it
 * ends and then shown without Dawn's log lines (dawnLog.ts); --verbose shows it all, as it comes.
 */
import { ProcessTransport } from '../engine/worker/transport';
import { reportNativeActivity } from '../engine/worker/workerPort';
import { DawnLogFilter } from './dawnLog';
import { cliErrorText } from './errorText';
import { isEngineError } from '../engine/errors';

const CHILD_ENV = 'ATTENTION_INSPECTOR_ISOLATED_COMMAND';

/** True in the child: the command runs here, reporting its native calls to the parent. */
export function inIsolatedChild(): boolean {
  if (process.env[CHILD_ENV] !== '1') return false;
  reportNativeActivity();
  return true;
}

/** Runs this CLI with `argv` in a child and returns its exit code (1 with a clear message after a crash). */
export function runIsolated(argv: readonly string[], options: { verbose?: boolean } = {}): Promise<number> {
  return new Promise((resolve) => {
    let stderr = '';
    const ignore = (): void => undefined; // Ctrl+C reaches the child too, which decides
    process.on('SIGINT', ignore);
    new ProcessTransport(process.argv[1], {
      onMessage: () => undefined,
      onOutput: (text) => (options.verbose ? process.stderr.write(text) : void (stderr += text)),
      onLost: (err, exit) => {
        process.off('SIGINT', ignore);
        if (exit?.signal === 'SIGINT') return process.kill(process.pid, 'SIGINT');
        if (exit && exit.signal === null && exit.code !== null) {
          const filter = new DawnLogFilter((text) => process.stderr.write(text)); // the child's own messages
          filter.push(stderr);
          filter.end();
          return resolve(exit.code);
        }
        process.stderr.write(`error: ${isEngineError(err) ? cliErrorText(err) : err.message}\n`);
        resolve(1);
      },
    }, { args: argv, inheritStdout: true, env: { [CHILD_ENV]: '1' } });
  });
}
