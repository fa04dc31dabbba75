/**
 * The standalone report's stand-in for the extension host: it reads the embedded run
 * (src/protocol/report.ts), keeps it as runs over lazily decoded chunks, and answers the panel's data
 * queries with the same DataService the host uses, the analysis views from the results the report was
 * written with. A chunk is decoded the first time a query needs it (base64 → raw inflate → float16 →
 * unpacked rows); the page holds the decoded layers it was asked for and the compressed text of the others.
 */
import type { DataQuery, DataReply, HeadScoresReply, InductionReply, LogitLensReply, SinkInfo, WeightOptions } from '../src/protocol/data';
import { base64ToBytes, unpackTyped } from '../src/protocol/codec';
import { fromFloat16Bits } from '../src/protocol/float16';
import type { AttentionStack, LayerMessage, ReplayMessage, RunMessage } from '../src/protocol/messages';
import { unpackLayer } from '../src/protocol/packing';
import { analysisKey, type ReportChunk, type ReportData } from '../src/protocol/report';
import type { AnalysisSource } from '../src/view-model/analysisSource';
import { AttentionRun } from '../src/view-model/attentionRun';
import type { StepLayer } from '../src/view-model/computation';
import { DataService } from '../src/view-model/dataService';
import { matricesJson } from '../src/view-model/exportJson';
import type { HeadMatrices } from '../src/view-model/matrices';
import { layerKey, type LayerTensors, type TensorSource } from '../src/view-model/tensors';

