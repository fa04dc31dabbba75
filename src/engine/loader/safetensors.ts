/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
 * {name: {dtype, shape, data_offsets: [begin, end]}}, then the data. Every claim the header makes is
 * checked against the file before a single tensor is read, so a damaged file gives an error naming the
 * file and the tensor instead of a crash or garbage numbers.
 */
import * as fs from 'fs';
import * as path from 'path';
import { EngineError } from '../errors';
import { requireRegularFile } from './files';
import { BYTES_PER_ELEMENT, HostTensor, StorageDType, numel } from '../tensor';

export interface TensorEntry {
  readonly name: string;
  readonly dtype: StorageDType;
  readonly shape: readonly number[];
  /** Absolute byte range in the file. */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsIndex {
  readonly file: string;
  readonly entries: ReadonlyMap<string, TensorEntry>;
  readonly metadata: Readonly<Record<string, string>>;
  /** The file as the header was read: tensors read later come from the same file or not at all. */
  readonly size: number;
  readonly modifiedMs: number;
}

const SUPPORTED_DTYPES: readonly string[] = ['F32', 'F16', 'BF16'];
// Valid safetensors dtypes we do not compute with: reported as unsupported rather than unknown.
const KNOWN_DTYPES: readonly string[] = [...SUPPORTED_DTYPES, 'F64', 'I64', 'I32', 'I16', 'I8', 'U8', 'U16', 'U32', 'U64', 'BOOL', 'F8_E4M3', 'F8_E5M2'];
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** A header value for a message: its JSON, or "missing". */
function shown(value: unknown): string {
  return value === undefined ? '(missing)' : JSON.stringify(value);
}

function fail(file: string, detail: string, tensor?: string): never {
  throw new EngineError('BAD_SAFETENSORS', `${path.basename(file)}: ${detail} (${file}). The file is damaged or not a safetensors file; download it again.`, {
    remedies: ['choose-model'], details: { file, tensor },
  });
}

export function readSafetensorsIndex(file: string): SafetensorsIndex {
  requireRegularFile(file, 'BAD_MODEL_FOLDER');
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new EngineError('BAD_MODEL_FOLDER', `Cannot open ${file}: ${(err as Error).message}`, { remedies: ['choose-model'], details: { file } });
  }
  try {
    const { size: fileSize, mtimeMs } = fs.fstatSync(fd);
    if (fileSize < 8) fail(file, `file is ${fileSize} bytes, too short for a header`);
    const lengthBytes = Buffer.alloc(8);
    readExactly(fd, lengthBytes, 0, file);
    const headerLength = Number(lengthBytes.readBigUInt64LE(0));
    if (headerLength > fileSize - 8) fail(file, `header length ${headerLength} runs past the end of the file (${fileSize} bytes)`);
    if (headerLength > MAX_HEADER_BYTES) fail(file, `header length ${headerLength} is implausibly large`);
    const headerBytes = Buffer.alloc(headerLength);
    readExactly(fd, headerBytes, 8, file);
    return { ...parseHeader(file, decodeHeader(file, headerBytes), 8 + headerLength, fileSize), size: fileSize, modifiedMs: mtimeMs };
  } finally {
    fs.closeSync(fd);
  }
}

function readExactly(fd: number, into: Uint8Array, position: number, file: string): void {
  let done = 0;
  while (done < into.length) {
    const n = fs.readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) fail(file, 'the file ends early: it was truncated while being read');
    done += n;
  }
}

/** As the reference implementation: UTF-8, a JSON object starting at the first byte, trailing spaces allowed. */
function decodeHeader(file: string, bytes: Buffer): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    fail(file, 'header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(file, `header does not start with "{" (it starts with ${JSON.stringify(text.slice(0, 8))}), so the header length is wrong`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    fail(file, `header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail(file, 'header is not a JSON object');
  return header as Record<string, unknown>;
}

