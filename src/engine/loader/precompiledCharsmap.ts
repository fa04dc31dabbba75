/**
 * SentencePiece's `precompiled_charsmap` (the `Precompiled` normalizer of T5, mBART, XLM-R…), checked
 * the way the tokenizers library reads it but without its panics: the library aborts the process when
 * the base64 does not decode, the blob does not parse or its strings are not UTF-8 (at load), and when
 * a lookup walks outside the trie or a replacement starts outside the strings (at encode time). One
 * flipped byte in tokenizer.json does any of these.
 *
 * The blob (spm_precompiled): u32 LE trie size in bytes, the trie as u32 LE units of a darts-clone
 * double array, then the replacement strings, each ending in NUL.
 */

/** Why the charsmap would crash the library, or undefined when it is safe to load. */
export function precompiledCharsmapProblem(base64: unknown): string | undefined {
  if (typeof base64 !== 'string') return `must be a base64 string, not ${JSON.stringify(base64)?.slice(0, 40)}`;
  const blob = decodeCanonicalBase64(base64);
  if (!blob) return 'is not valid base64';
  if (blob.length < 4) return `holds ${blob.length} bytes, too few for its trie size`;
  const trieBytes = blob.readUInt32LE(0);
  const units = Math.floor(trieBytes / 4);
  if (4 + 4 * units > blob.length) return `claims a ${trieBytes}-byte trie but holds ${blob.length - 4} bytes`;
  const normalized = blob.subarray(4 + 4 * units);
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(normalized);
  } catch {
    return 'has replacement strings that are not valid UTF-8';
  }
  const trie = new Uint32Array(units);
  for (let i = 0; i < units; i++) trie[i] = blob.readUInt32LE(4 + 4 * i);
  return trieProblem(trie, normalized);
}

/**
 * Every lookup step goes from unit i (reached by matching its label) to base = i ^ offset(unit), then to
 * base ^ byte, and reads a leaf's value at base. Value units (top bit set) never match a label, so only
 * label units need a base inside the array: then each of the 256 children of a 256-aligned base is too.
 */
function trieProblem(trie: Uint32Array, normalized: Uint8Array): string | undefined {
  if (trie.length === 0) return 'has an empty trie';
  const inside = (base: number) => (base | 0xff) < trie.length;
  if (!inside(offset(trie[0]))) return 'has a trie whose root points outside it';
  for (let i = 0; i < trie.length; i++) {
    const unit = trie[i];
    if (unit & 0x80000000) continue; // a value unit: no lookup passes through it
    const base = i ^ offset(unit);
    if (!inside(base)) return `has a trie unit (${i}) that points outside the trie`;
    if ((unit >>> 8) & 1) {
      const value = trie[base] & 0x7fffffff;
      if (value > normalized.length) return `has a replacement (unit ${i}) that starts past the end of the strings`;
      if (value < normalized.length && (normalized[value] & 0xc0) === 0x80) return `has a replacement (unit ${i}) that starts inside a character`;
    }
  }
  return undefined;
}

/** darts-clone: bits 10…31 hold the offset, shifted left by 8 more when bit 9 is set. */
function offset(unit: number): number {
  return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
}

/** Standard alphabet with canonical padding, as the library's base64 engine requires; else undefined. */
function decodeCanonicalBase64(text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  // Non-zero bits after the last byte are not canonical: re-encoding gives back the same text only if none.
  return bytes.toString('base64') === text ? bytes : undefined;
}
