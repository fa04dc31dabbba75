/**
 * How much memory a model and a run will take, estimated before any of it is allocated, and the budget
 * they must fit: the user's setting, or by default half of the memory the machine has free. A run that
 * would not fit is refused with the numbers (TOO_MUCH_MEMORY) instead of growing until the machine
 * swaps: attention grows with the square of the length, so 20 KB of text on a model with a few MB of
 * weights asks for gigabytes.
 */
import * as os from 'os';
import type { ModelInfo } from '../protocol/run';
import { EngineError } from './errors';
import type { ForwardWants } from './model';
import { LENS_ROWS } from './models/lens';

const MIB = 1024 * 1024;
/** The automatic budget: this share of the memory free now plus what the engine already holds. */
const AUTO_SHARE = 0.5;
/** A layer's probabilities are held by the receiver and by what displays or writes them. */
const RETAINED_COPIES = 2;
/**
 * A streamed run holds only the layers on their way: the one read from the backend and the one being
 * written to the client (the engine waits for a client that falls behind, see worker/workerPort.ts).
 */
const IN_FLIGHT_LAYERS = 2;

export interface MemoryBudget {
  readonly bytes: number;
  /** How it was set, for the message: the user's number, or the share of free memory. */
  readonly source: 'setting' | 'automatic';
}

/** `configuredMB` > 0 is the user's budget; 0 or absent picks half of the free memory. */
export function memoryBudget(configuredMB?: number): MemoryBudget {
  if (configuredMB !== undefined && configuredMB > 0) return { bytes: configuredMB * MIB, source: 'setting' };
  const free = (process as { availableMemory?: () => number }).availableMemory?.() ?? os.freemem();
  return { bytes: Math.floor(AUTO_SHARE * (free + process.memoryUsage().rss)), source: 'automatic' };
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * MIB) return `${(bytes / (1024 * MIB)).toFixed(1)} GB`;
  if (bytes >= MIB) return `${(bytes / MIB).toFixed(bytes >= 100 * MIB ? 0 : 1)} MB`;
  return `${Math.ceil(bytes / 1024)} KB`;
}

/** The bytes the backends hold of the weights, and those of the largest tensor as stored. */
export interface WeightSize {
  /** Float32, but bfloat16 matrices keep their 2 bytes (the CPU's bf16 panels, WebGPU). */
  readonly heldBytes: number;
  readonly largestStoredBytes: number;
}

/**
 * The backend's copy, plus the largest tensor read and rearranged (transposed, stacked) on the host
 * while it is uploaded: the host keeps no copy once a tensor is on the backend.
 */
export function weightMemory(size: WeightSize): number {
  return size.heldBytes + 2 * size.largestStoredBytes;
}

export interface RunShape {
  readonly sourceTokens: number;
  /** Encoder-decoder teacher forcing: the decoder's tokens. */
  readonly targetTokens?: number;
  /** Generation: new tokens after the source (decoder-only) or as the target (encoder-decoder). */
  readonly generate?: number;
  readonly wants: ForwardWants;
  /** The caller hands every layer on and keeps none (the engine's process: its client stores them). */
  readonly streamed?: boolean;
}

export interface MemoryEstimate {
  readonly weights: number;
  /** The largest layer's working tensors. */
  readonly activations: number;
  /** What the run hands back and the caller keeps: every layer's attention, and more when asked; streamed, the layers in flight. */
  readonly retained: number;
  readonly total: number;
  readonly streamed?: boolean;
}

interface Attention {
  readonly layers: number;
  readonly queries: number;
  readonly keys: number;
}