function parseHeader(file: string, header: Record<string, unknown>, dataStart: number, fileSize: number): Omit<SafetensorsIndex, 'size' | 'modifiedMs'> {
  const entries = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  const dataSize = fileSize - dataStart;
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !Object.values(raw).every((v) => typeof v === 'string')) {
        fail(file, '"__metadata__" must map names to strings');
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    entries.set(name, parseEntry(file, name, raw, dataStart, dataSize));
  }
  checkLayout(file, [...entries.values()], dataStart, dataSize);
  return { file, entries, metadata };
}

function parseEntry(file: string, name: string, raw: unknown, dataStart: number, dataSize: number): TensorEntry {
  const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof info !== 'object' || info === null) fail(file, `tensor "${name}" has no description`);
  if (typeof info.dtype !== 'string' || !KNOWN_DTYPES.includes(info.dtype)) fail(file, `tensor "${name}" has unknown dtype ${shown(info.dtype)}`);
  if (!SUPPORTED_DTYPES.includes(info.dtype)) {
    throw new EngineError('BAD_SAFETENSORS', `${path.basename(file)}: tensor "${name}" is stored as ${info.dtype}; Attention Inspector reads F32, F16 and BF16 weights (${file}).`, {
      remedies: ['choose-model'], details: { file, tensor: name },
    });
  }
  const shape = info.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(file, `tensor "${name}" has an invalid shape ${shown(shape)}`, name);
  const offsets = info.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[1] < offsets[0]) {
    fail(file, `tensor "${name}" has invalid data_offsets ${shown(offsets)}`, name);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataSize) fail(file, `tensor "${name}" data [${begin}, ${end}) lies outside the ${dataSize} data bytes`, name);
  const dtype = info.dtype as StorageDType;
  const expected = numel(shape) * BYTES_PER_ELEMENT[dtype];
  if (end - begin !== expected) fail(file, `tensor "${name}" spans ${end - begin} bytes but ${dtype} ${JSON.stringify(shape)} needs ${expected}`, name);
  return { name, dtype, shape, begin: dataStart + begin, end: dataStart + end };
}

/**
 * The data must be exactly the tensors, back to back, as the format requires: a hole or bytes after the
 * last tensor mean the header and the data disagree (a header length a few bytes off shifts every tensor
 * and still parses, because the header ends in padding spaces).
 */
function checkLayout(file: string, entries: TensorEntry[], dataStart: number, dataSize: number): void {
  const sorted = entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = dataStart;
  let previous: TensorEntry | undefined;
  for (const entry of sorted) {
    if (entry.begin < at) fail(file, `tensors "${previous!.name}" and "${entry.name}" overlap`, entry.name);
    if (entry.begin > at) {
      fail(file, `${entry.begin - at} bytes ${previous ? `between tensors "${previous.name}" and "${entry.name}"` : `before the first tensor "${entry.name}"`} belong to no tensor`, entry.name);
    }
    at = entry.end;
    previous = entry;
  }
  const trailing = dataStart + dataSize - at;
  if (trailing > 0) fail(file, `${trailing} bytes after ${previous ? `the last tensor "${previous.name}"` : 'the header'} belong to no tensor (the header length or the file size is wrong)`);
}

/**
 * Reads one tensor's bytes into a freshly aligned typed array. Models read their weights when a backend
 * uploads them, so the file may have been replaced or removed since its header was read: that is
 * refused (the offsets no longer hold) with what to do.
 */
export function readTensor(index: SafetensorsIndex, entry: TensorEntry): HostTensor {
  return readElements(index, entry, 0, entry.end - entry.begin, entry.shape);
}

/** Rows [start, start + count) of a 2-D tensor, read from the file alone (a large weight, in blocks). */
export function readTensorRows(index: SafetensorsIndex, entry: TensorEntry, start: number, count: number): HostTensor {
  const rowBytes = entry.shape[1] * BYTES_PER_ELEMENT[entry.dtype];
  return readElements(index, entry, start * rowBytes, count * rowBytes, [count, entry.shape[1]]);
}

