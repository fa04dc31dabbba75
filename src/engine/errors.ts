/**
 * Every failure the engine reports to a user is an EngineError with a code the UI can branch on and a
 * message that says what is wrong and what to do next. Anything else reaching the user is a bug.
 */
export type EngineErrorCode =
  | 'BAD_MODEL_FOLDER'
  | 'BAD_CONFIG'
  | 'BAD_SAFETENSORS'
  | 'MISSING_TENSOR'
  | 'SHAPE_MISMATCH'
  | 'UNSUPPORTED_ARCHITECTURE'
  | 'BAD_TOKENIZER'
  | 'BAD_INPUT'
  | 'TOO_MANY_TOKENS'
  | 'NO_GPU'
  | 'GPU_FAILURE'
  | 'CANCELLED'
  | 'MODEL_NOT_CACHED'
  | 'OFFLINE'
  | 'DOWNLOAD_FAILED';

export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export function isEngineError(err: unknown): err is EngineError {
  return err instanceof Error && (err as EngineError).name === 'EngineError' && typeof (err as EngineError).code === 'string';
}
