/**
 * The newest run's data, as the panel received it: its tokens and every attention layer so far. Both
 * the webview (to draw) and the host (to export, and later to answer hovers: "top keys of token i in
 * layer l, head h") keep one. Messages of an older run are dropped; a newer run replaces this one.
 */
import type { AttentionStack, LayerMessage, PanelTokens, RunFailed, RunFinished, RunMessage, RunStarted } from '../protocol/messages';
import { matrixRow, topIndices, type HeadMatrices } from './matrices';

export type RunState = 'idle' | 'running' | 'done' | 'error';

const STACK_ORDER: readonly AttentionStack[] = ['self', 'encoder', 'decoder', 'cross'];

export class AttentionRun {
  private runId = 0;
  private startedMessage: RunStarted | undefined;
  private ending: RunFinished | RunFailed | undefined;
  private readonly layersByStack = new Map<AttentionStack, LayerMessage[]>();
  private received = 0;

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
        const list = this.layersByStack.get(message.stack) ?? [];
        if (!list[message.layer]) this.received++;
        list[message.layer] = message;
        this.layersByStack.set(message.stack, list);
        break;
      }
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

  private reset(runId: number): void {
    this.runId = runId;
    this.startedMessage = undefined;
    this.ending = undefined;
    this.layersByStack.clear();
    this.received = 0;
  }

  get id(): number {
    return this.runId;
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

  get layersReceived(): number {
    return this.received;
  }

  /** The stacks that have at least one layer, in model order. */
  stacks(): AttentionStack[] {
    return STACK_ORDER.filter((s) => (this.layersByStack.get(s) ?? []).some(Boolean));
  }

  /** Layers of a stack indexed by layer number; holes for layers not yet received. */
  layers(stack: AttentionStack): readonly (LayerMessage | undefined)[] {
    return this.layersByStack.get(stack) ?? [];
  }

  layer(stack: AttentionStack, layer: number): LayerMessage | undefined {
    return this.layers(stack)[layer];
  }

  /** Query-side tokens of a stack: the decoder's for decoder and cross attention. */
  queryTokens(stack: AttentionStack): PanelTokens | undefined {
    const s = this.startedMessage;
    return stack === 'decoder' || stack === 'cross' ? s?.target : s?.source;
  }

  keyTokens(stack: AttentionStack): PanelTokens | undefined {
    const s = this.startedMessage;
    return stack === 'decoder' ? s?.target : s?.source;
  }

  /** The k keys that query token `query` attends to most in one head, strongest first. */
  topKeys(stack: AttentionStack, layer: number, head: number, query: number, k: number): { key: number; weight: number }[] {
    const message = this.layer(stack, layer);
    if (!message) return [];
    const row = matrixRow(layerMatrices(message), head, query);
    return topIndices(row, k).map((key) => ({ key, weight: row[key] }));
  }

  /** Everything received, in order, to replay (the standalone report) or save. */
  messages(): RunMessage[] {
    if (!this.startedMessage) return this.ending ? [this.ending] : [];
    const layers = STACK_ORDER.flatMap((s) => this.layers(s).filter((l): l is LayerMessage => l !== undefined));
    return [this.startedMessage, ...layers, ...(this.ending ? [this.ending] : [])];
  }
}

export function layerMatrices(message: LayerMessage): HeadMatrices {
  return { heads: message.numHeads, rows: message.queryLength, cols: message.keyLength, data: message.probs };
}
