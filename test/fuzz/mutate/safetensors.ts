/**
 * Damage to a safetensors file: its header length, header bytes and JSON, each tensor's dtype, shape and
 * offsets, the data's layout (holes, trailing bytes, truncation) and the values themselves (NaN,
 * infinities, huge numbers, random bits).
 */
import type { Rng } from '../rng';
import { SafetensorsParts, byOffset, joinSafetensors, shiftOffsets, splitSafetensors, tensorInfo, tensorNames } from './safetensorsFile';

export interface FileMutation {
  readonly mutation: string;
  readonly detail: string;
  readonly bytes: Buffer | 'directory' | null;
  /** The format's rules forbid the result: no reader may accept it. */
  readonly mustRefuse: boolean;
}

const INVALID_BY_FORMAT = new Set([
  'header-length-off-by-few', 'header-length-wild', 'truncate', 'append-bytes', 'hole-before-first', 'hole-between', 'non-utf8-header',
  'header-not-object', 'duplicate-tensor', 'drop-tensor', 'empty', 'directory', 'missing',
]);

type Mutator = (rng: Rng, bytes: Buffer) => { detail: string; bytes: Buffer | 'directory' | null };

const ODD_NUMBERS: readonly number[] = [0, -1, 1.5, 2 ** 31, 2 ** 32, 2 ** 53, 1e12, 1e300, -1e300];
const DTYPES: readonly unknown[] = ['F32', 'F16', 'BF16', 'F64', 'I8', 'I64', 'U8', 'BOOL', 'F8_E4M3', 'f32', 'X', '', 32, null];

function edit(bytes: Buffer, change: (parts: SafetensorsParts) => string): { detail: string; bytes: Buffer } {
  const parts = splitSafetensors(bytes);
  const detail = change(parts);
  return { detail, bytes: joinSafetensors(parts) };
}

/** Overwrites `count` float32 (or 16-bit) values of a tensor with `value`'s bit pattern. */
function poison(rng: Rng, bytes: Buffer, value: number, label: string): { detail: string; bytes: Buffer } {
  const out = Buffer.from(bytes);
  const parts = splitSafetensors(out);
  const dataStart = out.length - parts.data.length;
  const name = rng.pick(tensorNames(parts));
  const info = tensorInfo(parts, name);
  const [begin, end] = info.data_offsets as number[];
  const width = info.dtype === 'F32' ? 4 : 2;
  const count = (end - begin) / width;
  if (count === 0) return { detail: `${label}: ${name} is empty`, bytes: out };
  const at = rng.int(count);
  const position = dataStart + begin + at * width;
  if (width === 4) out.writeFloatLE(value, position);
  else if (info.dtype === 'BF16') out.writeUInt16LE(Buffer.from(new Float32Array([value]).buffer).readUInt16LE(2), position);
  else out.writeUInt16LE(Number.isNaN(value) ? 0x7e00 : value === Infinity ? 0x7c00 : value === -Infinity ? 0xfc00 : 0x7bff, position);
  return { detail: `${label} at element ${at} of ${name}`, bytes: out };
}