function readElements(index: SafetensorsIndex, entry: TensorEntry, skip: number, length: number, shape: readonly number[]): HostTensor {
  const buffer = new ArrayBuffer(length);
  const changed = (what: string): never => {
    throw new EngineError('BAD_MODEL_FOLDER', `${index.file} ${what} since the model was loaded, so tensor "${entry.name}" cannot be read from it. Run again to load the model afresh.`, {
      remedies: ['retry'], details: { file: index.file, tensor: entry.name },
    });
  };
  let fd: number;
  try {
    fd = fs.openSync(index.file, 'r');
  } catch (err) {
    return changed(`cannot be opened any more (${(err as Error).message})`);
  }
  try {
    const { size, mtimeMs } = fs.fstatSync(fd);
    if (size !== index.size || mtimeMs !== index.modifiedMs) changed('has changed');
    readExactly(fd, new Uint8Array(buffer), entry.begin + skip, index.file);
  } finally {
    fs.closeSync(fd);
  }
  const data = entry.dtype === 'F32' ? new Float32Array(buffer) : new Uint16Array(buffer);
  return { dtype: entry.dtype, shape, data };
}

export interface NamedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
  /** How to store it (default F32); BF16 rounds to nearest even. */
  readonly dtype?: 'F32' | 'BF16';
}

/** Writes float32 tensors in the given order (the order of the fixtures is not significant). */
export function writeSafetensors(file: string, tensors: readonly NamedTensor[], metadata: Record<string, string> = {}): void {
  const writer = new SafetensorsWriter(file, metadata);
  try {
    for (const t of tensors) writer.add(t);
    writer.finish();
  } finally {
    writer.dispose();
  }
}

/** bfloat16 bits (the top half of each float32), rounded to nearest even. */
function toBfloat16Bits(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) out[i] = (bits[i] + 0x7fff + ((bits[i] >>> 16) & 1)) >>> 16;
  return out;
}

/**
 * Writes float32 tensors one by one, as a run produces them, without holding them: the data goes to a
 * scratch file next to the target, and `finish` writes the header (which names every tensor's offsets)
 * followed by that data.
 */
export class SafetensorsWriter {
  private readonly scratch: string;
  private readonly fd: number;
  private readonly header: Record<string, unknown> = {};
  private offset = 0;

  constructor(private readonly file: string, metadata: Record<string, string> = {}) {
    if (Object.keys(metadata).length) this.header.__metadata__ = metadata;
    this.scratch = `${file}.partial`;
    this.fd = fs.openSync(this.scratch, 'w+');
  }

  add(t: NamedTensor): void {
    if (t.data.length !== numel(t.shape)) throw new Error(`writeSafetensors: ${t.name} has ${t.data.length} values for shape ${JSON.stringify(t.shape)}`);
    if (t.name in this.header) throw new Error(`writeSafetensors: two tensors are named ${t.name}`);
    const values = t.dtype === 'BF16' ? toBfloat16Bits(t.data) : t.data;
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    this.header[t.name] = { dtype: t.dtype ?? 'F32', shape: t.shape, data_offsets: [this.offset, this.offset + bytes.length] };
    fs.writeSync(this.fd, bytes, 0, bytes.length, this.offset);
    this.offset += bytes.length;
  }

  /** The tensors' names and shapes so far. */
  shapes(): Record<string, readonly number[]> {
    return Object.fromEntries(Object.entries(this.header).filter(([name]) => name !== '__metadata__').map(([name, entry]) => [name, (entry as { shape: number[] }).shape]));
  }

  finish(): void {
    let json = JSON.stringify(this.header);
    json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8); // keeps the data 8-byte aligned
    const headerBytes = Buffer.from(json, 'utf8');
    const out = fs.openSync(this.file, 'w');
    try {
      const length = Buffer.alloc(8);
      length.writeBigUInt64LE(BigInt(headerBytes.length));
      fs.writeSync(out, length);
      fs.writeSync(out, headerBytes);
      const buffer = Buffer.alloc(4 * 2 ** 20);
      for (let at = 0, read; (read = fs.readSync(this.fd, buffer, 0, buffer.length, at)) > 0; at += read) fs.writeSync(out, buffer, 0, read);
    } finally {
      fs.closeSync(out);
    }
  }

  dispose(): void {
    fs.closeSync(this.fd);
    fs.rmSync(this.scratch, { force: true });
  }
}