/** One kind of attention, in bytes: the largest layer's working set and what every layer returns. */
function attentionBytes(info: ModelInfo, a: Attention, wants: ForwardWants): { working: number; retained: number; perLayer: number } {
  const { numHeads: H, numKvHeads: KV, headDim: hd, hiddenSize: D } = info;
  const square = H * a.queries * a.keys;
  // Scores, probabilities and a position bias; q, k, v and the context; the feed-forward (≈ 4·D wide).
  const working = 4 * (3 * square + a.queries * (2 * (H + 2 * KV) * hd + 4 * D + 3 * 4 * D) + a.keys * 2 * KV * hd);
  const perLayer = square * (wants.probabilityFormat === 'f16' ? 2 : 4)
    + (wants.scores ? 4 * square : 0)
    + (wants.headVectors ? 4 * (2 * a.queries * H * hd + 2 * a.keys * KV * hd) : 0)
    + (wants.hiddenStates ? 4 * a.queries * D : 0);
  return { working, retained: a.layers * perLayer, perLayer };
}

export function estimateRunMemory(info: ModelInfo, weights: WeightSize, run: RunShape): MemoryEstimate {
  const L = info.numLayers;
  const stacks: Attention[] = [];
  const generate = run.generate ?? 0;
  let rows = run.sourceTokens;
  if (info.crossAttention) {
    // Decoder stacks are taken as deep as the encoder (ModelInfo has one layer count).
    const target = run.targetTokens ?? generate;
    stacks.push({ layers: L, queries: run.sourceTokens, keys: run.sourceTokens }, { layers: L, queries: target, keys: target }, { layers: L, queries: target, keys: run.sourceTokens });
    rows = target;
  } else {
    stacks.push({ layers: L, queries: run.sourceTokens, keys: run.sourceTokens });
    // Each generated token attends to everything before it: one row per layer and step.
    if (generate > 0) stacks.push({ layers: L, queries: generate, keys: run.sourceTokens + generate });
    rows = run.sourceTokens + generate;
  }
  let activations = 0;
  let retained = 0;
  let largestLayer = 0;
  for (const stack of stacks) {
    const bytes = attentionBytes(info, stack, run.wants);
    activations = Math.max(activations, bytes.working);
    retained += bytes.retained;
    largestLayer = Math.max(largestLayer, bytes.perLayer);
  }
  // Logits (every row, or one per step; the untrained demo has no LM head) and generation's key/value cache.
  const logits = !info.untrained && (run.wants.logits || generate > 0) ? 4 * info.vocabSize * rows : 0;
  const cache = generate > 0 ? 4 * 2 * L * rows * info.numKvHeads * info.headDim * (info.crossAttention ? 2 : 1) : 0;
  // The logit lens holds one block of rows' logits at a time (on top of the layer's activations).
  const lens = run.wants.logitLens && !info.untrained ? 4 * info.vocabSize * Math.min(LENS_ROWS, rows) : 0;
  const returnedLogits = run.wants.logits ? logits : 0;
  retained = run.streamed ? IN_FLIGHT_LAYERS * Math.max(largestLayer, returnedLogits) : RETAINED_COPIES * (retained + returnedLogits);
  activations += cache + logits + lens;
  const weightBytes = weightMemory(weights);
  return { weights: weightBytes, activations, retained, total: weightBytes + activations + retained, streamed: run.streamed };
}

/** Refuses a run whose estimate exceeds the budget, with the numbers and what to do. */
export function checkRunMemory(estimate: MemoryEstimate, budget: MemoryBudget, what: string): void {
  if (estimate.total <= budget.bytes) return;
  const kept = estimate.streamed ? 'layers on their way to the display' : 'attention kept for display';
  const parts = ([['weights', estimate.weights], ['working memory', estimate.activations], [kept, estimate.retained]] as const)
    .filter(([, bytes]) => bytes > 0).map(([name, bytes]) => `${name} ${formatBytes(bytes)}`).join(', ');
  throw new EngineError('TOO_MUCH_MEMORY', `${what} needs about ${formatBytes(estimate.total)} (${parts}), more than the memory budget of ${formatBytes(budget.bytes)}${budget.source === 'automatic' ? ' (half of the free memory)' : ''}.`, {
    remedies: ['shorter-input', 'raise-memory-budget'], details: { bytes: estimate.total, budgetBytes: budget.bytes },
  });
}
