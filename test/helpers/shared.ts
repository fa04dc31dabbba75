/** Locates ../shared (test models and transformers reference outputs) beside the repository. */
import * as fs from 'fs';
import * as path from 'path';
import { NamedTensor } from '../../src/engine/loader/safetensors';
import { readSafetensorsIndex, readTensor } from '../../src/engine/loader/safetensors';
import { toFloat32 } from '../../src/engine/tensor';
import { REPO_ROOT } from './repo';

export const SHARED = path.resolve(process.env.ATTENTION_INSPECTOR_SHARED ?? path.join(REPO_ROOT, '..', 'shared'));

export function sharedPath(...parts: string[]): string {
  if (!fs.existsSync(path.join(SHARED, 'fixtures', 'index.json'))) {
    throw new Error(`The shared test data is missing: expected ${SHARED} (../shared beside the repository, or set ATTENTION_INSPECTOR_SHARED).`);
  }
  return path.join(SHARED, ...parts);
}

export interface FixtureCase {
  readonly model: string;
  readonly kind: 'decoder-only' | 'encoder-only' | 'encoder-decoder';
  readonly modelDir: string;
  readonly case: string;
  readonly json: string;
  readonly safetensors: string;
}

export function fixtureCases(models?: readonly string[]): FixtureCase[] {
  const index = JSON.parse(fs.readFileSync(sharedPath('fixtures', 'index.json'), 'utf8'));
  const out: FixtureCase[] = [];
  for (const [model, entry] of Object.entries<{ kind: FixtureCase['kind']; model_dir: string; cases: { case: string; json: string; safetensors: string }[] }>(index.models)) {
    if (models && !models.includes(model)) continue;
    for (const c of entry.cases) {
      out.push({ model, kind: entry.kind, modelDir: sharedPath(entry.model_dir), case: c.case, json: sharedPath('fixtures', c.json), safetensors: sharedPath('fixtures', c.safetensors) });
    }
  }
  return out;
}

export function readReference(file: string): Map<string, NamedTensor> {
  const index = readSafetensorsIndex(file);
  const out = new Map<string, NamedTensor>();
  for (const entry of index.entries.values()) out.set(entry.name, { name: entry.name, shape: entry.shape, data: toFloat32(readTensor(index, entry)) });
  return out;
}
