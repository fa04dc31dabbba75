/**
 * The English and Simplified Chinese UI strings stay complete: every runtime string (a literal passed to
 * vscode.l10n.t) has a zh-cn translation with the same placeholders, and every %key% of package.json is
 * in both package.nls files.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/repo';

const root = REPO_ROOT;
const readJson = (file: string): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(root, file), 'utf8'));
const placeholders = (text: string) => (text.match(/\{\d+\}/g) ?? []).sort();

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

/** The first argument of every l10n.t('…') call, unescaped. */
function runtimeStrings(): Set<string> {
  const keys = new Set<string>();
  for (const file of sourceFiles(path.join(root, 'src'))) {
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(!/l10n\.t\(\s*[^'\s]/.test(text), `${file}: pass l10n.t a string literal, so that it can be checked here`);
    for (const match of text.matchAll(/l10n\.t\(\s*'((?:[^'\\]|\\.)*)'/g)) keys.add(match[1].replace(/\\(.)/g, '$1'));
  }
  return keys;
}

describe('localized UI strings', () => {
  // A translation may land before the code that uses it (several engineers share the tree), so an
  // unused translation is allowed; a missing one is not.
  it('translates every runtime string into Simplified Chinese, placeholders intact', () => {
    const bundle = readJson('l10n/bundle.l10n.zh-cn.json') as Record<string, string>;
    const keys = runtimeStrings();
    assert.ok(keys.size > 20, `found only ${keys.size} runtime strings`);
    assert.deepStrictEqual([...keys].filter((k) => !(k in bundle)), [], 'strings without a translation');
    for (const [english, chinese] of Object.entries(bundle)) assert.deepStrictEqual(placeholders(chinese), placeholders(english), english);
  });

  it('has every manifest %key% in English and Chinese, with the same placeholders', () => {
    const manifest = fs.readFileSync(path.join(root, 'package.json'), 'utf8');
    const used = new Set([...manifest.matchAll(/"%([\w.]+)%"/g)].map((m) => m[1]));
    const english = readJson('package.nls.json') as Record<string, string>;
    const chinese = readJson('package.nls.zh-cn.json') as Record<string, string>;
    assert.deepStrictEqual([...used].filter((k) => !(k in english)), [], 'missing from package.nls.json');
    assert.deepStrictEqual(Object.keys(english).sort(), Object.keys(chinese).sort(), 'package.nls.zh-cn.json has other keys');
    assert.deepStrictEqual(Object.keys(english).filter((k) => !used.has(k)), [], 'unused keys in package.nls.json');
    for (const key of Object.keys(english)) assert.deepStrictEqual(placeholders(chinese[key]), placeholders(english[key]), key);
  });
});
