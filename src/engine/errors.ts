/**
 * Every failure the engine reports to a user is an EngineError: a code the surfaces branch on, a
 * message that states the fact (naming the file, field or tensor), what the user can do about it as
 * typed remedies, and details as data. The message never names a surface's controls (a CLI flag, a
 * VS Code setting): each surface words the remedies itself (src/cli/errorText.ts,
 * src/host/errorText.ts). Anything else reaching a user is a bug.
 */
import type { ErrorCode } from '../protocol/run';

export type EngineErrorCode = Exclude<ErrorCode, 'INTERNAL'>;

/** What the user can do, in the surface's own words. */
export type Remedy =
  /** Run on the CPU backend instead of WebGPU. */
  | 'use-cpu'
  /** Give token ids instead of text (the model has no tokenizer). */
  | 'pass-ids'
  /** Inspect less text (select less, or truncate). */
  | 'shorter-input'
  /** A rotary model: run past max_position_embeddings anyway (outside the trained context). */
  | 'past-context'
  /** Use another model (a folder, a cached Hub model, the demo). */
  | 'choose-model'
  /** Download the model (details.repoId, details.revision) into the Hugging Face cache. */
  | 'download-model'
  /** Turn offline mode off so that a download may run. */
  | 'allow-downloads'
  /** Install a working WebGPU driver (Vulkan; Mesa ≥ 25 lavapipe without a GPU). */
  | 'install-webgpu'
  /** Run it again (a download resumes where it stopped). */
  | 'retry'
  /** Allow runs more memory (details.bytes is the estimate, details.budgetBytes the budget it broke). */
  | 'raise-memory-budget';

/** What an error is about, as data: tests and surfaces read these rather than parse the message. */
export interface ErrorDetails {
  readonly file?: string;
  readonly field?: string;
  readonly tensor?: string;
  /** TOO_MANY_TOKENS: which text, how many tokens it has, and the limit it broke. */
  readonly part?: 'input' | 'target';
  readonly tokens?: number;
  readonly limit?: number;
  /** MODEL_NOT_CACHED, downloads: the Hub model. */
  readonly repoId?: string;
  readonly revision?: string;
  /** TOO_MUCH_MEMORY: the estimate and the budget, in bytes. */
  readonly bytes?: number;
  readonly budgetBytes?: number;
  /** ENGINE_CRASHED: what the engine was doing, and the crashing library's last words (a panic message). */
  readonly activity?: string;
  readonly reason?: string;
}

export interface EngineErrorOptions {
  readonly remedies?: readonly Remedy[];
  readonly details?: ErrorDetails;
}

export class EngineError extends Error {
  readonly remedies: readonly Remedy[];
  readonly details: ErrorDetails;

  constructor(
    readonly code: EngineErrorCode,
    message: string,
    options: EngineErrorOptions = {},
  ) {
    super(message);
    this.name = 'EngineError';
    this.remedies = options.remedies ?? [];
    this.details = options.details ?? {};
  }
}

export function isEngineError(err: unknown): err is EngineError {
  return err instanceof Error && (err as EngineError).name === 'EngineError' && typeof (err as EngineError).code === 'string';
}

/** An error as data, to cross a thread or process boundary (structured clone or JSON). */
export interface SerializedError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly remedies?: readonly Remedy[];
  readonly details?: ErrorDetails;
}

/** What V8 throws when an array or buffer cannot be allocated: the run asked for more memory than there is. */
const ALLOCATION_FAILURE = /Array buffer allocation failed|Invalid (typed )?array length|Array length must be|out of memory/i;

export function serializeError(err: unknown): SerializedError {
  if (isEngineError(err)) return { code: err.code, message: err.message, remedies: err.remedies, details: err.details };
  if (err instanceof RangeError && ALLOCATION_FAILURE.test(err.message)) {
    return { code: 'TOO_MUCH_MEMORY', message: `The run needed more memory than could be allocated (${err.message}).`, remedies: ['shorter-input', 'raise-memory-budget'] };
  }
  return { code: 'INTERNAL', message: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) };
}

/** The EngineError again, or an internal error that says it came from the engine. */
export function deserializeError(error: SerializedError): Error {
  if (error.code !== 'INTERNAL') return new EngineError(error.code, error.message, { remedies: error.remedies, details: error.details });
  return new Error(`Internal engine error: ${error.message}`);
}
