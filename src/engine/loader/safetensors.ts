/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
 * {name: {dtype, shape, data_offsets: [begin, end]}}, then the data. Every claim the header makes is
 * checked against the file before a single tensor is read, so a damaged file gives an error naming the
 * file and the tensor instead of a crash or garbage numbers.
 */
import * as fs from 'fs';
import * as path from 'path';
import { EngineError } from '../errors';
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
}

const SUPPORTED_DTYPES: readonly string[] = ['F32', 'F16', 'BF16'];
// Valid safetensors dtypes we do not compute with: reported as unsupported rather than unknown.
const KNOWN_DTYPES: readonly string[] = [...SUPPORTED_DTYPES, 'F64', 'I64', 'I32', 'I16', 'I8', 'U8', 'U16', 'U32', 'U64', 'BOOL', 'F8_E4M3', 'F8_E5M2'];
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

function fail(file: string, detail: string): never {
  throw new EngineError('BAD_SAFETENSORS', `${path.basename(file)}: ${detail} (${file}). The file is damaged or not a safetensors file; download it again.`);
}

export function readSafetensorsIndex(file: string): SafetensorsIndex {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new EngineError('BAD_MODEL_FOLDER', `Cannot open ${file}: ${(err as Error).message}`);
  }
  try {
    const fileSize = fs.fstatSync(fd).size;
    if (fileSize < 8) fail(file, `file is ${fileSize} bytes, too short for a header`);
    const lengthBytes = Buffer.alloc(8);
    fs.readSync(fd, lengthBytes, 0, 8, 0);
    const headerLength = Number(lengthBytes.readBigUInt64LE(0));
    if (headerLength > fileSize - 8) fail(file, `header length ${headerLength} runs past the end of the file (${fileSize} bytes)`);
    if (headerLength > MAX_HEADER_BYTES) fail(file, `header length ${headerLength} is implausibly large`);
    const headerBytes = Buffer.alloc(headerLength);
    fs.readSync(fd, headerBytes, 0, headerLength, 8);
    let header: unknown;
    try {
      header = JSON.parse(headerBytes.toString('utf8'));
    } catch (err) {
      fail(file, `header is not valid JSON (${(err as Error).message})`);
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) fail(file, 'header is not a JSON object');
    return parseHeader(file, header as Record<string, unknown>, 8 + headerLength, fileSize);
  } finally {
    fs.closeSync(fd);
  }
}

function parseHeader(file: string, header: Record<string, unknown>, dataStart: number, fileSize: number): SafetensorsIndex {
  const entries = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  const dataSize = fileSize - dataStart;
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info !== 'object' || info === null) fail(file, `tensor "${name}" has no description`);
    if (typeof info.dtype !== 'string' || !KNOWN_DTYPES.includes(info.dtype)) fail(file, `tensor "${name}" has unknown dtype ${JSON.stringify(info.dtype)}`);
    if (!SUPPORTED_DTYPES.includes(info.dtype)) {
      throw new EngineError('BAD_SAFETENSORS', `${path.basename(file)}: tensor "${name}" is stored as ${info.dtype}; Attention Inspector reads F32, F16 and BF16 weights (${file}).`);
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(file, `tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0) || offsets[1] < offsets[0]) {
      fail(file, `tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataSize) fail(file, `tensor "${name}" data [${begin}, ${end}) lies outside the ${dataSize} data bytes`);
    const dtype = info.dtype as StorageDType;
    const expected = numel(shape) * BYTES_PER_ELEMENT[dtype];
    if (end - begin !== expected) fail(file, `tensor "${name}" spans ${end - begin} bytes but ${dtype} ${JSON.stringify(shape)} needs ${expected}`);
    entries.set(name, { name, dtype, shape, begin: dataStart + begin, end: dataStart + end });
  }
  const sorted = [...entries.values()].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) fail(file, `tensors "${sorted[i - 1].name}" and "${sorted[i].name}" overlap`);
  }
  return { file, entries, metadata };
}

/** Reads one tensor's bytes into a freshly aligned typed array. */
export function readTensor(index: SafetensorsIndex, entry: TensorEntry): HostTensor {
  const length = entry.end - entry.begin;
  const buffer = new ArrayBuffer(length);
  const fd = fs.openSync(index.file, 'r');
  try {
    let done = 0;
    while (done < length) {
      const n = fs.readSync(fd, new Uint8Array(buffer, done, length - done), 0, length - done, entry.begin + done);
      if (n === 0) fail(index.file, `tensor "${entry.name}" ends early: the file was truncated`);
      done += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  const data = entry.dtype === 'F32' ? new Float32Array(buffer) : new Uint16Array(buffer);
  return { dtype: entry.dtype, shape: entry.shape, data };
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
