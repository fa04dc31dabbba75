/**
 * One run's analysis, gathered from its attention events as they stream: each layer's head roles and
 * rollout mixing are kept, its probabilities are not, so a long run costs L·T² numbers per stack and
 * not L·H·T². At the end: head roles and sinks per stack, the rollout, and the flow into one position.
 */
import type { AttentionEvent } from '../model';
import type { AttentionStack, ModelInfo } from '../../protocol/run';
import { attentionFlow, encoderDecoderFlow } from './attentionFlow';
import { HeadScoreName, LayerHeadRoles, layerHeadRoles, undefinedScores } from './headRoles';
import { StackLayout, stackLayout } from './probabilities';
import { Matrix, attentionRollout, crossMix, encoderDecoderRollout, residualMix } from './rollout';
import { Sink, detectSinks } from './sinks';

/**
 * Flow is one max-flow problem per input token on a graph of up to L·T² edges: 2–4 s for 12 layers at
 * this length on two busy cores (npm run bench:analysis). Longer inputs get rollout only.
 */
export const FLOW_MAX_TOKENS = 256;

export interface StackAnalysis {
  readonly kind: AttentionStack;
  readonly layout: StackLayout;
  /** Indexed by layer. */
  readonly layers: readonly LayerHeadRoles[];
  /** Scores that are NaN for every head of this stack, and why. */
  readonly notDefined: Partial<Record<HeadScoreName, string>>;
  readonly sinks: readonly Sink[];
}

/** Rollout matrices by stack: `self` for one-stack models; `encoder`, `decoder` and `cross` for encoder-decoders. */
export type RolloutMatrices = Partial<Record<AttentionStack, Matrix>>;

export interface FlowInto {
  /** The stack whose top position receives the flow (`self` or `decoder`). */
  readonly stack: AttentionStack;
  readonly target: number;
  /**
   * Each input token's share of the flow into the target: its max-flow divided by the sum over every
   * input token (of every input stack), as Abnar & Zuidema's own code presents it. Keyed by input
   * stack: `self`, or `encoder` (source tokens) and `decoder` (decoder input tokens).
   */
  readonly share: Partial<Record<AttentionStack, Float64Array>>;
  /** The max-flow values themselves, each at most 1. */
  readonly maxFlow: Partial<Record<AttentionStack, Float64Array>>;
}

interface StackData {
  readonly layout: StackLayout;
  readonly roles: LayerHeadRoles[];
  readonly mixes: Matrix[];
  queryLength: number;
  keyLength: number;
}

export class RunAnalysis {
  private readonly stacks = new Map<AttentionStack, StackData>();

  /** `targetIds`: the decoder's input ids (encoder-decoder runs). */
  constructor(
    private readonly info: ModelInfo,
    private readonly sourceIds: readonly number[],
    private readonly targetIds?: readonly number[],
  ) {}

  /** One streamed layer of a single forward pass (not a cached generation step). */
  add(event: AttentionEvent): void {
    let stack = this.stacks.get(event.stack);
    if (!stack) {
      stack = { layout: stackLayout(event.stack, this.info, this.sourceIds, this.targetIds), roles: [], mixes: [], queryLength: 0, keyLength: 0 };
      this.stacks.set(event.stack, stack);
    }
    stack.queryLength = event.queryLength;
    stack.keyLength = event.keyLength;
    stack.roles[event.layer] = layerHeadRoles(event, stack.layout);
    stack.mixes[event.layer] = event.stack === 'cross' ? crossMix(event) : residualMix(event, stack.layout);
  }

  /** Head roles and sinks of every stack, in the order the stacks arrived. */
  headRoles(): StackAnalysis[] {
    return [...this.stacks].map(([kind, s]) => ({
      kind, layout: s.layout, layers: s.roles,
      notDefined: undefinedScores(s.layout, s.queryLength, s.keyLength),
      sinks: detectSinks(s.roles),
    }));
  }

  /** The rollout of every stack (see rollout.ts for the encoder-decoder rule). */
  rollout(): RolloutMatrices {
    const self = this.stacks.get('self');
    if (self) return { self: attentionRollout(self.mixes) };
    return encoderDecoderRollout(this.mixes('encoder'), this.mixes('decoder'), this.mixes('cross'));
  }

  /** The stack whose top positions a flow goes into, and how many positions it has. */
  get topStack(): { kind: AttentionStack; length: number } {
    const kind = this.stacks.has('self') ? 'self' : 'decoder';
    return { kind, length: this.stacks.get(kind)?.queryLength ?? 0 };
  }

  /** Why flow is not computed for this run, or undefined when it is. */
  flowLimitReason(): string | undefined {
    const longest = Math.max(...[...this.stacks.values()].map((s) => s.keyLength));
    if (longest > FLOW_MAX_TOKENS) {
      return `attention flow solves one max-flow problem per input token over L·T² edges; it is computed up to ${FLOW_MAX_TOKENS} tokens, and this run has ${longest}`;
    }
    return undefined;
  }

  /** Flow from every input token into top position `target`. */
  flowInto(target: number): FlowInto {
    const self = this.stacks.get('self');
    const maxFlow: FlowInto['maxFlow'] = {};
    if (self) {
      maxFlow.self = attentionFlow(self.mixes, target);
    } else {
      const flow = encoderDecoderFlow(this.mixes('encoder'), this.mixes('decoder'), this.mixes('cross'), target);
      maxFlow.encoder = flow.fromSource;
      maxFlow.decoder = flow.fromTarget;
    }
    const total = Object.values(maxFlow).reduce((sum, flows) => flows.reduce((a, b) => a + b, sum), 0);
    const share = Object.fromEntries(Object.entries(maxFlow).map(([kind, flows]) => [kind, flows.map((f) => (total > 0 ? f / total : 0))]));
    return { stack: self ? 'self' : 'decoder', target, share, maxFlow };
  }

  private mixes(kind: AttentionStack): Matrix[] {
    const stack = this.stacks.get(kind);
    if (!stack) throw new RangeError(`the run has no ${kind} attention`);
    return stack.mixes;
  }
}
