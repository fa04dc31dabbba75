/**
 * The newest run as the panel knows it: its tokens, the shape of every attention layer so far, its
 * generated tokens and its state. The webview keeps one without weights (it asks for what it draws);
 * the host and a standalone report keep one over a TensorSource, which `layerData` reads. Messages of
 * an older run are dropped; a newer run replaces this one.
 *
 * A generation run also receives one layer per step and one generated token after each step. The run
 * then shows every step whose token has arrived as one growing run: the steps' rows stacked into full
 * matrices (see generation.ts) over the prompt followed by the tokens fed back so far.
 */
import type { AttentionStack, GeneratedTokenMessage, LayerMessage, PanelTokens, RunFailed, RunFinished, RunMessage, RunStarted } from '../protocol/messages';
import { assembleShape, assembleSteps, isStepStack, withGenerated, type Layer } from './generation';
import type { HeadMatrices } from './matrices';
import type { TensorSource } from './tensors';

export type RunState = 'idle' | 'running' | 'done' | 'error';

const STACK_ORDER: readonly AttentionStack[] = ['self', 'encoder', 'decoder', 'cross'];

export class AttentionRun {
  constructor(private readonly source?: TensorSource) {}

  private runId = 0;
  private startedMessage: RunStarted | undefined;
  private ending: RunFinished | RunFailed | undefined;
  /** Step 0 (or a run without steps), by stack and layer. */
  private readonly layersByStack = new Map<AttentionStack, LayerMessage[]>();
  private received = 0;
  /** Generation: layers of steps ≥ 1 by stack, layer and step; the tokens by step; both in arrival order. */
  private readonly stepLayers = new Map<AttentionStack, LayerMessage[][]>();
  private readonly tokens: GeneratedTokenMessage[] = [];
  private readonly stepLog: (LayerMessage | GeneratedTokenMessage)[] = [];
  private readonly assembled = new Map<string, { steps: number; layer: LayerMessage }>();
  private readonly assembledData = new Map<string, { steps: number; layer: Layer }>();
  private readonly grownTokens = new Map<'source' | 'target', { steps: number; tokens: PanelTokens }>();

  /** Takes a message of this run or a newer one; returns false (and ignores it) when it is stale. */
  accept(message: RunMessage): boolean {
    if (message.runId < this.runId) return false;
    if (message.runId > this.runId) {
      // Only a start (or a failure before the start) opens a new run; a stray layer cannot.
      if (message.type !== 'run-started' && message.type !== 'run-failed') return false;
      this.reset(message.runId);
    }
    switch (message.type) {
      case 'run-started':
        this.startedMessage = message;
        break;
      case 'layer': {
        if (!this.startedMessage || this.ending) return false;
        if (message.step) return this.acceptStep(message);
        const list = this.layersByStack.get(message.stack) ?? [];
        if (!list[message.layer]) this.received++;
        list[message.layer] = message;
        this.layersByStack.set(message.stack, list);
        break;
      }
      case 'generated-token':
        if (!this.startedMessage || this.ending) return false;
        this.tokens[message.step] = message;
        this.stepLog.push(message);
        break;
      case 'run-finished':
      case 'run-failed':
        this.ending = message;
        break;
      default: {
        const unknown: never = message;
        throw new Error(`Unknown run message ${JSON.stringify(unknown)}`);
      }
    }
    return true;
  }

  private acceptStep(message: LayerMessage): boolean {
    const byLayer = this.stepLayers.get(message.stack) ?? [];
    (byLayer[message.layer] ??= [])[message.step!] = message;
    this.stepLayers.set(message.stack, byLayer);
    this.stepLog.push(message);
    return true;
  }

  private reset(runId: number): void {
    this.runId = runId;
    this.startedMessage = undefined;
    this.ending = undefined;
    this.layersByStack.clear();
    this.received = 0;
    this.stepLayers.clear();
    this.tokens.length = 0;
    this.stepLog.length = 0;
    this.assembled.clear();
    this.assembledData.clear();
    this.grownTokens.clear();
  }

  get id(): number {
    return this.runId;
  }

  /** Changes whenever what the views draw changes beyond new layers: a new run, or a generation step. */
  get revision(): string {
    return `${this.runId}.${this.stepsShown}`;
  }

  get started(): RunStarted | undefined {
    return this.startedMessage;
  }

  get state(): RunState {
    if (this.ending) return this.ending.type === 'run-failed' ? 'error' : 'done';
    return this.startedMessage ? 'running' : 'idle';
  }

  get failure(): RunFailed | undefined {
    return this.ending?.type === 'run-failed' ? this.ending : undefined;
  }

  get finished(): RunFinished | undefined {
    return this.ending?.type === 'run-finished' ? this.ending : undefined;
  }

  /** Layers of step 0 (of a run without steps: all layers) received so far. */
  get layersReceived(): number {
    return this.received;
  }

  /** Generated tokens so far, in step order (a step's token arrives after all of its layers). */
  generated(): readonly GeneratedTokenMessage[] {
    const out: GeneratedTokenMessage[] = [];
    for (let step = 0; this.tokens[step]; step++) out.push(this.tokens[step]);
    return out;
  }

  /** Steps shown: those whose token has arrived (step 0 shows as its layers stream in). */
  get stepsShown(): number {
    return this.startedMessage?.generation ? Math.max(1, this.generated().length) : 1;
  }

