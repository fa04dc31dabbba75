/** The Hugging Face cache listing behind Choose Model… (src/engine/hub/list.ts): complete snapshots only, named by ref or commit. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { listCachedModels } from '../../src/engine/hub';
import { sharedPath } from '../helpers/shared';

const A = 'a'.repeat(40), B = 'b'.repeat(40), C = 'c'.repeat(40);

function snapshot(repoDir: string, commit: string, files: string[]): void {
  const folder = path.join(repoDir, 'snapshots', commit);
  fs.mkdirSync(folder, { recursive: true });
  for (const f of files) fs.copyFileSync(sharedPath('models', 'gpt2-tiny-random', f), path.join(folder, f));
}

function ref(repoDir: string, name: string, commit: string): void {
  fs.mkdirSync(path.dirname(path.join(repoDir, 'refs', name)), { recursive: true });
  fs.writeFileSync(path.join(repoDir, 'refs', name), commit);
}

describe('Hugging Face cache listing', () => {
  let cacheDir: string;
  beforeEach(() => (cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-list-'))));
  afterEach(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

  it('lists complete snapshots by ref (main first, as a plain id) and unnamed ones by commit', () => {
    const gpt2 = path.join(cacheDir, 'models--org--gpt2');
    snapshot(gpt2, A, ['config.json', 'model.safetensors']);
    snapshot(gpt2, B, ['config.json', 'model.safetensors']);
    snapshot(gpt2, C, ['config.json', 'model.safetensors']);
    ref(gpt2, 'v1', B);
    ref(gpt2, 'main', A);
    ref(gpt2, 'pr/3', B);
    const partial = path.join(cacheDir, 'models--org--partial');
    snapshot(partial, A, ['config.json']);
    ref(partial, 'main', A);
    fs.mkdirSync(path.join(cacheDir, 'datasets--org--data'), { recursive: true });
    const listed = listCachedModels(cacheDir);
    assert.deepStrictEqual(listed.map((m) => m.spec), ['org/gpt2', 'org/gpt2@pr/3', 'org/gpt2@v1', `org/gpt2@${C}`]);
    assert.strictEqual(listed[0].folder, path.join(gpt2, 'snapshots', A));
    assert.strictEqual(listed[0].revision, 'main');
  });

  it('is empty for a missing cache folder', () => {
    assert.deepStrictEqual(listCachedModels(path.join(cacheDir, 'nowhere')), []);
  });
});
