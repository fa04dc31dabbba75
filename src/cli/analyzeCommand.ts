/**
 * `analyze`: which heads do what, and what flows where. Prints each head-role score's top heads (of the
 * attention, and value-weighted) and the logit lens at the last position, and writes every score, the
 * rollout, the flow into one position, the sinks, the value-weighted scores and rollout with the value
 * norms, and the logit lens as JSON (`--json`).
 */
import * as fs from 'fs';
import { HEAD_SCORES } from '../engine/analysis/headRoles';
import { InductionRun, inductionScores } from '../engine/analysis/induction';
import type { Matrix } from '../engine/analysis/rollout';
import { FlowInto, RolloutMatrices, RunAnalysis, StackAnalysis } from '../engine/analysis/runAnalysis';
import type { Backend } from '../engine/backend';
import { parseBackendChoice, selectBackend } from '../engine/backends';
import { EngineError, isEngineError } from '../engine/errors';
import { resolveModelSource } from '../engine/hub';
import { InspectInput, InspectionSummary, inspect } from '../engine/inspect';
import { LoadedModel, loadModel } from '../engine/loadModel';
import type { LensEvent } from '../engine/model';
import type { LogitLens } from '../protocol/data';
import type { AttentionStack, ModelInfo } from '../protocol/run';
import { LENS_TOP, assembleLens } from '../store/analysisPasses';
import { reweightRows } from '../view-model/weighting';
import { ParsedArgs, parseArgs, parseCount, parseIdList, readTextArg } from './args';

/** Six decimals, and null for a score that is not defined (JSON has no NaN). */
const round = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e6) / 1e6 : null);
const perLayer = (layers: readonly ArrayLike<number>[]) => layers.map((heads) => Array.from(heads, round));
const rows = (m: Matrix) => Array.from({ length: m.rows }, (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols), round));

function parseWhole(value: string, flag: string, what: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new EngineError('BAD_INPUT', `--${flag} must be ${what} (0, 1, 2, …), not "${value}".`);
  return n;
}

/** The `top` highest finite values of a [layer][head] table as "L{l}H{h} value", highest first. */
function topHeads(layers: readonly ArrayLike<number>[], top: number, label = (l: number, h: number) => `L${l}H${h}`): string {
  const all = layers.flatMap((heads, l) => Array.from(heads, (value, h) => ({ l, h, value })));
  const ranked = all.filter((x) => Number.isFinite(x.value)).sort((a, b) => b.value - a.value).slice(0, top);
  return ranked.map((x) => `${label(x.l, x.h)} ${x.value.toFixed(3)}`).join('  ');
}

function printStack(stack: StackAnalysis, induction: Float64Array[] | undefined, tokens: readonly string[], top: number): void {
  const heads = stack.layers[0]?.numHeads ?? 0;
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  process.stdout.write(`${stack.kind} attention: ${count(stack.layers.length, 'layer')} × ${count(heads, 'head')}; top ${top} heads per score, highest first\n`);
  const sinkLabel = (l: number, h: number) => `L${l}H${h}@${stack.layers[l].sinkPosition[h]}`;
  for (const [name, read] of HEAD_SCORES) {
    const reason = stack.notDefined[name];
    const line = reason ? `not defined: ${reason}` : topHeads(stack.layers.map(read), top, name === 'sink_share' ? sinkLabel : undefined);
    process.stdout.write(`  ${name.padEnd(20)}${line}\n`);
  }
  if (induction) process.stdout.write(`  ${'induction'.padEnd(20)}${topHeads(induction, top)}\n`);
  const sinks = stack.sinks.map((s) => `${s.position} ${JSON.stringify(tokens[s.position])} (${(100 * s.headFraction).toFixed(0)}% of heads)`);
  process.stdout.write(`  ${'sinks'.padEnd(20)}${sinks.join(', ') || 'none'}\n`);
}