  /** The stacks that have at least one layer, in model order. */
  stacks(): AttentionStack[] {
    return STACK_ORDER.filter((s) => (this.layersByStack.get(s) ?? []).some(Boolean));
  }

  /** Whether layer `layer` of `stack` has arrived (without assembling generation steps). */
  hasLayer(stack: AttentionStack, layer: number): boolean {
    return !!this.layersByStack.get(stack)?.[layer];
  }

  /** Number of layer slots of a stack (received or not yet). */
  layerCount(stack: AttentionStack): number {
    return this.layersByStack.get(stack)?.length ?? 0;
  }

  /** Layers of a stack indexed by layer number; holes for layers not yet received. */
  layers(stack: AttentionStack): readonly (LayerMessage | undefined)[] {
    return Array.from({ length: this.layerCount(stack) }, (_, layer) => this.layer(stack, layer));
  }

  /** A layer's shape: of a generation, its steps so far stacked into one layer. */
  layer(stack: AttentionStack, layer: number): LayerMessage | undefined {
    return this.assemble(stack, layer, this.assembled, (parts) => assembleShape(parts));
  }

  /** A layer with its weights (read from the run's TensorSource), or undefined when they cannot be had. */
  layerData(stack: AttentionStack, layer: number): Layer | undefined {
    return this.assemble(stack, layer, this.assembledData, (parts) => {
      const withData = parts.map((part) => this.withTensors(part));
      return withData.every((p): p is Layer => p !== undefined) ? assembleSteps(withData) : undefined;
    });
  }

  /**
   * The steps shown of one layer, combined by `combine`; a generation's stacked steps are cached until
   * the next step shows (a plain layer is not: its weights stay with their source).
   */
  private assemble<T>(stack: AttentionStack, layer: number, cache: Map<string, { steps: number; layer: T }>, combine: (parts: LayerMessage[]) => T | undefined): T | undefined {
    const first = this.layersByStack.get(stack)?.[layer];
    if (!first) return undefined;
    const steps = isStepStack(this.startedMessage!.model.kind, stack) ? this.stepsShown : 1;
    if (steps === 1) return combine([first]);
    const key = `${stack}|${layer}`;
    const cached = cache.get(key);
    if (cached?.steps === steps) return cached.layer;
    const later = this.stepLayers.get(stack)?.[layer] ?? [];
    const parts = [first];
    for (let step = 1; step < steps && later[step]; step++) parts.push(later[step]);
    const combined = combine(parts);
    if (combined !== undefined) cache.set(key, { steps, layer: combined });
    return combined;
  }

  /** One received layer message with its weights. */
  withTensors(message: LayerMessage): Layer | undefined {
    const tensors = this.source?.tensors(message);
    return tensors && { ...message, ...tensors };
  }

  /** One step's own layer as it arrived: step 0's full prompt layer, or a later step's single row. */
  stepLayer(stack: AttentionStack, layer: number, step: number): LayerMessage | undefined {
    return step === 0 ? this.layersByStack.get(stack)?.[layer] : this.stepLayers.get(stack)?.[layer]?.[step];
  }

  /** One step's own layer with its weights. */
  stepLayerData(stack: AttentionStack, layer: number, step: number): Layer | undefined {
    const message = this.stepLayer(stack, layer, step);
    return message && this.withTensors(message);
  }

  /** The encoder's (or the only stack's) tokens; of a decoder-only generation, followed by the tokens fed back. */
  sourceTokens(): PanelTokens | undefined {
    const s = this.startedMessage;
    return s && s.model.kind !== 'encoder-decoder' ? this.grown('source', s.source) : s?.source;
  }

  /** The decoder's tokens; of an encoder-decoder generation, the start token and the tokens fed back. */
  targetTokens(): PanelTokens | undefined {
    const s = this.startedMessage;
    return s?.target && s.model.kind === 'encoder-decoder' ? this.grown('target', s.target) : s?.target;
  }

  private grown(side: 'source' | 'target', base: PanelTokens): PanelTokens {
    const steps = this.stepsShown;
    if (!this.startedMessage?.generation || steps === 1) return base;
    const cached = this.grownTokens.get(side);
    if (cached?.steps === steps) return cached.tokens;
    // Step k feeds back the token of step k − 1: the newest token is an output, not yet an input.
    const tokens = withGenerated(base, this.generated().slice(0, steps - 1));
    this.grownTokens.set(side, { steps, tokens });
    return tokens;
  }

  /** Query-side tokens of a stack: the decoder's for decoder and cross attention. */
  queryTokens(stack: AttentionStack): PanelTokens | undefined {
    return stack === 'decoder' || stack === 'cross' ? this.targetTokens() : this.sourceTokens();
  }

  keyTokens(stack: AttentionStack): PanelTokens | undefined {
    return stack === 'decoder' ? this.targetTokens() : this.sourceTokens();
  }

  /** Everything received, in order, to replay (the standalone report) or save. */
  messages(): RunMessage[] {
    if (!this.startedMessage) return this.ending ? [this.ending] : [];
    const layers = STACK_ORDER.flatMap((s) => (this.layersByStack.get(s) ?? []).filter((l): l is LayerMessage => l !== undefined));
    return [this.startedMessage, ...layers, ...this.stepLog, ...(this.ending ? [this.ending] : [])];
  }
}

export function layerMatrices(layer: Layer): HeadMatrices {
  return { heads: layer.numHeads, rows: layer.queryLength, cols: layer.keyLength, data: layer.probs };
}
