// A tokenizer.json that aborts the tokenizers library (a Rust panic, exit 134 for any process that loads
// it) used from VS Code: the engine's own process dies, the run fails with a notice saying what crashed
// and on which file, the extension host survives (this suite keeps running in it), and the next run on
// a good model works in a fresh engine. Damage that validation catches gets its precise message too.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { crashingTokenizer, editJson, scratchModel } from '../helpers/scratchModel';
import { LLAMA, assertDone, assertNotice, runCommand, setSettings } from './editorHelpers';
import { INSPECT_SELECTION_COMMAND, closeAllEditors, showSelectedText } from './workbench';

describe('A tokenizer that crashes: only the engine goes down', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  afterEach(closeAllEditors);

  it('the run fails with a notice naming tokenizer.json, and the next run with a good model works', async () => {
    const crashing = crashingTokenizer();
    dirs.push(crashing);
    const hostPid = process.pid;
    const restore = await setSettings({ model: crashing });
    try {
      await showSelectedText('Once upon a time, there was a little girl.');
      const outcome = await runCommand(INSPECT_SELECTION_COMMAND);
      assert.strictEqual(outcome.status, 'failed');
      const notice = assertNotice(outcome.notice, 'error', new RegExp(`The model's tokenizer crashed while tokenizing the text with ${path.join(crashing, 'tokenizer.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(the tokenizers library aborted: .*\\)\\. .*Choose another model`));
      assert.deepStrictEqual(notice.actions, ['Choose Model…']);
      assert.doesNotMatch(notice.message, /panicked at|internal error|\n\s+at /);
    } finally {
      await restore();
    }
    assert.strictEqual(process.pid, hostPid, 'the same extension host');
    const restoreLlama = await setSettings({ model: LLAMA });
    try {
      await showSelectedText('Once upon a time, there was a little girl.');
      const outcome = await runCommand(INSPECT_SELECTION_COMMAND);
      assertDone(outcome);
      assert.strictEqual(outcome.model, 'llama-stories260K');
    } finally {
      await restoreLlama();
    }
  });

  it('a template that names a missing special token is refused before the library sees it, naming the field', async () => {
    const damaged = scratchModel('llama-stories260K');
    dirs.push(damaged);
    editJson(damaged, 'tokenizer.json', (j) => delete (j.post_processor as { special_tokens: Record<string, unknown> }).special_tokens['<s>']);
    const restore = await setSettings({ model: damaged });
    try {
      await showSelectedText('Once upon a time');
      const outcome = await runCommand(INSPECT_SELECTION_COMMAND);
      assert.strictEqual(outcome.status, 'failed');
      assertNotice(outcome.notice, 'error', /tokenizer\.json: field "post_processor\.single\[0\]" names the special token "<s>"/);
    } finally {
      await restore();
    }
    await showSelectedText('Still working after the error.');
    assertDone(await runCommand(INSPECT_SELECTION_COMMAND));
  });
});