function printFlow(flow: FlowInto, tokensOf: (stack: AttentionStack) => readonly string[], top: number): void {
  const into = JSON.stringify(tokensOf(flow.stack)[flow.target]);
  const ranked = Object.entries(flow.share)
    .flatMap(([stack, shares]) => Array.from(shares, (share, j) => ({ share, label: `${stack === flow.stack ? '' : `${stack} `}${j} ${JSON.stringify(tokensOf(stack as AttentionStack)[j])}` })))
    .sort((a, b) => b.share - a.share).slice(0, top);
  process.stdout.write(`flow into ${flow.stack} position ${flow.target} ${into}, share by input token: ${ranked.map((x) => `${x.label} ${x.share.toFixed(3)}`).join('  ')}\n`);
}

interface AnalyzeResult {
  readonly info: ModelInfo;
  readonly summary: InspectionSummary;
  readonly stacks: readonly StackAnalysis[];
  readonly induction: InductionRun | { skipped: string };
  readonly rollout: RolloutMatrices;
  readonly flow: FlowInto | { skipped: string };
  /** The same analysis of value-weighted attention, and each layer's ‖W_O,h · v_j‖ [heads, keys]. */
  readonly valueWeighted: { readonly stacks: readonly StackAnalysis[]; readonly rollout: RolloutMatrices; readonly norms: Partial<Record<AttentionStack, Float32Array[]>> };
  readonly lens: LogitLens | { skipped: string };
}

const inductionOf = (result: AnalyzeResult, kind: AttentionStack) => ('scores' in result.induction && kind !== 'cross' ? result.induction.scores[kind] : undefined);

function tokensOf(summary: InspectionSummary, stack: AttentionStack): readonly string[] {
  return stack === 'decoder' ? summary.target?.tokens ?? [] : summary.source.tokens;
}

/** The tokens a stack's columns (keys) stand for. */
const keyTokens = (summary: InspectionSummary, stack: AttentionStack) => tokensOf(summary, stack === 'cross' ? 'encoder' : stack);

function printResult(result: AnalyzeResult, top: number): void {
  const { summary } = result;
  process.stdout.write(`${result.info.name}: ${summary.source.ids.length} tokens${summary.target ? ` → ${summary.target.ids.length} target tokens` : ''}\n`);
  for (const stack of result.stacks) printStack(stack, inductionOf(result, stack.kind), keyTokens(summary, stack.kind), top);
  if ('skipped' in result.induction) process.stdout.write(`induction skipped: ${result.induction.skipped}\n`);
  if ('skipped' in result.flow) process.stdout.write(`flow skipped: ${result.flow.skipped}\n`);
  else printFlow(result.flow, (stack) => tokensOf(summary, stack), top);
  process.stdout.write('value-weighted (A[i, j] · ‖W_O,h · v_j‖, rows renormalised):\n');
  for (const stack of result.valueWeighted.stacks) printStack(stack, undefined, keyTokens(summary, stack.kind), top);
  printLens(result.lens);
}

/** Each hidden state's top token at the last position. */
function printLens(lens: AnalyzeResult['lens']): void {
  if ('skipped' in lens) return void process.stdout.write(`logit lens skipped: ${lens.skipped}\n`);
  const last = lens.positions - 1;
  const cells = Array.from({ length: lens.layers }, (_, l) => {
    const at = (l * lens.positions + last) * lens.top;
    const token = lens.vocabulary.tokens[lens.vocabulary.ids.indexOf(lens.ids[at])] ?? '';
    return `${l === 0 ? 'embeddings' : `L${l - 1}`} ${JSON.stringify(token)} ${lens.probs[at].toFixed(3)}`;
  });
  process.stdout.write(`logit lens at ${lens.stack} position ${last}, top token after each layer: ${cells.join('  ')}\n`);
}

