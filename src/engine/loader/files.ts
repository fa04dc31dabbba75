/**
 * The JSON files of a model folder (config.json, the sharded index, tokenizer.json): read as regular
 * files only (a folder, a device or a dangling link where a file should be is named as such), parsed
 * strictly, and required to hold a JSON object. Every error names the file.
 */
import * as fs from 'fs';
import { EngineError, type EngineErrorCode } from '../errors';

/** Throws unless `file` is a regular file (following links), naming what it is instead. */
export function requireRegularFile(file: string, code: EngineErrorCode): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    throw new EngineError(code, `Cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist (or is a broken link)' : (err as Error).message}.`, {
      remedies: ['choose-model'], details: { file },
    });
  }
  if (!stat.isFile()) {
    throw new EngineError(code, `${file} is ${stat.isDirectory() ? 'a folder' : 'not a regular file'}, where the model needs a file.`, { remedies: ['choose-model'], details: { file } });
  }
}

/** The file's JSON object; `code` is the error for a file that is not one. */
export function readJsonObject(file: string, code: EngineErrorCode): Record<string, unknown> {
  requireRegularFile(file, code);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new EngineError(code, `${file} is not valid JSON: ${(err as Error).message.replace(/\s+/g, ' ')}.`, { remedies: ['choose-model'], details: { file } });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new EngineError(code, `${file} must hold a JSON object, not ${Array.isArray(raw) ? 'an array' : JSON.stringify(raw)}.`, { remedies: ['choose-model'], details: { file } });
  }
  return raw as Record<string, unknown>;
}
