/**
 * Base64 for the standalone report's binary chunks, by hand so the same code runs in Node (CLI, host)
 * and in the browser without Buffer, and decodes tens of MB without building a binary string.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Uint8Array(128).fill(255);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

export function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  // Chunks keep String.fromCharCode's argument list short.
  const chunk = 3 * 8192;
  for (let start = 0; start < bytes.length; start += chunk) {
    const end = Math.min(start + chunk, bytes.length);
    const codes: number[] = [];
    for (let i = start; i < end; i += 3) {
      const b0 = bytes[i], b1 = i + 1 < end ? bytes[i + 1] : 0, b2 = i + 2 < end ? bytes[i + 2] : 0;
      codes.push(
        ALPHABET.charCodeAt(b0 >> 2),
        ALPHABET.charCodeAt(((b0 & 3) << 4) | (b1 >> 4)),
        i + 1 < end ? ALPHABET.charCodeAt(((b1 & 15) << 2) | (b2 >> 6)) : 61,
        i + 2 < end ? ALPHABET.charCodeAt(b2 & 63) : 61,
      );
    }
    parts.push(String.fromCharCode(...codes));
  }
  return parts.join('');
}

export function base64ToBytes(text: string): Uint8Array {
  let length = text.length;
  while (length > 0 && text.charCodeAt(length - 1) === 61) length--;
  const out = new Uint8Array(Math.floor((length * 3) / 4));
  let o = 0;
  for (let i = 0; i < length; i += 4) {
    const c0 = sextet(text, i), c1 = sextet(text, i + 1);
    const c2 = i + 2 < length ? sextet(text, i + 2) : 0, c3 = i + 3 < length ? sextet(text, i + 3) : 0;
    out[o++] = (c0 << 2) | (c1 >> 4);
    if (i + 2 < length) out[o++] = ((c1 & 15) << 4) | (c2 >> 2);
    if (i + 3 < length) out[o++] = ((c2 & 3) << 6) | c3;
  }
  return out;
}

function sextet(text: string, index: number): number {
  const code = text.charCodeAt(index);
  const value = code < 128 ? DECODE[code] : 255;
  if (value === 255) throw new Error(`Invalid base64 character at ${index}`);
  return value;
}

type TypedArray = Float32Array | Int32Array | Uint16Array | Uint8Array;
const TYPED: Record<string, new (buffer: ArrayBuffer, offset: number, length: number) => TypedArray> = { Float32Array, Int32Array, Uint16Array, Uint8Array };

/** Where a typed array of a packed value is: its kind, and its elements in the packed bytes. */
interface ArrayRef {
  readonly $array: string;
  readonly offset: number;
  readonly length: number;
}

/**
 * A JSON-like value holding typed arrays as a JSON skeleton (each array replaced by a reference) and
 * the arrays' bytes one after another, each 4-byte aligned: how the report stores analysis results.
 */
export function packTyped(value: unknown): { skeleton: string; bytes: Uint8Array } {
  const arrays: TypedArray[] = [];
  let size = 0;
  const skeleton = JSON.stringify(value, (_key, v: unknown) => {
    if (!ArrayBuffer.isView(v)) return v;
    const array = v as TypedArray;
    if (!(array.constructor.name in TYPED)) throw new Error(`packTyped: cannot pack a ${array.constructor.name}`);
    const ref: ArrayRef = { $array: array.constructor.name, offset: size, length: array.length };
    arrays.push(array);
    size += Math.ceil(array.byteLength / 4) * 4;
    return ref;
  });
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const array of arrays) {
    bytes.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), at);
    at += Math.ceil(array.byteLength / 4) * 4;
  }
  return { skeleton, bytes };
}

/** The value packTyped packed (its arrays are copies: the bytes may be let go). */
export function unpackTyped<T>(skeleton: string, bytes: Uint8Array): T {
  const buffer = bytes.slice().buffer;
  return JSON.parse(skeleton, (_key, v: unknown) => {
    const ref = v as ArrayRef | null;
    if (!ref || typeof ref !== 'object' || typeof ref.$array !== 'string') return v;
    return new TYPED[ref.$array](buffer, ref.offset, ref.length);
  }) as T;
}
