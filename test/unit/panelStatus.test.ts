/** What the status bar and the panel header say about a run: the backend in short, and the delivery log. */
import * as assert from 'assert';
import { DeliveryLog } from '../../src/host/runs/deliveryLog';
import { backendSummary } from '../../src/view-model/backendSummary';

describe('backend summary: short in the bar, the whole story in the tooltip', () => {
  it('names a hardware GPU by its adapter', () => {
    assert.deepStrictEqual(backendSummary({ used: 'webgpu', adapter: 'NVIDIA H100 80GB HBM3', fallbackReason: null }), { label: 'NVIDIA H100 80GB HBM3', detail: 'WebGPU on NVIDIA H100 80GB HBM3' });
  });

  it('marks a software adapter the self-benchmark chose, keeping its times for the tooltip', () => {
    const adapter = 'llvmpipe (LLVM 19.1.7, 256 bits) (software adapter, chosen by a quick self-benchmark: 3.1 ms on WebGPU vs 4.0 ms on the CPU)';
    const summary = backendSummary({ used: 'webgpu', adapter, fallbackReason: null });
    assert.strictEqual(summary.label, 'llvmpipe (software GPU)');
    assert.ok(summary.detail.includes('3.1 ms on WebGPU vs 4.0 ms'), summary.detail);
  });

  it('says CPU, and why not WebGPU only in the detail', () => {
    const reason = 'llvmpipe is a software adapter, and a quick self-benchmark found the CPU faster (9.0 ms on WebGPU vs 4.0 ms on the CPU for a 64×256·256×512 matmul)';
    const summary = backendSummary({ used: 'cpu', adapter: 'WebAssembly SIMD, 2 threads', fallbackReason: reason });
    assert.strictEqual(summary.label, 'CPU');
    assert.strictEqual(summary.detail, `WebAssembly SIMD, 2 threads. Not on WebGPU: ${reason}`);
    assert.deepStrictEqual(backendSummary({ used: 'cpu', adapter: 'WebAssembly SIMD, 2 threads', fallbackReason: null }), { label: 'CPU', detail: 'WebAssembly SIMD, 2 threads' });
  });
});

describe('delivery log: engine and panel times per layer', () => {
  it('times each layer from the engine and from the panel\'s count, the first view and the end', async () => {
    const log = new DeliveryLog();
    log.begin(7);
    log.engineLayer();
    log.engineLayer();
    log.panelShown(7, 1, false);
    log.panelShown(6, 2, true); // another run's report changes nothing
    let snapshot = log.snapshot();
    assert.strictEqual(snapshot.runId, 7);
    assert.notStrictEqual(snapshot.layers[0].panelMs, null);
    assert.strictEqual(snapshot.layers[1].panelMs, null);
    assert.strictEqual(snapshot.firstViewMs, null);
    await new Promise((resolve) => setTimeout(resolve, 15));
    log.engineLayer();
    log.engineFinished();
    log.panelShown(7, 3, true);
    snapshot = log.snapshot();
    assert.deepStrictEqual(snapshot.layers.map((l) => l.index), [0, 1, 2]);
    assert.ok(snapshot.layers.every((l) => l.panelMs !== null && l.panelMs >= l.engineMs));
    assert.ok(snapshot.layers[2].engineMs >= 15, 'times run from the run\'s start');
    assert.ok(snapshot.firstViewMs !== null && snapshot.finishedMs !== null);
    const first = snapshot.layers[0].panelMs;
    log.panelShown(7, 3, true);
    assert.strictEqual(log.snapshot().layers[0].panelMs, first, 'the first report counts');
    log.begin(8);
    assert.deepStrictEqual(log.snapshot().layers, [], 'a new run starts a new log');
  });
});