/** The lens as [hidden state][position][rank] lists of ids, token strings and probabilities. */
function lensJson(lens: AnalyzeResult['lens']): unknown {
  if ('skipped' in lens) return lens;
  const names = new Map(Array.from(lens.vocabulary.ids, (id, i) => [id, lens.vocabulary.tokens[i]]));
  const grid = <T>(value: (at: number) => T) => Array.from({ length: lens.layers }, (_, l) => Array.from({ length: lens.positions }, (_, p) =>
    Array.from({ length: lens.top }, (_, k) => value((l * lens.positions + p) * lens.top + k))));
  return {
    stack: lens.stack, top: lens.top, hidden_states: Array.from({ length: lens.layers }, (_, l) => (l === 0 ? 'embeddings' : `layer ${l - 1}`)),
    ids: grid((at) => lens.ids[at]), tokens: grid((at) => names.get(lens.ids[at]) ?? null), probs: grid((at) => round(lens.probs[at])),
  };
}

/** The head-role scores of every stack as [layer][head] tables, by score name. */
function headsJson(stacks: readonly StackAnalysis[], extra: (kind: AttentionStack) => Record<string, unknown> = () => ({})): unknown {
  return Object.fromEntries(stacks.map((stack) => {
    const scores = Object.fromEntries(HEAD_SCORES.map(([name, read]) => [name, perLayer(stack.layers.map(read))]));
    return [stack.kind, { ...scores, sink_position: stack.layers.map((l) => Array.from(l.sinkPosition)), ...extra(stack.kind), not_defined: stack.notDefined }];
  }));
}

/** Every number analyze computes, as documented in README.md (Command line). */
function resultJson(result: AnalyzeResult): unknown {
  const { summary, induction, flow } = result;
  const byKind = <T>(values: Partial<Record<AttentionStack, T>>, convert: (value: T) => unknown) =>
    Object.fromEntries(Object.entries(values).map(([kind, value]) => [kind, convert(value as T)]));
  return {
    model: result.info.name,
    input_ids: summary.source.ids,
    tokens: summary.source.tokens,
    ...(summary.target && { decoder_input_ids: summary.target.ids, target_tokens: summary.target.tokens }),
    heads: headsJson(result.stacks, (kind) => {
      const induction = inductionOf(result, kind);
      return induction ? { induction: perLayer(induction) } : {};
    }),
    induction: 'skipped' in induction ? induction : { n: induction.n, seed: induction.seed, input_ids: induction.ids, decoder_input_ids: induction.decoderIds },
    rollout: byKind(result.rollout, rows),
    flow: 'skipped' in flow ? flow : { stack: flow.stack, target: flow.target, share: byKind(flow.share, (v) => Array.from(v, round)), max_flow: byKind(flow.maxFlow, (v) => Array.from(v, round)) },
    sinks: Object.fromEntries(result.stacks.map((stack) => [stack.kind, stack.sinks.map((s) => ({
      position: s.position, token: keyTokens(summary, stack.kind)[s.position], head_fraction: round(s.headFraction), mean_share: round(s.meanShare),
    }))])),
    value_weighted: {
      heads: headsJson(result.valueWeighted.stacks),
      rollout: byKind(result.valueWeighted.rollout, rows),
      value_norms: byKind(result.valueWeighted.norms, (layers) => layers.map((n) => rows({ rows: result.info.numHeads, cols: n.length / result.info.numHeads, data: Float64Array.from(n) }))),
    },
    logit_lens: lensJson(result.lens),
  };
}

/** The lens of the same input (an extra pass: models without a language-model head have none). */
async function logitLens(loaded: LoadedModel, backend: Backend, input: InspectInput): Promise<LogitLens | { skipped: string }> {
  const events: LensEvent[] = [];
  try {
    await inspect(loaded, backend, input, { logitLens: { top: LENS_TOP } }, { onEvent: (event) => void (event.type === 'lens' && events.push(event)) });
  } catch (err) {
    if (!isEngineError(err)) throw err;
    return { skipped: err.message };
  }
  return assembleLens(events, loaded.model.info.kind === 'encoder-decoder' ? 'decoder' : 'self');
}

