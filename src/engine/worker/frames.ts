/**
 * The engine process's messages to its client as length-prefixed binary frames: V8's structured clone
 * of the message (what worker threads and Node's "advanced" IPC use, so any message the engine sends a
 * thread it can send here), with the listed ArrayBuffers *transferred*: the clone only refers to them,
 * and their bytes follow the clone raw, written straight from the engine's memory and read straight
 * into fresh buffers. Node's own advanced IPC copies them into the clone and slows down as layers grow
 * (about 250 MB/s at 200 MB against 600+ MB/s here; bench/ipc/transportBench.js).
 *
 * A frame: u32 kind, u32 clone length, u32 buffer count, u32 length of each buffer, the clone, the
 * buffers. All little-endian.
 */
import * as v8 from 'v8';

export const enum FrameKind {
  Message = 1,
  /** A native-activity note (nativeActivity.ts), written before a call that may abort the process. */
  Activity = 2,
}

const FIXED = 12;

/** The frame's pieces, in order: write them one after another. */
export function encodeFrame(kind: FrameKind, value: unknown, transfer: readonly ArrayBuffer[] = []): Uint8Array[] {
  const serializer = new v8.Serializer();
  serializer.writeHeader();
  const buffers = [...new Set(transfer)];
  buffers.forEach((buffer, i) => serializer.transferArrayBuffer(i, buffer));
  serializer.writeValue(value);
  const clone = serializer.releaseBuffer();
  const head = Buffer.alloc(FIXED + 4 * buffers.length);
  head.writeUInt32LE(kind, 0);
  head.writeUInt32LE(clone.length, 4);
  head.writeUInt32LE(buffers.length, 8);
  buffers.forEach((buffer, i) => head.writeUInt32LE(buffer.byteLength, FIXED + 4 * i));
  return [head, clone, ...buffers.map((b) => new Uint8Array(b))];
}

interface PartialFrame {
  readonly kind: FrameKind;
  readonly clone: Buffer;
  readonly buffers: Uint8Array[];
  /** The buffer being filled, and how much of it is. */
  index: number;
  filled: number;
}

/** Reassembles frames from the chunks a stream delivers, copying each buffer's bytes once. */
export class FrameReader {
  /** Chunks of a frame's head (fixed part, lengths, clone) not yet complete. */
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private frame: PartialFrame | undefined;

  constructor(private readonly onFrame: (kind: FrameKind, value: unknown) => void) {}

  push(chunk: Buffer): void {
    let data = chunk;
    while (data.length > 0) data = this.frame ? this.fill(this.frame, data) : this.readHead(data);
  }

  /** Consumes the head once it is complete (else keeps the chunk); returns what is left of the chunk. */
  private readHead(data: Buffer): Buffer {
    this.pending.push(Buffer.from(data)); // a copy: the stream may reuse its chunk
    this.pendingLength += data.length;
    if (this.pendingLength < FIXED) return Buffer.alloc(0);
    if (this.pending[0].length < FIXED) this.pending = [Buffer.concat(this.pending)];
    const first = this.pending[0];
    const count = first.readUInt32LE(8);
    const cloneAt = FIXED + 4 * count;
    const cloneEnd = cloneAt + first.readUInt32LE(4);
    if (this.pendingLength < cloneEnd) return Buffer.alloc(0);
    const head = this.pending.length === 1 ? first : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingLength = 0;
    const buffers = Array.from({ length: count }, (_, i) => new Uint8Array(head.readUInt32LE(FIXED + 4 * i)));
    this.frame = { kind: head.readUInt32LE(0), clone: head.subarray(cloneAt, cloneEnd), buffers, index: 0, filled: 0 };
    this.finishIfFull(this.frame);
    return head.subarray(cloneEnd);
  }

  private fill(frame: PartialFrame, data: Buffer): Buffer {
    let at = 0;
    while (at < data.length && frame.index < frame.buffers.length) {
      const target = frame.buffers[frame.index];
      const n = Math.min(target.length - frame.filled, data.length - at);
      target.set(data.subarray(at, at + n), frame.filled);
      frame.filled += n;
      at += n;
      if (frame.filled === target.length) {
        frame.index++;
        frame.filled = 0;
      }
    }
    this.finishIfFull(frame);
    return data.subarray(at);
  }

  private finishIfFull(frame: PartialFrame): void {
    while (frame.index < frame.buffers.length && frame.buffers[frame.index].length === 0) frame.index++;
    if (this.frame !== frame || frame.index < frame.buffers.length) return;
    this.frame = undefined;
    const deserializer = new v8.Deserializer(frame.clone);
    deserializer.readHeader();
    frame.buffers.forEach((b, i) => deserializer.transferArrayBuffer(i, b.buffer as ArrayBuffer));
    this.onFrame(frame.kind, deserializer.readValue());
  }
}
