/**
 * Run messages (and a baseline) as text, for the standalone report: JSON in which every Float32Array
 * becomes `{"$f32": "<base64 of its little-endian bytes>"}`. Base64 is done by hand so the same code
 * runs in Node (CLI, host) and in the browser without Buffer, and decodes hundreds of MB without
 * building a binary string.
 */
import type { ReplayMessage } from './messages';

/** The report's <script type="application/json"> element that holds the encoded run. */
export const DATA_ELEMENT_ID = 'attention-data';

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

// Float32Array bytes are platform-endian; every platform a browser or Node runs on is little-endian.
function floatsToBase64(values: Float32Array): string {
  return bytesToBase64(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

function base64ToFloats(text: string): Float32Array {
  const bytes = base64ToBytes(text);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

export function encodeRunMessages(messages: readonly ReplayMessage[]): string {
  return JSON.stringify(messages, (_key, value: unknown) => (value instanceof Float32Array ? { $f32: floatsToBase64(value) } : value));
}

export function decodeRunMessages(json: string): ReplayMessage[] {
  return JSON.parse(json, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && typeof (value as { $f32?: unknown }).$f32 === 'string') {
      return base64ToFloats((value as { $f32: string }).$f32);
    }
    return value;
  }) as ReplayMessage[];
}
