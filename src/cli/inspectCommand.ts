/**
 * `inspect`: writes the fixture-compatible tensors (safetensors), the run's metadata (JSON) and the
 * standalone report (HTML), each streamed layer by layer: a long run is never held whole. The engine
 * runs in its own process (engine.ts), so a crash there is a clean error and exit 1.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseBackendChoice } from '../engine/backends';
import { isDemoModel } from '../engine/demo/demoModel';
import { EngineError } from '../engine/errors';
import { resolveModelSource } from '../engine/hub';
import { ForwardEvent, TraceEvent, tensorName } from '../engine/model';
import { NamedTensor, SafetensorsWriter } from '../engine/loader/safetensors';
import type { InspectRequest } from '../engine/worker/engineClient';
import { parseArgs, parseCount, parseIdList, readTextArg } from './args';
import { type EngineOptions, withEngine } from './engine';
import { REPORT_STEP_DATA_MAX_KEYS } from '../protocol/report';
import { CliReport } from './runReport';
import { LENS_TOP } from '../store/analysisPasses';

/** Tensors named as the fixtures; generation steps are prefixed `steps.{step}.`. */
function eventTensors(event: Exclude<ForwardEvent, TraceEvent>): NamedTensor[] {
  const prefix = event.type !== 'hidden' && event.step !== undefined ? `steps.${event.step}.` : '';
  switch (event.type) {
    case 'attention': {
      const shape = [event.numHeads, event.queryLength, event.keyLength];
      const out: NamedTensor[] = [{ name: prefix + tensorName(event), shape, data: event.probs }];
      if (event.scores) out.push({ name: prefix + tensorName(event, 'scores'), shape, data: event.scores });
      return out;
    }
    case 'hidden':
    case 'logits':
      return [{ name: prefix + tensorName(event), shape: [event.rows, event.cols], data: event.data }];
    case 'lens':
      return []; // inspect never asks for the lens (analyze does)
  }
}

export async function runInspect(argv: string[], options: EngineOptions = {}): Promise<number> {
  const args = parseArgs(
    argv,
    ['model', 'text', 'text-file', 'ids', 'target-text', 'target-ids', 'generate', 'backend', 'out', 'json', 'html', 'memory-budget'],
    ['hidden-states', 'scores', 'past-context'],
  );
  const modelPath = args.values.get('model');
  if (!modelPath) throw new EngineError('BAD_INPUT', 'inspect needs --model <folder|org/name|demo>.');
  const text = readTextArg(args, 'text', 'text-file');
  const idsArg = args.values.get('ids');
  if ((text === undefined) === (idsArg === undefined)) throw new EngineError('BAD_INPUT', 'inspect needs exactly one of --text, --text-file or --ids.');
  const targetIdsArg = args.values.get('target-ids');
  const generateArg = args.values.get('generate');
  const budgetArg = args.values.get('memory-budget');
  const model = resolveModelSource(modelPath).path;
  const maxNewTokens = generateArg !== undefined ? parseCount(generateArg, 'generate') : undefined;
  const html = args.values.get('html');
  const out = args.values.get('out');
  const request: InspectRequest = {
    model,
    backend: parseBackendChoice(args.values.get('backend') ?? 'auto'),
    input: {
      text, ids: idsArg !== undefined ? parseIdList(idsArg, 'ids') : undefined,
      targetText: args.values.get('target-text'),
      targetIds: targetIdsArg !== undefined ? parseIdList(targetIdsArg, 'target-ids') : undefined,
      generate: maxNewTokens,
      pastContext: args.flags.has('past-context'),
    },
    // The HTML report's step-by-step view needs each layer's trace (short inputs only); --out keeps only what was asked.
    // Logits ([tokens, vocabulary], 200 MB for GPT-2 at 1,000 tokens) only go to --out; generation
    // computes its own to choose tokens but writes only the attention. The report's value-weighted
    // views need each layer's value norms, its logit-lens view the lens (in the same forward pass).
    wants: {
      scores: args.flags.has('scores'), hiddenStates: args.flags.has('hidden-states'),
      logits: out !== undefined && !isDemoModel(model) && generateArg === undefined,
      ...(html !== undefined && { trace: { everyLayer: true, maxTokens: REPORT_STEP_DATA_MAX_KEYS }, valueNorms: true, ...(!isDemoModel(model) && generateArg === undefined && { logitLens: { top: LENS_TOP } }) }),
    },
  };
  let tensors: SafetensorsWriter | undefined;
  const shapes: Record<string, readonly number[]> = {};
  const report = html === undefined ? undefined : new CliReport({ source: text, target: args.values.get('target-text') }, maxNewTokens === undefined ? undefined : { maxNewTokens });
  try {
    const result = await withEngine({ ...options, memoryBudgetMB: budgetArg === undefined ? undefined : parseCount(budgetArg, 'memory-budget') }, async (engine) => {
      const done = await engine.inspect(request, {
        onStart: (started) => {
          if (out) tensors = new SafetensorsWriter(out, { producer: 'attention-inspector', model: started.model.name });
          report?.start(started);
        },
        onEvent: (event) => {
          report?.event(event);
          if (event.type === 'trace') return; // the report's, not asked for in --out
          for (const t of eventTensors(event)) {
            shapes[t.name] = t.shape;
            tensors?.add(t);
          }
        },
        onToken: (token) => report?.token(token),
      });
      await report?.analyze(engine, request, done);
      return done;
    });
    tensors?.finish();
    const info = result.model;
    const meta = {
      model: { name: info.name, type: info.modelType, kind: info.kind, layers: info.numLayers, heads: info.numHeads, kvHeads: info.numKvHeads, untrained: info.untrained },
      input_ids: result.source.ids,
      tokens: result.source.tokens,
      offsets_utf16: result.source.offsetsUtf16,
      ...(result.labels && { labels: result.labels }),
      ...(result.generated && { generated_ids: result.generated.ids, generated_tokens: result.generated.tokens, generated_text: result.generated.text }),
      ...(result.target && { decoder_input_ids: result.target.ids, target_tokens: result.target.tokens, target_offsets_utf16: result.target.offsetsUtf16 }),
      backend: result.backend,
      timings: result.timings,
      tensors: shapes,
    };
    const json = args.values.get('json');
    if (json) fs.writeFileSync(json, JSON.stringify(meta, null, 1) + '\n');
    if (report && html !== undefined) {
      const bytes = report.write(html, result, path.resolve(__dirname, '..'), `Attention — ${info.name}`);
      process.stderr.write(`report: ${path.resolve(html)} (${(bytes / 2 ** 20).toFixed(1)} MB)\n`);
    }
    if (!out && !json && html === undefined) process.stdout.write(JSON.stringify(meta) + '\n');
    else process.stderr.write(`${info.name}: ${result.source.ids.length} tokens, ${Object.keys(shapes).length} tensors on ${result.backend.used} in ${result.timings.forwardMs.toFixed(0)} ms\n`);
  } finally {
    tensors?.dispose();
    report?.dispose();
  }
  return 0;
}
