/** Keys and values kept between generation steps, so each new token attends without recomputing the past. */
import type { Backend, DeviceTensor } from './backend';

/** One layer's keys and values so far, for incremental decoding. */
export interface LayerCache {
  k?: DeviceTensor;
  v?: DeviceTensor;
}

/**
 * The key/value cache of one generation: self-attention keys and values per layer, and for
 * encoder-decoder models the encoder output's cross-attention keys and values, computed once.
 */
export class KvCache {
  readonly layers: LayerCache[] = [];
  cross: { k: DeviceTensor; v: DeviceTensor }[] | undefined;
  /** Tokens already in the cache: the position of the next token. */
  length = 0;

  constructor(private readonly backend: Backend) {}

  layer(index: number): LayerCache {
    return (this.layers[index] ??= {});
  }

  release(): void {
    const tensors = this.layers.flatMap((l) => [l.k, l.v]);
    for (const c of this.cross ?? []) tensors.push(c.k, c.v);
    this.backend.release(tensors.filter((t): t is DeviceTensor => t !== undefined));
  }
}
