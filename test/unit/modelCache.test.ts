/**
 * The engine keeps at most maxLoadedModels models: the least recently used goes first and frees its
 * weights at once, or when the last run still using it ends; a model whose files broke is dropped.
 */
import * as assert from 'assert';
import type { LoadedModel } from '../../src/engine/loadModel';
import type { ModelInfo } from '../../src/protocol/run';
import { ModelCache } from '../../src/engine/worker/modelCache';

/** A stand-in model that counts how often its weights were released. */
function standIn(name: string): LoadedModel & { released: () => number } {
  let released = 0;
  const info = { name } as ModelInfo;
  return {
    model: { info, releaseWeights: () => void released++, async *forward() {} },
    source: name,
    released: () => released,
  };
}

describe('model cache', () => {
  it('keeps the most recently used models up to the limit and frees the weights of the one it drops', () => {
    const cache = new ModelCache();
    const models = new Map(['a', 'b', 'c'].map((n) => [n, standIn(n)]));
    const loads: string[] = [];
    const use = (name: string, limit: number) => cache.acquire(name, () => (loads.push(name), models.get(name)!), limit).end();
    use('a', 2);
    use('b', 2);
    use('a', 2); // a is now the most recent
    assert.deepStrictEqual(cache.keys(), ['b', 'a']);
    use('c', 2);
    assert.deepStrictEqual(cache.keys(), ['a', 'c']);
    assert.deepStrictEqual([...models.values()].map((m) => m.released()), [0, 1, 0], 'b, the least recently used, was released once');
    use('a', 2);
    assert.deepStrictEqual(loads, ['a', 'b', 'c'], 'a was served from the cache');
    use('b', 1);
    assert.deepStrictEqual(cache.keys(), ['b']);
    assert.deepStrictEqual([...models.values()].map((m) => m.released()), [1, 1, 1]);
    assert.deepStrictEqual(loads, ['a', 'b', 'c', 'b']);
  });

  it('frees a model evicted while a run uses it when that run ends, once', () => {
    const cache = new ModelCache();
    const a = standIn('a');
    const running = cache.acquire('a', () => a, 1);
    cache.acquire('b', () => standIn('b'), 1).end();
    assert.deepStrictEqual(cache.keys(), ['b']);
    assert.strictEqual(a.released(), 0, 'the running model keeps its weights');
    running.end();
    running.end();
    assert.strictEqual(a.released(), 1);
  });

  it('drops a model whose files broke, so that the next run loads it again', () => {
    const cache = new ModelCache();
    const first = standIn('a');
    cache.acquire('a', () => first).end();
    cache.forget('a');
    assert.strictEqual(first.released(), 1);
    const second = standIn('a');
    assert.strictEqual(cache.acquire('a', () => second).loaded, second);
  });

  it('keeps the model a run asks for even with a limit below one', () => {
    const cache = new ModelCache();
    const a = standIn('a');
    const lease = cache.acquire('a', () => a, 0);
    assert.deepStrictEqual(cache.keys(), ['a']);
    lease.end();
    assert.strictEqual(a.released(), 0);
  });
});