async function analyze(args: ParsedArgs, backend: Backend, loaded: LoadedModel): Promise<AnalyzeResult> {
  const { info } = loaded.model;
  const idsArg = args.values.get('ids');
  const targetIdsArg = args.values.get('target-ids');
  let analysis: RunAnalysis | undefined;
  let weighted: RunAnalysis | undefined;
  const norms: AnalyzeResult['valueWeighted']['norms'] = {};
  const input: InspectInput = {
    text: readTextArg(args, 'text', 'text-file'), ids: idsArg !== undefined ? parseIdList(idsArg, 'ids') : undefined,
    targetText: args.values.get('target-text'), targetIds: targetIdsArg !== undefined ? parseIdList(targetIdsArg, 'target-ids') : undefined,
  };
  const summary = await inspect(
    loaded, backend, input,
    // float32, so that the scores are those of inspect --out's tensors.
    { probabilityFormat: 'f32', valueNorms: true },
    {
      onStart: ({ source, target }) => {
        analysis = new RunAnalysis(info, source.ids, target?.ids);
        weighted = new RunAnalysis(info, source.ids, target?.ids);
      },
      onEvent: (event) => {
        if (event.type !== 'attention' || !event.valueNorms) return;
        analysis!.add(event);
        const n = event.valueNorms;
        (norms[event.stack] ??= [])[event.layer] = n;
        weighted!.add({ ...event, probs: reweightRows(event.probs, event.keyLength, event.queryLength, (h, j) => n[h * event.keyLength + j]) });
      },
    },
  );
  const run = analysis!;
  const flowTargetArg = args.values.get('flow-target');
  const { kind: topKind, length: topLength } = run.topStack;
  const target = flowTargetArg === undefined ? topLength - 1 : parseWhole(flowTargetArg, 'flow-target', 'a token position');
  if (target >= topLength) throw new EngineError('BAD_INPUT', `--flow-target ${target} is past the last ${topKind} position, ${topLength - 1}.`);
  const flowSkipped = run.flowLimitReason();

  const inductionN = args.values.get('induction-n');
  let induction: AnalyzeResult['induction'];
  try {
    induction = await inductionScores(loaded, backend, { n: inductionN === undefined ? 50 : parseCount(inductionN, 'induction-n'), seed: parseWhole(args.values.get('seed') ?? '0', 'seed', 'a whole number') });
  } catch (err) {
    // The default N may not fit a small model: say so and go on. An N the user chose must fit.
    if (inductionN !== undefined || !isEngineError(err)) throw err;
    induction = { skipped: err.message };
  }
  return {
    info, summary, stacks: run.headRoles(), induction, rollout: run.rollout(),
    flow: flowSkipped ? { skipped: flowSkipped } : run.flowInto(target),
    valueWeighted: { stacks: weighted!.headRoles(), rollout: weighted!.rollout(), norms },
    lens: await logitLens(loaded, backend, input),
  };
}

export async function runAnalyze(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['model', 'text', 'text-file', 'ids', 'target-text', 'target-ids', 'backend', 'json', 'top', 'induction-n', 'seed', 'flow-target'], []);
  const modelPath = args.values.get('model');
  if (!modelPath) throw new EngineError('BAD_INPUT', 'analyze needs --model <folder|org/name|demo>.');
  if (args.values.has('ids') === (args.values.has('text') || args.values.has('text-file'))) throw new EngineError('BAD_INPUT', 'analyze needs exactly one of --text, --text-file or --ids.');
  const top = parseCount(args.values.get('top') ?? '5', 'top');
  const loaded = loadModel(resolveModelSource(modelPath).path);
  const selection = await selectBackend(parseBackendChoice(args.values.get('backend') ?? 'auto'));
  try {
    const started = performance.now();
    const result = await analyze(args, selection.backend, loaded);
    printResult(result, top);
    const json = args.values.get('json');
    if (json) fs.writeFileSync(json, JSON.stringify(resultJson(result)) + '\n');
    const { forwardMs } = result.summary.timings;
    process.stderr.write(`${result.info.name} on ${selection.used}: forward ${forwardMs.toFixed(0)} ms, everything ${(performance.now() - started).toFixed(0)} ms\n`);
  } finally {
    selection.backend.dispose();
  }
  return 0;
}
