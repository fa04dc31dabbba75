/**
 * The backends every numeric test runs against. Each entry creates a fresh backend; the numeric
 * suites loop over this list so a new backend is tested by adding it here.
 *
 * WebGPU needs an adapter (on machines without a GPU: Mesa lavapipe, scripts/setup/10-webgpu.sh).
 * Without one, WebGPU suites fail when CI is set (CI must test it for real) and are skipped with a
 * loud message otherwise.
 */
import { spawnSync } from 'child_process';
import type { Backend } from '../../src/engine/backend';
import { cpuBackends } from './cpuBackends';
import { NO_WEBGPU_ENV, GpuDeviceOptions } from '../../src/engine/webgpu/gpuDevice';
import { WebGpuBackend } from '../../src/engine/webgpu/webgpuBackend';
import { REPO_ROOT } from './repo';

export interface TestBackend {
  readonly name: string;
  create(): Promise<Backend>;
}

export function testBackends(): TestBackend[] {
  const backends: TestBackend[] = cpuBackends();
  const unavailable = webgpuUnavailableReason();
  if (unavailable && !process.env.CI) warnSkipped(unavailable);
  else backends.push({ name: 'webgpu', create: () => WebGpuBackend.create() });
  return backends;
}

/** A WebGPU backend for a suite: fails under CI without an adapter, skips the suite otherwise. */
export async function webgpuOrSkip(context: Mocha.Context, options?: GpuDeviceOptions): Promise<WebGpuBackend> {
  const unavailable = webgpuUnavailableReason();
  if (unavailable && !process.env.CI) {
    warnSkipped(unavailable);
    context.skip();
  }
  return WebGpuBackend.create(options);
}

let probed: string | null | undefined;

/**
 * Why no WebGPU adapter can be had here, or null. Probed once, in a child process: it keeps the
 * answer synchronous (suites are declared synchronously) and a Dawn crash out of mocha.
 */
export function webgpuUnavailableReason(): string | null {
  if (probed !== undefined) return probed;
  if (process.env[NO_WEBGPU_ENV] === '1') return (probed = `${NO_WEBGPU_ENV}=1`);
  const probe = `import('webgpu').then(async ({ create }) => {
    const gpu = create([]);
    const adapter = await gpu.requestAdapter();
    process.stdout.write(adapter ? 'adapter' : 'none');
    process.exit(0);
  }, (err) => { process.stdout.write('cannot load webgpu: ' + err.message); process.exit(0); });`;
  const result = spawnSync(process.execPath, ['-e', probe], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30000 });
  const answer = result.stdout.trim();
  probed = answer === 'adapter' ? null : answer === 'none' ? 'Dawn found no adapter (install Mesa ≥ 25 lavapipe: scripts/setup/10-webgpu.sh)' : answer || `the probe failed: ${result.stderr || result.error}`;
  return probed;
}

const warned = new Set<string>();
function warnSkipped(reason: string): void {
  if (warned.has(reason)) return;
  warned.add(reason);
  console.warn(`\n  !!! WebGPU tests SKIPPED: ${reason}. They run (and must pass) when CI is set.\n`);
}
