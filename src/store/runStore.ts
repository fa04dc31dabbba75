/**
 * Where one run's attention weights are kept on the host: float32, exactly as the engine computed
 * them, in a spill file (each layer's rows packed: a causal layer keeps only the keys each query sees),
 * read back on demand with a small cache of unpacked layers (at least the last one read). Layers are
 * written in the background (the host's thread goes on serving the panel) and read from memory until
 * they are on disk. Memory stays bounded whatever the run's size; disk holds heads × Σ visible keys ×
 * 4 bytes (GPT-2 small at 1,024 tokens: 302 MB). The file is deleted when the run is disposed, and
 * left-overs of a crashed host are swept on the next start.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { LayerMessage } from '../protocol/messages';
import { packLayer, packedSize, unpackLayer } from '../protocol/packing';
import { layerKey, type LayerTensors, type TensorSource } from '../view-model/tensors';

/** Unpacked layers kept in memory for the views that ask again (hover, the next view). */
const CACHE_BYTES = 128 * 2 ** 20;
const SPILL_PREFIX = 'attention-inspector-';

interface Stored {
  readonly offset: number;
  readonly length: number;
}

let nextStore = 1;

export class RunStore implements TensorSource {
  private readonly file: string;
  private fd: number | undefined;
  private disposed = false;
  private end = 0;
  private readonly layers = new Map<string, Stored>();
  /** Each layer's ‖W_O,h · v_j‖ [heads, keys]: small, kept in memory. */
  private readonly valueNorms = new Map<string, Float32Array>();
  private readonly cache = new Map<string, Float32Array>();
  private cachedBytes = 0;
  /** Packed layers whose write has not finished (or failed: then they stay here, in memory). */
  private readonly pending = new Map<string, Float32Array>();
  /** The writes, one after another. */
  private writes: Promise<void> = Promise.resolve();

  /** A store whose spill file lives in `dir` (default: a folder of this process under the temp folder). */
  constructor(dir = spillDirectory()) {
    this.file = path.join(dir, `run-${nextStore++}.f32`);
  }

  /** Bytes written to disk. */
  get bytes(): number {
    return this.end;
  }

  /**
   * Keeps one layer's probabilities [heads, queries, keys] (or, `packed`, the rows as packing.ts packs
   * them, as the engine process sends them) and its value norms.
   */
  write(layer: LayerMessage, probs: Float32Array, valueNorms?: Float32Array, packed = false): void {
    if (this.disposed) throw new Error('the run store was disposed');
    if (valueNorms) this.valueNorms.set(layerKey(layer), valueNorms);
    if (this.fd === undefined) {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      this.fd = fs.openSync(this.file, 'w+');
    }
    const key = layerKey(layer);
    if (packed && probs.length !== packedSize(layer)) throw new Error(`the run store was given ${probs.length} packed values for ${key}, not ${packedSize(layer)}`);
    const rows = packed ? probs : packLayer(probs, layer);
    const offset = this.end;
    this.layers.set(key, { offset, length: rows.length });
    this.end += rows.byteLength;
    // The layer just computed is the one the panel asks for next (packed, it is unpacked when asked).
    if (!packed || !layer.causal) this.remember(key, probs);
    this.pending.set(key, rows);
    const fd = this.fd;
    this.writes = this.writes.then(() => writeAll(fd, rows, offset)).then(
      () => void (this.pending.get(key) === rows && this.pending.delete(key)),
      () => undefined, // the disk refused it: the layer stays in memory
    );
  }

  /** Resolves when every layer written so far is on disk (or kept in memory after a failed write). */
  flushed(): Promise<void> {
    return this.writes;
  }

  tensors(layer: LayerMessage): LayerTensors | undefined {
    const probs = this.probs(layer);
    const valueNorms = this.valueNorms.get(layerKey(layer));
    return probs && { probs, ...(valueNorms && { valueNorms }) };
  }

  private probs(layer: LayerMessage): Float32Array | undefined {
    const key = layerKey(layer);
    const cached = this.cache.get(key);
    if (cached) {
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    const writing = this.pending.get(key);
    if (writing) {
      const probs = unpackLayer(writing, layer);
      this.remember(key, probs);
      return probs;
    }
    const stored = this.layers.get(key);
    if (!stored || this.fd === undefined) return undefined;
    if (stored.length !== packedSize(layer)) throw new Error(`the run store holds ${stored.length} values for ${key}, not ${packedSize(layer)}`);
    const packed = new Float32Array(stored.length);
    const bytes = new Uint8Array(packed.buffer);
    for (let done = 0; done < bytes.length;) {
      const read = fs.readSync(this.fd, bytes, done, bytes.length - done, stored.offset + done);
      if (read === 0) throw new Error(`the run store's file ${this.file} ended early`);
      done += read;
    }
    const probs = unpackLayer(packed, layer);
    this.remember(key, probs);
    return probs;
  }

  dispose(): void {
    this.disposed = true;
    this.cache.clear();
    this.pending.clear();
    this.valueNorms.clear();
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    // Closed and removed once the writes under way have ended (Windows cannot remove an open file).
    const file = this.file;
    void this.writes.finally(() => {
      fs.closeSync(fd);
      fs.rmSync(file, { force: true });
    });
  }

  /**
   * The layer read last is kept whatever its size: each view of it reads it whole, and unpacking a layer
   * larger than the cache for every query (two row windows for a first paint) cost a second at 2,048
   * tokens. Older layers stay while they fit.
   */
  private remember(key: string, probs: Float32Array): void {
    this.cache.set(key, probs);
    this.cachedBytes += probs.byteLength;
    for (const [oldest, values] of this.cache) {
      if (this.cachedBytes <= CACHE_BYTES || oldest === key) break;
      this.cache.delete(oldest);
      this.cachedBytes -= values.byteLength;
    }
  }
}

function writeAll(fd: number, packed: Float32Array, offset: number): Promise<void> {
  const bytes = new Uint8Array(packed.buffer, packed.byteOffset, packed.byteLength);
  return new Promise((resolve, reject) => {
    const next = (done: number): void => {
      if (done >= bytes.length) return resolve();
      fs.write(fd, bytes, done, bytes.length - done, offset + done, (err, written) => (err ? reject(err) : next(done + written)));
    };
    next(0);
  });
}

/** This process's spill folder; folders of processes that are gone are removed first. */
function spillDirectory(): string {
  const root = os.tmpdir();
  const own = path.join(root, `${SPILL_PREFIX}${process.pid}`);
  if (swept) return own;
  swept = true;
  for (const name of safeList(root)) {
    const pid = Number(name.slice(SPILL_PREFIX.length));
    if (!name.startsWith(SPILL_PREFIX) || !Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    fs.rmSync(path.join(root, name), { recursive: true, force: true });
  }
  return own;
}

let swept = false;

function safeList(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
