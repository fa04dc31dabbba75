/** The hover's Markdown builder (src/host/hover/hoverMarkdown.ts): tables, escaping, the command link, the stale note. */
import * as assert from 'assert';
import type { HoverSections } from '../../src/view-model/attentionLookup';
import { RAW_WEIGHTS } from '../../src/view-model/weighting';
import { commandUri, escapeToken, hoverMarkdown, staleHoverMarkdown } from '../../src/host/hover/hoverMarkdown';

const LABELS = { title: '“it” — layer 0 · head 3', sectionHeaders: ['Attends to', 'Attended by'], weight: 'Weight', head: 'Head', open: 'Open layer 0 · head 3 in the panel' };

const CONTENT: HoverSections = {
  view: { stack: 'self', layer: 0, heads: [3], aggregate: 'none', weights: RAW_WEIGHTS },
  token: 'it',
  sections: [
    { kind: 'attends-to', partners: 'source', rows: [{ index: 1, token: 'animal', weight: 0.61234 }, { index: 0, token: 'The', weight: 0.2 }] },
    { kind: 'attended-by', partners: 'source', rows: [{ index: 9, token: 'was', weight: 0.5 }] },
  ],
};

describe('hover markdown', () => {
  it('puts the sections side by side in one table, strongest first, each token with its position and a three-decimal weight', () => {
    const md = hoverMarkdown(CONTENT, LABELS);
    assert.strictEqual(md, [
      '**“it” — layer 0 · head 3**',
      '',
      '| Attends to | Weight | Attended by | Weight |',
      '|:--|--:|:--|--:|',
      '| animal (1) | 0.612 | was (9) | 0.500 |',
      '| The (0) | 0.200 |  |  |',
    ].join('\n'));
  });

  it('adds a head column when the rows come from different heads', () => {
    const md = hoverMarkdown({ ...CONTENT, sections: [{ kind: 'attends-to', partners: 'source', rows: [{ index: 1, token: 'animal', weight: 0.9, head: 5 }, { index: 0, token: 'The', weight: 0.4, head: 0 }] }] }, LABELS);
    assert.ok(md.includes(['| Attends to | Weight | Head |', '|:--|--:|--:|', '| animal (1) | 0.900 | 5 |', '| The (0) | 0.400 | 0 |'].join('\n')), md);
  });

  it('tells repeated tokens apart by their positions', () => {
    const rows = [{ index: 3, token: ',', weight: 0.3 }, { index: 11, token: ',', weight: 0.2 }];
    const md = hoverMarkdown({ ...CONTENT, sections: [{ kind: 'attends-to', partners: 'source', rows }] }, LABELS);
    assert.ok(md.includes('| , (3) | 0.300 |') && md.includes('| , (11) | 0.200 |'), md);
  });

  it('ends with the command link when given one, its arguments URI-encoded JSON', () => {
    const link = commandUri('attentionInspector.revealInPanel', { stack: 'self', layer: 0, head: 3 });
    assert.strictEqual(link, `command:attentionInspector.revealInPanel?${encodeURIComponent('[{"stack":"self","layer":0,"head":3}]')}`);
    const md = hoverMarkdown(CONTENT, LABELS, link);
    assert.ok(md.endsWith(`[Open layer 0 · head 3 in the panel](${link})`), md);
  });

  it('escapes tokens so that no token breaks the table or turns into Markdown, and shows whitespace', () => {
    assert.strictEqual(escapeToken('a|b'), 'a\\|b');
    assert.strictEqual(escapeToken('**x**'), '\\*\\*x\\*\\*');
    assert.strictEqual(escapeToken('[l](u)'), '\\[l\\](u)');
    assert.strictEqual(escapeToken('&lt;'), '\\&lt;');
    assert.strictEqual(escapeToken('- 1.'), '-␣1.');
    assert.strictEqual(escapeToken('<img>'), '\\<img\\>');
    assert.strictEqual(escapeToken(' the'), '␣the');
    assert.strictEqual(escapeToken('\n'), '↵');
    assert.strictEqual(escapeToken('\t'), '⇥');
    assert.strictEqual(escapeToken(''), '∅');
    assert.strictEqual(escapeToken('Ġthe'), '␣the', 'byte-level BPE space marker, as in the panel');
    assert.strictEqual(escapeToken('▁She'), '␣She', 'SentencePiece space marker, as in the panel');
    assert.strictEqual(escapeToken('Ċ'), '↵');
    assert.strictEqual(escapeToken('雨'), '雨');
    const md = hoverMarkdown({ ...CONTENT, sections: [{ kind: 'attends-to', partners: 'source', rows: [{ index: 0, token: '|`', weight: 1 }] }] }, LABELS);
    assert.ok(md.includes('| \\|\\` (0) | 1.000 |'), md);
  });

  it('a stale hover carries only its note: no weights', () => {
    const md = staleHoverMarkdown('Stale: the text changed. Re-run.');
    assert.strictEqual(md, '*Stale: the text changed. Re-run.*');
    assert.ok(!/\d/.test(md));
  });
});
