/**
 * `inspect`: writes the fixture-compatible tensors (safetensors), the run's metadata (JSON) and the
 * standalone report (HTML), each streamed layer by layer: a long run is never held whole.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseBackendChoice, selectBackend } from '../engine/backends';
import { EngineError } from '../engine/errors';
import { resolveModelSource } from '../engine/hub';
import { inspect } from '../engine/inspect';
import { loadModel } from '../engine/loadModel';
import { ForwardEvent, tensorName } from '../engine/model';
import { NamedTensor, SafetensorsWriter } from '../engine/loader/safetensors';
import { parseArgs, parseCount, parseIdList, readTextArg } from './args';
import { CliReport } from './runReport';

/** Tensors named as the fixtures; generation steps are prefixed `steps.{step}.`. */
export function eventTensors(event: ForwardEvent): NamedTensor[] {
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
    case 'trace':
      return event.stages.map((s) => ({ name: `${prefix}${tensorName(event)}.${s.name}`, shape: [...s.shape], data: s.data }));
  }
}

export async function runInspect(argv: string[]): Promise<number> {
  const args = parseArgs(
    argv,
    ['model', 'text', 'text-file', 'ids', 'target-text', 'target-ids', 'generate', 'backend', 'out', 'json', 'html'],
    ['hidden-states', 'scores'],
  );
  const modelPath = args.values.get('model');
  if (!modelPath) throw new EngineError('BAD_INPUT', 'inspect needs --model <folder|org/name|demo>.');
  const text = readTextArg(args, 'text', 'text-file');
  const idsArg = args.values.get('ids');
  if ((text === undefined) === (idsArg === undefined)) throw new EngineError('BAD_INPUT', 'inspect needs exactly one of --text, --text-file or --ids.');
  const targetIdsArg = args.values.get('target-ids');
  const generateArg = args.values.get('generate');
  const loaded = loadModel(resolveModelSource(modelPath).path);
  const selection = await selectBackend(parseBackendChoice(args.values.get('backend') ?? 'auto'));
  const out = args.values.get('out');
  const tensors = out ? new SafetensorsWriter(out, { producer: 'attention-inspector', model: loaded.model.info.name }) : undefined;
  const shapes: Record<string, readonly number[]> = {};
  const { info } = loaded.model;
  // The HTML report's step-by-step view needs the scores and head vectors; --out keeps only what was asked.
  const html = args.values.get('html');
  const startId = info.decoderStartTokenId;
  const maxNewTokens = generateArg !== undefined ? parseCount(generateArg, 'generate') : undefined;
  const report = html === undefined ? undefined : new CliReport({ source: text, target: args.values.get('target-text') },
    maxNewTokens === undefined ? undefined : { maxNewTokens, decoderStartToken: startId === undefined ? undefined : loaded.tokenizer?.idToToken(startId) });
  try {
    const summary = await inspect(
      loaded, selection.backend,
      {
        text, ids: idsArg !== undefined ? parseIdList(idsArg, 'ids') : undefined,
        targetText: args.values.get('target-text'),
        targetIds: targetIdsArg !== undefined ? parseIdList(targetIdsArg, 'target-ids') : undefined,
        generate: maxNewTokens,
      },
      // Generation keeps logits to choose tokens but writes only the attention unless asked.
      { scores: args.flags.has('scores') || html !== undefined, headVectors: html !== undefined, hiddenStates: args.flags.has('hidden-states'), logits: !info.untrained && generateArg === undefined },
      {
        onStart: (tokenized) => report?.start({ ...tokenized, model: info, backend: selection }),
        onEvent: (event) => {
          report?.event(event);
          for (const t of eventTensors(event.type === 'attention' && !args.flags.has('scores') ? { ...event, scores: undefined } : event)) {
            shapes[t.name] = t.shape;
            tensors?.add(t);
          }
        },
        onToken: (token) => report?.token(token),
      },
    );
    tensors?.finish();
    const meta = {
      model: { name: info.name, type: info.modelType, kind: info.kind, layers: info.numLayers, heads: info.numHeads, kvHeads: info.numKvHeads, untrained: info.untrained },
      input_ids: summary.source.ids,
      tokens: summary.source.tokens,
      offsets_utf16: summary.source.offsetsUtf16,
      ...(summary.labels && { labels: summary.labels }),
      ...(summary.generated && { generated_ids: summary.generated.ids, generated_tokens: summary.generated.tokens, generated_text: await loaded.tokenizer?.decode(summary.generated.ids) }),
      ...(summary.target && { decoder_input_ids: summary.target.ids, target_tokens: summary.target.tokens, target_offsets_utf16: summary.target.offsetsUtf16 }),
      backend: { used: selection.used, adapter: selection.adapter, fallbackReason: selection.fallbackReason },
      timings: summary.timings,
      tensors: shapes,
    };
    const json = args.values.get('json');
    if (json) fs.writeFileSync(json, JSON.stringify(meta, null, 1) + '\n');
    if (report && html !== undefined) {
      const bytes = report.write(html, summary, path.resolve(__dirname, '..'), `Attention — ${info.name}`);
      process.stderr.write(`report: ${path.resolve(html)} (${(bytes / 2 ** 20).toFixed(1)} MB)\n`);
    }
    if (!out && !json && html === undefined) process.stdout.write(JSON.stringify(meta) + '\n');
    else process.stderr.write(`${info.name}: ${summary.source.ids.length} tokens, ${Object.keys(shapes).length} tensors on ${selection.used} in ${summary.timings.forwardMs.toFixed(0)} ms\n`);
  } finally {
    tensors?.dispose();
    report?.dispose();
    selection.backend.dispose();
  }
  return 0;
}
