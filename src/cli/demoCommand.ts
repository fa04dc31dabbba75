/**
 * `demo`: the attention tutorial's first example, offline. The built-in demo model reads
 * "那天雨很大,他等了很久,水汽打湿了衣服,也没有等到她。" and the command prints, per head, what 他
 * attends to and each token's strongest key.
 */
import * as path from 'path';
import { parseBackendChoice } from '../engine/backends';
import type { AttentionEvent } from '../engine/model';
import { parseArgs } from './args';
import { type EngineOptions, withEngine } from './engine';
import { CliReport } from './runReport';
import { REPORT_STEP_DATA_MAX_KEYS } from '../protocol/report';

const TUTORIAL_SENTENCE = '那天雨很大,他等了很久,水汽打湿了衣服,也没有等到她。';
const FOCUS = '他';
/** The standalone report, written to the current folder. */
const DEMO_REPORT = 'attention-demo.html';

/** The k largest entries of one attention row as [key index, weight], largest first. */
function topKeys(probs: Float32Array, row: number, keyLength: number, k: number): [number, number][] {
  const entries: [number, number][] = [];
  for (let j = 0; j < keyLength; j++) entries.push([j, probs[row * keyLength + j]]);
  return entries.sort((a, b) => b[1] - a[1]).slice(0, k);
}

export async function runDemo(argv: string[], options: EngineOptions = {}): Promise<number> {
  const args = parseArgs(argv, ['backend'], []);
  const backend = parseBackendChoice(args.values.get('backend') ?? 'auto');
  const layers: AttentionEvent[] = [];
  const report = new CliReport({ source: TUTORIAL_SENTENCE });
  try {
    const request = { model: 'demo', backend, input: { text: TUTORIAL_SENTENCE }, wants: { trace: { everyLayer: true, maxTokens: REPORT_STEP_DATA_MAX_KEYS } as const, valueNorms: true } };
    const summary = await withEngine(options, async (engine) => {
      const done = await engine.inspect(request, {
        onStart: (started) => report.start(started),
        onEvent: (e) => {
          report.event(e);
          if (e.type === 'attention') layers.push(e);
        },
      });
      await report.analyze(engine, request, done);
      return done;
    });
    const selection = summary.backend;
    const { tokens } = summary.source;
    const out: string[] = [
      `Attention Inspector demo — built-in model (untrained: seeded random weights; it shows the mechanics, not language)`,
      `d_model 512, 8 heads, d_k 64, one self-attention layer, backend ${selection.adapter}${selection.fallbackReason ? ` (${selection.fallbackReason})` : ''}`,
      `Text: ${TUTORIAL_SENTENCE}`,
      `Tokens (${tokens.length}): ${tokens.join(' ')}`,
      '',
    ];
    const focus = tokens.indexOf(FOCUS);
    // A token that occurs more than once (了, ，, 很, 等) is named with its position: 了@10.
    const label = (i: number) => (tokens.indexOf(tokens[i]) !== tokens.lastIndexOf(tokens[i]) ? `${tokens[i]}@${i}` : tokens[i]);
    for (const layer of layers) {
      for (let h = 0; h < layer.numHeads; h++) {
        const rowOf = (i: number) => h * layer.queryLength + i;
        const focusTop = topKeys(layer.probs, rowOf(focus), layer.keyLength, 3)
          .map(([j, p]) => `${label(j)} ${p.toFixed(3)}`).join(', ');
        out.push(`layer ${layer.layer} head ${h}: ${FOCUS} → ${focusTop}`);
        const strongest = tokens.map((_, i) => `${label(i)}→${label(topKeys(layer.probs, rowOf(i), layer.keyLength, 1)[0][0])}`);
        out.push(`  strongest key per token: ${strongest.join(' ')}`);
      }
    }
    out.push('', `Computed in ${summary.timings.forwardMs.toFixed(0)} ms. Try a real model: attention-inspector inspect --model <folder> --text "…"`);
    report.write(DEMO_REPORT, summary, path.resolve(__dirname, '..'), 'Attention — the tutorial sentence on the demo model');
    out.push(`Every head, step by step, in your browser: ${path.resolve(DEMO_REPORT)}`);
    process.stdout.write(out.join('\n') + '\n');
  } finally {
    report.dispose();
  }
  return 0;
}