const MUTATORS: Record<string, Mutator> = {
  'header-length-off-by-few': (rng, bytes) => {
    const out = Buffer.from(bytes);
    const delta = rng.pick([-8, -5, -4, -3, -2, -1, 1, 2, 3, 5, 8]);
    out.writeBigUInt64LE(out.readBigUInt64LE(0) + BigInt(delta), 0);
    return { detail: `header length ${delta > 0 ? '+' : ''}${delta}`, bytes: out };
  },
  'header-length-wild': (rng, bytes) => {
    const out = Buffer.from(bytes);
    const value = rng.pick([0n, 1n, 2n, 7n, BigInt(out.length), BigInt(out.length - 8), 2n ** 32n, 2n ** 40n, 2n ** 63n, 2n ** 64n - 1n]);
    out.writeBigUInt64LE(value, 0);
    return { detail: `header length ${value}`, bytes: out };
  },
  truncate: (rng, bytes) => {
    const at = rng.int(bytes.length);
    return { detail: `cut to ${at} of ${bytes.length} bytes`, bytes: bytes.subarray(0, at) };
  },
  'append-bytes': (rng, bytes) => {
    const extra = Buffer.alloc(rng.between(1, 64), rng.int(256));
    return { detail: `${extra.length} bytes appended`, bytes: Buffer.concat([bytes, extra]) };
  },
  'hole-before-first': (rng, bytes) => edit(bytes, (parts) => {
    const gap = rng.pick([1, 2, 4, 8, 64]);
    shiftOffsets(parts, 0, gap);
    parts.data = Buffer.concat([Buffer.alloc(gap), parts.data]);
    return `${gap} bytes before the first tensor`;
  }),
  'hole-between': (rng, bytes) => edit(bytes, (parts) => {
    const order = byOffset(parts);
    const after = rng.pick(order.slice(0, -1).length ? order.slice(0, -1) : order);
    const at = (tensorInfo(parts, after).data_offsets as number[])[1];
    const gap = rng.pick([1, 4, 16]);
    shiftOffsets(parts, at, gap);
    parts.data = Buffer.concat([parts.data.subarray(0, at), Buffer.alloc(gap), parts.data.subarray(at)]);
    return `${gap} bytes after ${after}`;
  }),
  'flip-header-byte': (rng, bytes) => {
    const out = Buffer.from(bytes);
    const length = Number(out.readBigUInt64LE(0));
    const at = 8 + rng.int(length);
    out[at] ^= 1 << rng.int(8);
    return { detail: `header byte ${at} flipped`, bytes: out };
  },
  'non-utf8-header': (rng, bytes) => {
    const out = Buffer.from(bytes);
    const length = Number(out.readBigUInt64LE(0));
    const spaces = out.subarray(8, 8 + length).lastIndexOf(0x7d) + 9; // after the closing brace, in the padding
    const at = spaces < 8 + length ? spaces : 8 + rng.int(length);
    out[at] = rng.pick([0xff, 0xc3, 0x80]);
    return { detail: `byte ${at} of the header set to a non-UTF-8 byte`, bytes: out };
  },
  'header-not-object': (rng, bytes) => {
    const parts = splitSafetensors(bytes);
    const text = rng.pick(['[]', 'null', '"x"', '7', ' {}', '{"a":1}x']);
    return { detail: `header ${text}`, bytes: joinSafetensors(parts, text) };
  },
  dtype: (rng, bytes) => edit(bytes, (parts) => {
    const name = rng.pick(tensorNames(parts));
    const dtype = rng.pick(DTYPES);
    tensorInfo(parts, name).dtype = dtype;
    return `${name} dtype ${JSON.stringify(dtype)}`;
  }),
  shape: (rng, bytes) => edit(bytes, (parts) => {
    const name = rng.pick(tensorNames(parts));
    const info = tensorInfo(parts, name);
    const shape = [...(info.shape as number[])];
    if (rng.chance(0.3)) {
      info.shape = rng.pick([[], [0], [-1], 'x', null, [1.5], [2 ** 53, 2 ** 53], [...shape, 1], shape.slice(1)]);
    } else {
      const axis = rng.int(Math.max(1, shape.length));
      shape[axis] = rng.chance(0.5) ? rng.pick(ODD_NUMBERS) : (shape[axis] ?? 0) + rng.pick([-1, 1, 2]);
      info.shape = shape;
    }
    return `${name} shape ${JSON.stringify(info.shape)}`;
  }),
  // The same bytes read as another dtype with the shape adjusted to match: consistent header, wrong numbers.
  'relabel-dtype': (rng, bytes) => edit(bytes, (parts) => {
    const name = rng.pick(tensorNames(parts));
    const info = tensorInfo(parts, name);
    const shape = [...(info.shape as number[])];
    if (info.dtype === 'F32') {
      info.dtype = rng.pick(['F16', 'BF16']);
      shape[shape.length - 1] *= 2;
    } else {
      info.dtype = rng.pick(['F16', 'BF16'].filter((d) => d !== info.dtype));
    }
    info.shape = shape;
    return `${name} relabelled ${String(info.dtype)} ${JSON.stringify(shape)}`;
  }),
  offsets: (rng, bytes) => edit(bytes, (parts) => {
    const name = rng.pick(tensorNames(parts));
    const info = tensorInfo(parts, name);
    const [begin, end] = info.data_offsets as number[];
    info.data_offsets = rng.pick([[begin + 1, end + 1], [begin - 1, end - 1], [end, begin], [begin, end + 4], [0, end - begin], [begin, 2 ** 60], [-4, end], [begin], 'x', [begin, end, 0]]);
    return `${name} data_offsets ${JSON.stringify(info.data_offsets)}`;
  }),
  'drop-tensor': (rng, bytes) => edit(bytes, (parts) => {
    const name = rng.pick(tensorNames(parts));
    delete parts.header[name];
    return `${name} removed from the header (its bytes stay)`;
  }),
  'duplicate-tensor': (rng, bytes) => edit(bytes, (parts) => {
    const name = rng.pick(tensorNames(parts));
    parts.header[`${name}.copy`] = { ...tensorInfo(parts, name) };
    return `${name} listed twice`;
  }),
  'rename-tensor': (rng, bytes) => edit(bytes, (parts) => {
    const name = rng.pick(tensorNames(parts));
    const renamed = rng.pick([`${name}x`, name.replace(/\d+/, '9'), name.toUpperCase(), '']);
    const info = parts.header[name];
    delete parts.header[name];
    parts.header[renamed] = info;
    return `${name} renamed ${JSON.stringify(renamed)}`;
  }),
  metadata: (rng, bytes) => edit(bytes, (parts) => {
    parts.header.__metadata__ = rng.pick<unknown>([{ format: 'pt' }, { format: 7 }, [], 'x', null, { a: { b: 'c' } }]) as Record<string, string>;
    return `__metadata__ ${JSON.stringify(parts.header.__metadata__)}`;
  }),
  'nan-value': (rng, bytes) => poison(rng, bytes, rng.pick([NaN, Infinity, -Infinity]), 'NaN/Inf value'),
  'huge-value': (rng, bytes) => poison(rng, bytes, rng.pick([3e38, -3e38, 1e30, 65504]), 'huge value'),
  'flip-data-bits': (rng, bytes) => {
    const out = Buffer.from(bytes);
    const dataStart = 8 + Number(out.readBigUInt64LE(0));
    const flips = rng.between(1, 8);
    for (let i = 0; i < flips; i++) out[dataStart + rng.int(out.length - dataStart)] ^= 1 << rng.int(8);
    return { detail: `${flips} data bits flipped`, bytes: out };
  },
  empty: () => ({ detail: 'empty file', bytes: Buffer.alloc(0) }),
  directory: () => ({ detail: 'a folder in its place', bytes: 'directory' }),
  missing: () => ({ detail: 'removed', bytes: null }),
};

export const SAFETENSORS_MUTATIONS = Object.keys(MUTATORS);

export function mutateSafetensors(rng: Rng, bytes: Buffer, only?: string): FileMutation {
  const mutation = only ?? rng.pick(SAFETENSORS_MUTATIONS);
  const { detail, bytes: out } = MUTATORS[mutation](rng, bytes);
  return { mutation, detail, bytes: out, mustRefuse: INVALID_BY_FORMAT.has(mutation) };
}
