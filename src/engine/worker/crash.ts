/**
 * Why the engine process died, in the user's terms: what it was doing in native code when it did (the
 * last activity note it wrote), the crashing library's own last words (a Rust panic message on its
 * stderr), or the signs of running out of memory. Always an ENGINE_CRASHED error naming the file.
 */
import { EngineError, type Remedy } from '../errors';
import type { NativeActivity } from '../nativeActivity';

export interface EngineDeath {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The native call the engine had announced and not finished, if any. */
  readonly activity?: NativeActivity;
  /** The end of the engine's stderr. */
  readonly stderr: string;
}

const OUT_OF_MEMORY = /heap out of memory|Fatal process out of memory|Reached heap limit|memory allocation of \d+ bytes failed|std::bad_alloc/i;

/** "thread '<unnamed>' panicked at src/processors/template.rs:563:61:\nmessage" → where and what. */
export function panicOf(stderr: string): { where: string; message: string } | undefined {
  const match = /panicked at ([^\n]*?):?\n([^\n]*)/.exec(stderr) ?? /panicked at '([^\n]*)', ([^\n]*)/.exec(stderr);
  if (!match) return undefined;
  const [, where, message] = match;
  return { where: where.replace(/^.*\/(src\/)/, '$1'), message: message.trim().slice(0, 200) };
}

/** The first line of a JavaScript error the engine printed as it died ("Error: Cannot find module …"). */
function errorLineOf(stderr: string): string | undefined {
  return /^(?:[A-Z]\w*)?Error: [^\n]{1,200}/m.exec(stderr)?.[0];
}

export function crashError(death: EngineDeath): EngineError {
  const how = death.signal ? `signal ${death.signal}` : `exit code ${death.code}`;
  const panic = panicOf(death.stderr);
  const lastWords = panic?.message ?? errorLineOf(death.stderr);
  const said = lastWords ? `: ${lastWords}` : '';
  const reason = panic ? `${panic.message} (${panic.where})` : undefined;
  const file = death.activity?.file;
  const fail = (message: string, remedies: Remedy[]) => new EngineError('ENGINE_CRASHED', message, {
    remedies, details: { file, activity: death.activity?.task, reason },
  });
  switch (death.activity?.task) {
    case 'tokenizer-load':
      return fail(`The model's tokenizer crashed while loading ${file} (the tokenizers library aborted${said}). The file is damaged or uses something the library cannot read.`, ['choose-model']);
    case 'tokenizer-encode':
      return fail(`The model's tokenizer crashed while tokenizing the text with ${file} (the tokenizers library aborted${said}). The file is damaged or uses something the library cannot read.`, ['choose-model']);
    case 'tokenizer-decode':
      return fail(`The model's tokenizer crashed while turning generated ids into text with ${file} (the tokenizers library aborted${said}).`, ['choose-model']);
    case 'gpu-start':
      return fail(`The WebGPU driver crashed while starting the GPU device (${how}${said}).`, ['use-cpu', 'install-webgpu']);
    case undefined:
      break;
  }
  if (OUT_OF_MEMORY.test(death.stderr) || death.signal === 'SIGKILL') {
    return fail(`The engine ran out of memory and was stopped (${how}).`, ['shorter-input', 'raise-memory-budget']);
  }
  return fail(`The engine process stopped unexpectedly (${how}${said}).`, ['retry']);
}
