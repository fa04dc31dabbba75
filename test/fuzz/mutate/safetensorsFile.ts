/** A safetensors file taken apart and put back together, so mutations can edit its header and data. */

export interface TensorInfo {
  dtype: unknown;
  shape: unknown;
  data_offsets: unknown;
}

export interface SafetensorsParts {
  /** The header's JSON object (tensors and __metadata__), in file order. */
  header: Record<string, TensorInfo | Record<string, string>>;
  data: Buffer;
}

export function splitSafetensors(bytes: Buffer): SafetensorsParts {
  const length = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')), data: bytes.subarray(8 + length) };
}

/** Header padded with spaces to 8 bytes, as the reference writer does. */
export function joinSafetensors(parts: SafetensorsParts, headerText = JSON.stringify(parts.header)): Buffer {
  const padded = headerText + ' '.repeat((8 - ((Buffer.byteLength(headerText) + 8) % 8)) % 8);
  const header = Buffer.from(padded, 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([length, header, parts.data]);
}

export function tensorNames(parts: SafetensorsParts): string[] {
  return Object.keys(parts.header).filter((n) => n !== '__metadata__');
}

export function tensorInfo(parts: SafetensorsParts, name: string): TensorInfo {
  return parts.header[name] as TensorInfo;
}

/** Moves every tensor at or after `from` by `delta` bytes (after inserting or removing data there). */
export function shiftOffsets(parts: SafetensorsParts, from: number, delta: number): void {
  for (const name of tensorNames(parts)) {
    const info = tensorInfo(parts, name);
    const [begin, end] = info.data_offsets as number[];
    if (begin >= from) info.data_offsets = [begin + delta, end + delta];
  }
}

/** The tensors' names sorted by where their data starts. */
export function byOffset(parts: SafetensorsParts): string[] {
  return tensorNames(parts).sort((a, b) => (tensorInfo(parts, a).data_offsets as number[])[0] - (tensorInfo(parts, b).data_offsets as number[])[0]);
}
