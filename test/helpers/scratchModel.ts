/** Scratch copies of the shared model folders, for tests that damage their files, and the checks on the errors. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EngineError } from '../../src/engine/errors';
import { sharedPath } from './shared';

/** A scratch copy of a shared model folder whose files a test may damage. */
export function scratchModel(source: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-fault-'));
  for (const f of fs.readdirSync(sharedPath('models', source))) fs.copyFileSync(sharedPath('models', source, f), path.join(dir, f));
  return dir;
}

export type HeaderJson = Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>;

export function header(file: string): { length: number; json: HeaderJson; data: Buffer } {
  const bytes = fs.readFileSync(file);
  const length = Number(bytes.readBigUInt64LE(0));
  return { length, json: JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')), data: bytes.subarray(8 + length) };
}

export function writeWithHeader(file: string, json: object, data: Buffer): void {
  const h = Buffer.from(JSON.stringify(json), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  fs.writeFileSync(file, Buffer.concat([len, h, data]));
}

/** Rewrites a JSON file of the folder through `change`. */
export function editJson(dir: string, file: string, change: (json: Record<string, unknown>) => void): void {
  const json = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  change(json);
  fs.writeFileSync(path.join(dir, file), JSON.stringify(json));
}

/** Checks an error's code and that its message names every fragment. */
export function isError(err: unknown, code: string, ...fragments: string[]): true {
  assert.ok(err instanceof EngineError, `expected EngineError, got ${err instanceof Error ? err.stack : String(err)}`);
  assert.strictEqual(err.code, code, err.message);
  for (const f of fragments) assert.ok(err.message.includes(f), `message "${err.message}" should mention "${f}"`);
  return true;
}

/**
 * A model folder whose tokenizer.json aborts the tokenizers library on every text: a Replace normalizer
 * with a zero-width regex (\b) followed by another normalizer panics in normalizer.rs. Validation leaves
 * zero-width regexes to the engine's isolation (JavaScript's and Oniguruma's regexes differ), so this is
 * a real crash of whatever process loads it.
 */
export function crashingTokenizer(): string {
  const dir = scratchModel('llama-stories260K');
  editJson(dir, 'tokenizer.json', (j) => (j.normalizer = { type: 'Sequence', normalizers: [{ type: 'Replace', pattern: { Regex: '\\b' }, content: 'x' }, { type: 'NFC' }] }));
  return dir;
}