async function inflate(element: string): Promise<ArrayBuffer> {
  const text = document.getElementById(element)?.textContent;
  if (!text) throw new Error(`the report lacks its chunk ${element}`);
  const stream = new Blob([base64ToBytes(text) as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Response(stream).arrayBuffer();
}

/** One run's weights in the page: decoded on first use, remembered, and noted when missing. */
class ChunkTensors implements TensorSource {
  private readonly decoded = new Map<string, LayerTensors>();
  private readonly missing = new Map<string, LayerMessage>();
  /** Decoding one after another: a query that finds its layer being decoded waits for it. */
  private decoding: Promise<void> = Promise.resolve();

  constructor(private readonly chunks: ReadonlyMap<string, ReportChunk>, private readonly valueNorms: ReadonlyMap<string, ReportChunk> = new Map()) {}

  tensors(layer: LayerMessage): LayerTensors | undefined {
    const key = layerKey(layer);
    const found = this.decoded.get(key);
    if (!found && this.chunks.has(key)) this.missing.set(key, layer);
    return found;
  }

  get count(): number {
    return this.decoded.size;
  }

  /** Decodes what was asked for and not decoded yet (and waits for decoding already under way). */
  decodeMissing(): Promise<void> {
    const missing = [...this.missing.entries()];
    this.missing.clear();
    this.decoding = this.decoding.then(async () => {
      for (const [key, layer] of missing) {
        if (this.decoded.has(key)) continue;
        const half = new Uint16Array(await inflate(this.chunks.get(key)!.element));
        const norms = this.valueNorms.get(key);
        const valueNorms = norms && new Float32Array(await inflate(norms.element));
        this.decoded.set(key, { probs: unpackLayer(fromFloat16Bits(half), layer), approximate: true, ...(valueNorms && { valueNorms }) });
      }
    });
    return this.decoding;
  }
}

function chunksOf(data: ReportData, part: ReportChunk['part'], content: ReportChunk['content']): Map<string, ReportChunk> {
  return new Map(data.chunks.filter((c) => c.part === part && c.content === content).map((c) => [c.key, c]));
}

export class ReportHost {
  readonly messages: readonly ReplayMessage[];
  private readonly run: AttentionRun;
  private readonly tensors: ChunkTensors;
  private readonly baselineTensors: ChunkTensors | undefined;
  private readonly service: DataService;

  constructor(json: string) {
    const data = JSON.parse(json) as ReportData;
    this.messages = data.messages;
    this.tensors = new ChunkTensors(chunksOf(data, 'run', 'probs'), chunksOf(data, 'run', 'value-norms'));
    this.run = new AttentionRun(this.tensors);
    for (const m of data.messages) if (m.type !== 'baseline') this.run.accept(m);
    this.service = new DataService(this.run);
    this.service.analysis = new CarriedAnalysis(data, chunksOf(data, 'run', 'analysis'));
    if (data.baseline) {
      this.baselineTensors = new ChunkTensors(chunksOf(data, 'baseline', 'probs'), chunksOf(data, 'baseline', 'value-norms'));
      const baseline = new AttentionRun(this.baselineTensors);
      for (const m of data.baseline) baseline.accept(m as RunMessage);
      this.service.baseline = baseline;
    }
    const steps = chunksOf(data, 'run', 'steps');
    if (steps.size) this.service.stepData = (stack, layer) => this.stepLayer(steps, stack, layer);
  }

  /** Answers a query, decoding the chunks it needs first: until it has an answer, or nothing more decodes. */
  async answer(query: DataQuery): Promise<DataReply | undefined> {
    const decoded = () => this.tensors.count + (this.baselineTensors?.count ?? 0);
    for (;;) {
      const before = decoded();
      const reply = await this.service.answer(query);
      if (reply) return reply;
      await this.tensors.decodeMissing();
      await this.baselineTensors?.decodeMissing();
      if (decoded() === before) return undefined;
    }
  }

  /** The JSON export of a stack, from the page's (float16) weights. */
  async json(stack: AttentionStack | undefined): Promise<string> {
    const shown = stack ?? this.run.stacks()[0];
    for (let layer = 0; layer < this.run.layerCount(shown); layer++) this.run.layerData(shown, layer);
    await this.tensors.decodeMissing();
    return matricesJson(this.run, shown);
  }

  private async stepLayer(steps: ReadonlyMap<string, ReportChunk>, stack: AttentionStack, layer: number): Promise<StepLayer | string> {
    const message = this.run.layer(stack, layer);
    const chunk = message && steps.get(layerKey(message));
    if (!message || !chunk?.stages || !chunk.recipe) return 'This report carries step-by-step data for short inputs only: open the run in VS Code to see it.';
    const values = new Float32Array(await inflate(chunk.element));
    const stages: StepLayer['stages'] = {};
    let at = 0;
    for (const { name, length } of chunk.stages) {
      stages[name] = values.subarray(at, at + length);
      at += length;
    }
    // The exact weights of the trace (the embedded ones went through float16).
    if (!stages.probs) return 'This report\'s step-by-step data lacks the probabilities.';
    return { ...message, probs: stages.probs, recipe: chunk.recipe, stages };
  }
}

/** The analysis the report was written with (src/report/reportAnalysis.ts), decoded when first asked for. */
class CarriedAnalysis implements AnalysisSource {
  private readonly decoded = new Map<string, Promise<unknown>>();

  constructor(private readonly data: ReportData, private readonly chunks: ReadonlyMap<string, ReportChunk>) {}

  sinks(stack: AttentionStack): readonly SinkInfo[] | undefined {
    return this.data.sinks?.[stack];
  }

  async headScores(stack: AttentionStack, options: WeightOptions): Promise<HeadScoresReply> {
    return (await this.carried<HeadScoresReply>(analysisKey('scores', stack, options)))
      ?? { kind: 'head-scores', stack, layers: 0, heads: 0, scores: [], unavailable: 'This report carries no head scores: it was written before every layer was computed.' };
  }

  async induction(stack: AttentionStack, options: WeightOptions): Promise<InductionReply> {
    return (await this.carried<InductionReply>(analysisKey('induction', stack, options))) ?? { kind: 'induction', stack, unavailable: 'This report carries no induction scores.' };
  }

  async rollout(stack: AttentionStack, options: WeightOptions): Promise<HeadMatrices | string> {
    return (await this.carried<HeadMatrices | string>(analysisKey('rollout', stack, options))) ?? 'This report carries no rollout: it was written before every layer was computed.';
  }

  async logitLens(): Promise<LogitLensReply> {
    return (await this.carried<LogitLensReply>(analysisKey('lens'))) ?? { kind: 'logit-lens', unavailable: 'This report carries no logit lens.' };
  }

  private carried<T>(key: string): Promise<T | undefined> {
    const chunk = this.chunks.get(key);
    if (!chunk) return Promise.resolve(undefined);
    let value = this.decoded.get(key);
    if (!value) this.decoded.set(key, (value = inflate(chunk.element).then((bytes) => unpackTyped<T>(chunk.skeleton!, new Uint8Array(bytes)))));
    return value as Promise<T>;
  }
}
