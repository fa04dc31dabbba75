/**
 * The models the engine keeps loaded, least recently used first, at most a given number (the
 * maxLoadedModels setting): switching back to a recent model skips reading its weights again, and a
 * long session does not pile models up. An evicted model frees its weights on every backend at once,
 * or, while a run still uses it, when that run ends.
 */
import type { LoadedModel } from '../loadModel';

export const DEFAULT_MAX_LOADED_MODELS = 2;

interface Entry {
  readonly loaded: LoadedModel;
  /** Runs using the model now. */
  runs: number;
  /** No longer in the cache: its weights go when its last run ends. */
  evicted: boolean;
}

/** A run's hold on a model: `end` when the run is over, however it ended. */
export interface ModelLease {
  readonly loaded: LoadedModel;
  end(): void;
}

export class ModelCache {
  private readonly entries = new Map<string, Entry>();

  /** `key` names the model and the state of its files; `load` reads it when it is not held. */
  acquire(key: string, load: () => LoadedModel, limit = DEFAULT_MAX_LOADED_MODELS): ModelLease {
    let entry = this.entries.get(key);
    if (entry) this.entries.delete(key); // most recently used last
    else entry = { loaded: load(), runs: 0, evicted: false };
    this.entries.set(key, entry);
    entry.runs++;
    // Evicted before the new model's first run uploads its weights, so the two are not held at once.
    for (const old of [...this.entries.keys()].slice(0, -Math.max(1, limit))) this.evict(old);
    const held = entry;
    let ended = false;
    return {
      loaded: held.loaded,
      end: () => {
        if (ended) return;
        ended = true;
        held.runs--;
        if (held.evicted && held.runs === 0) held.loaded.model.releaseWeights();
      },
    };
  }

  /** Drops a model whose files turned out changed or damaged, so that the next run reads them again. */
  forget(key: string): void {
    this.evict(key);
  }

  /** Keys of the models held, least recently used first. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  private evict(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    entry.evicted = true;
    if (entry.runs === 0) entry.loaded.model.releaseWeights();
  }
}
