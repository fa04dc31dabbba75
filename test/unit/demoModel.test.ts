/** The built-in demo: self, masked and cross attention with the right masks and rows summing to 1. */
import * as assert from 'assert';
import { ReferenceBackend } from '../../src/engine/cpu/reference/referenceBackend';
import { inspect } from '../../src/engine/inspect';
import { loadModel } from '../../src/engine/loadModel';
import type { AttentionEvent } from '../../src/engine/model';

const backend = new ReferenceBackend();

async function attentionOf(model: string, text: string, targetText?: string): Promise<{ events: AttentionEvent[]; tokens: readonly string[]; targetTokens?: readonly string[] }> {
  const events: AttentionEvent[] = [];
  const summary = await inspect(loadModel(model), backend, { text, targetText }, { scores: true, headVectors: true }, {
    onEvent: (e) => void (e.type === 'attention' && events.push(e)),
  });
  return { events, tokens: summary.source.tokens, targetTokens: summary.target?.tokens };
}

function assertRowsSumToOne(e: AttentionEvent): void {
  for (let r = 0; r < e.numHeads * e.queryLength; r++) {
    let sum = 0;
    for (let j = 0; j < e.keyLength; j++) sum += e.probs[r * e.keyLength + j];
    assert.ok(Math.abs(sum - 1) < 1e-5, `row ${r} of ${e.stack} sums to ${sum}`);
  }
}

describe('demo model', () => {
  it('tokenizes the tutorial sentence character by character with exact offsets', async () => {
    const text = '那天雨很大,他等了很久,水汽打湿了衣服,也没有等到她。';
    const { tokens } = await attentionOf('demo', text);
    assert.deepStrictEqual(tokens, [...text]);
    const enc = await loadModel('demo').tokenizer!.encode('The animal didn\'t cross 😀 it');
    assert.deepStrictEqual(enc.tokens, ['The', 'animal', 'didn\'t', 'cross', '😀', 'it']);
    assert.deepStrictEqual(enc.offsetsUtf16[4], [24, 26]);
  });

  it('self-attention: 8 heads, bidirectional, rows sum to 1', async () => {
    const { events } = await attentionOf('demo', 'I Love Nature Language Processing');
    assert.strictEqual(events.length, 1);
    const [e] = events;
    assert.strictEqual(e.stack, 'self');
    assert.strictEqual(e.numHeads, 8);
    assert.strictEqual(e.headDim, 64);
    assertRowsSumToOne(e);
    const upper = Array.from({ length: e.queryLength }, (_, i) => e.probs[i * e.keyLength + e.keyLength - 1]);
    assert.ok(upper.every((p) => p > 0), 'every token sees the last token');
  });

  it('masked self-attention: future positions are -Infinity before the softmax and 0 after', async () => {
    const { events } = await attentionOf('demo-causal', '我爱吃苹果');
    const [e] = events;
    assertRowsSumToOne(e);
    for (let h = 0; h < e.numHeads; h++) {
      for (let i = 0; i < e.queryLength; i++) {
        for (let j = 0; j < e.keyLength; j++) {
          const at = (h * e.queryLength + i) * e.keyLength + j;
          if (j > i) {
            assert.strictEqual(e.scores![at], -Infinity);
            assert.strictEqual(e.probs[at], 0);
          } else {
            assert.ok(Number.isFinite(e.scores![at]) && e.probs[at] > 0);
          }
        }
      }
    }
  });

  it('scores are q·k / √d_k, and the head output is Σ p·v', async () => {
    const { events } = await attentionOf('demo', '那天雨很大');
    const [e] = events;
    const width = e.numHeads * e.headDim;
    const h = 3, i = 2, j = 4;
    let dot = 0;
    for (let d = 0; d < e.headDim; d++) dot += e.q![i * width + h * e.headDim + d] * e.k![j * width + h * e.headDim + d];
    assert.ok(Math.abs(e.scores![(h * e.queryLength + i) * e.keyLength + j] - dot / 8) < 1e-4);
    let out = 0;
    for (let k = 0; k < e.keyLength; k++) out += e.probs[(h * e.queryLength + i) * e.keyLength + k] * e.v![k * width + h * e.headDim];
    assert.ok(Math.abs(e.headOutputs![i * width + h * e.headDim] - out) < 1e-4);
  });

  it('cross-attention: target tokens over source tokens, plus encoder and masked decoder attention', async () => {
    const { events, tokens, targetTokens } = await attentionOf('demo', '那天雨很大', 'It rained heavily that day');
    assert.deepStrictEqual(events.map((e) => e.stack), ['encoder', 'decoder', 'cross']);
    const cross = events[2];
    assert.strictEqual(cross.queryLength, targetTokens!.length);
    assert.strictEqual(cross.keyLength, tokens.length);
    events.forEach(assertRowsSumToOne);
    const decoder = events[1];
    assert.strictEqual(decoder.probs[1], 0, 'decoder self-attention is masked');
  });

  it('is reproducible: the same text gives the same weights', async () => {
    const a = await attentionOf('demo', 'The animal didn\'t cross the street because it was too tired');
    const b = await attentionOf('demo', 'The animal didn\'t cross the street because it was too tired');
    assert.deepStrictEqual(Array.from(a.events[0].probs), Array.from(b.events[0].probs));
  });
});
