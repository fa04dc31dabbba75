/**
 * The backends every numeric test runs against. Each entry creates a fresh backend; the numeric
 * suites loop over this list so a new backend is tested by adding it here.
 */
import type { Backend } from '../../src/engine/backend';
import { cpuBackends } from './cpuBackends';

export interface TestBackend {
  readonly name: string;
  create(): Promise<Backend>;
}

export function testBackends(): TestBackend[] {
  return cpuBackends();
}
