/**
 * The run's analysis where its weights are kept (the host; a report's writer): head-role scores, sinks
 * and rollout computed with engine/analysis from the stored layers as the panel's weighting shows them,
 * and induction and the logit lens from runs of their own (ExtraPasses). Each answer is kept until the
 * run changes or more of its layers arrive.
 */
import { HEAD_SCORES, layerHeadRoles, undefinedScores, type LayerHeadRoles } from '../engine/analysis/headRoles';
import { layerInductionScores } from '../engine/analysis/induction';
import { stackLayout, type StackLayout } from '../engine/analysis/probabilities';
import { attentionRollout, crossMix, encoderDecoderRollout, residualMix, type Matrix } from '../engine/analysis/rollout';
import { detectSinks } from '../engine/analysis/sinks';
import type { HeadScoresReply, InductionReply, LogitLensReply, SinkInfo, WeightOptions } from '../protocol/data';
import type { AttentionStack } from '../protocol/messages';
import type { AnalysisSource } from '../view-model/analysisSource';
import type { AttentionRun } from '../view-model/attentionRun';
import type { Layer } from '../view-model/generation';
import type { HeadMatrices } from '../view-model/matrices';
import { RAW_WEIGHTS, weightedLayer } from '../view-model/weighting';
import { isCausalStack } from '../protocol/packing';

/** The induction recipe's run: its layers (with value norms) per self-attention stack. */
export interface InductionPass {
  readonly n: number;
  readonly seed: number;
  /** Positions before the first copy of R: the tokenizer's prefix (self, encoder), the start token (decoder). */
  readonly prefix: Partial<Record<AttentionStack, number>>;
  readonly layers: Partial<Record<AttentionStack, readonly Layer[]>>;
}

/** What needs the engine to run again: the induction recipe, and the logit lens of the run's input. */
export interface ExtraPasses {
  induction(): Promise<InductionPass | string>;
  logitLens(): Promise<LogitLensReply>;
}

const NO_VALUE_NORMS = 'This run has no value norms (‖W_O,h · v_j‖): run it again to see value-weighted attention.';

export class AnalysisStore implements AnalysisSource {
  private readonly kept = new Map<string, unknown>();
  private keptFor = '';
  /** Each received layer's head roles, by stack, layer and weighting, for `rolesFor`'s revision. */
  private readonly roles = new Map<string, LayerHeadRoles>();
  private rolesFor = '';

  /** `passes`: where induction and the logit lens come from (set once the run is done). */
  constructor(private readonly run: AttentionRun, public passes?: ExtraPasses) {}

  sinks(stack: AttentionStack): readonly SinkInfo[] | undefined {
    if (!this.received(stack).length) return undefined;
    // Asked for by the hide-sinks toggle as layers arrive: each layer is read and scored once.
    return this.keep(`sinks|${stack}`, () => {
      const roles = this.rolesOf(stack, RAW_WEIGHTS, []);
      return typeof roles === 'object' ? sinksOf(roles) : undefined;
    });
  }

  async headScores(stack: AttentionStack, options: WeightOptions): Promise<HeadScoresReply | undefined> {
    const first = this.run.layer(stack, 0);
    if (!first || !this.complete(stack)) return undefined;
    const empty = { kind: 'head-scores' as const, stack, layers: 0, heads: 0, scores: [] };
    const sinks = options.hideSinks ? this.sinks(stack)?.map((s) => s.position) ?? [] : [];
    const roles = this.rolesOf(stack, options, sinks);
    if (roles === undefined) return undefined;
    if (typeof roles === 'string') return { ...empty, unavailable: roles };
    return this.keep(`scores|${stack}|${weightKey(options)}`, () => {
      const notDefined = undefinedScores(this.layout(stack), first.queryLength, first.keyLength);
      const scores = HEAD_SCORES.map(([name, read]) => ({ name, values: table(roles.map(read)), ...(notDefined[name] && { notDefined: notDefined[name] }) }));
      return { ...empty, layers: roles.length, heads: first.numHeads, scores };
    });
  }

  async induction(stack: AttentionStack, options: WeightOptions): Promise<InductionReply> {
    if (stack === 'cross') return { kind: 'induction', stack, unavailable: 'Cross-attention has no induction stripe: its queries and keys are different sequences.' };
    if (!this.passes) return { kind: 'induction', stack, unavailable: 'This report was written without the induction recipe.' };
    const pass = await this.keep('induction-pass', () => this.passes!.induction());
    if (typeof pass === 'string') return { kind: 'induction', stack, unavailable: pass };
    const layers = pass.layers[stack];
    if (!layers?.length) return { kind: 'induction', stack, unavailable: `The induction run has no ${stack} attention.` };
    return this.keep(`induction|${stack}|${weightKey(options)}`, (): InductionReply => {
      const causal = { relation: 'self' as const, causal: isCausalStack(stack, !!this.run.started?.model.causal) };
      const sinks = options.hideSinks ? sinksOf(layers.map((l) => layerHeadRoles(l, causal))).map((s) => s.position) : [];
      const weighted = layers.map((l) => weightedLayer(l, options, sinks));
      if (weighted.some((l) => !l)) return { kind: 'induction', stack, unavailable: NO_VALUE_NORMS };
      const values = table(weighted.map((l) => layerInductionScores(l!, pass.n, pass.prefix[stack] ?? 0)));
      return { kind: 'induction', stack, values, n: pass.n, seed: pass.seed };
    });
  }

  async rollout(stack: AttentionStack, options: WeightOptions): Promise<HeadMatrices | string | undefined> {
    const kinds: AttentionStack[] = stack === 'self' ? ['self'] : ['encoder', 'decoder', 'cross'];
    const stacks = kinds.map((kind) => this.weighted(kind, options));
    if (stacks.includes(undefined)) return undefined;
    const problem = stacks.find((s) => typeof s === 'string');
    if (problem) return problem as string;
    const rollouts = this.keep(`rollout|${stack === 'self' ? 'self' : 'seq2seq'}|${weightKey(options)}`, () => {
      const mixes = kinds.map((kind, i) => (stacks[i] as Layer[]).map((l) => (kind === 'cross' ? crossMix(l) : residualMix(l, this.layout(kind)))));
      return stack === 'self' ? { self: attentionRollout(mixes[0]) } : encoderDecoderRollout(mixes[0], mixes[1], mixes[2]);
    });
    const m: Matrix = (rollouts as Partial<Record<AttentionStack, Matrix>>)[stack]!;
    return { heads: 1, rows: m.rows, cols: m.cols, data: Float32Array.from(m.data) };
  }

  logitLens(): Promise<LogitLensReply> {
    if (!this.passes) return Promise.resolve({ kind: 'logit-lens', unavailable: 'This report was written without the logit lens.' });
    return this.keep('lens', () => this.passes!.logitLens());
  }

  /** Every layer of a stack as the options weigh it; undefined until all are there; a string says why not. */
  private weighted(stack: AttentionStack, options: WeightOptions): Layer[] | string | undefined {
    const layers = this.complete(stack) ? this.layers(stack) : undefined;
    if (!layers) return undefined;
    const sinks = options.hideSinks ? this.sinks(stack)?.map((s) => s.position) ?? [] : [];
    const weighted = layers.map((l) => weightedLayer(l, options, sinks));
    return weighted.every((l): l is Layer => l !== undefined) ? weighted : NO_VALUE_NORMS;
  }

  /**
   * The head roles of every layer of `stack` received so far under a weighting (`sinks`: the positions
   * it hides), each layer read and scored once per revision of the run; a string says why not.
   */
  private rolesOf(stack: AttentionStack, options: WeightOptions, sinks: readonly number[]): LayerHeadRoles[] | string | undefined {
    if (this.rolesFor !== this.run.revision) {
      this.roles.clear();
      this.rolesFor = this.run.revision;
    }
    const roles: LayerHeadRoles[] = [];
    for (const number of this.received(stack)) {
      const key = `${stack}|${number}|${weightKey(options)}|${sinks.join(',')}`;
      let found = this.roles.get(key);
      if (!found) {
        const layer = this.run.layerData(stack, number);
        if (!layer) return undefined;
        const weighted = weightedLayer(layer, options, sinks);
        if (!weighted) return NO_VALUE_NORMS;
        found = layerHeadRoles(weighted, this.layout(stack));
        this.roles.set(key, found);
      }
      roles.push(found);
    }
    return roles;
  }

  /** Whether every layer of the stack has arrived. */
  private complete(stack: AttentionStack): boolean {
    const received = this.received(stack).length;
    return received > 0 && received >= (this.run.started?.model.numLayers ?? Infinity);
  }

  /** Every layer of the stack with its weights. */
  private layers(stack: AttentionStack): Layer[] | undefined {
    const layers = this.received(stack).map((l) => this.run.layerData(stack, l));
    return layers.every((l): l is Layer => l !== undefined) ? layers : undefined;
  }

  private received(stack: AttentionStack): number[] {
    return Array.from({ length: this.run.layerCount(stack) }, (_, l) => l).filter((l) => this.run.hasLayer(stack, l));
  }

  private layout(stack: AttentionStack): StackLayout {
    return stackLayout(stack, this.run.started!.model, this.run.sourceTokens()?.ids ?? [], this.run.targetTokens()?.ids);
  }

  /** An answer kept until the run changes or more layers arrive. */
  private keep<T>(key: string, make: () => T): T {
    const current = `${this.run.revision}|${this.run.layersReceived}`;
    if (current !== this.keptFor) {
      // The extra passes depend on the run's input only: they survive new layers of the same run.
      const passes = [...this.kept].filter(([k]) => k === 'induction-pass' || k === 'lens');
      this.kept.clear();
      if (this.keptFor.split('|')[0] === current.split('|')[0]) for (const [k, v] of passes) this.kept.set(k, v);
      this.keptFor = current;
    }
    if (!this.kept.has(key)) this.kept.set(key, make());
    return this.kept.get(key) as T;
  }
}

function sinksOf(roles: readonly LayerHeadRoles[]): SinkInfo[] {
  return detectSinks(roles).map((s) => ({ position: s.position, headFraction: s.headFraction }));
}

/** [layers][heads] → [layers · heads]. */
function table(perLayer: readonly ArrayLike<number>[]): Float32Array {
  const heads = perLayer[0]?.length ?? 0;
  const out = new Float32Array(perLayer.length * heads);
  perLayer.forEach((values, l) => out.set(Array.from(values), l * heads));
  return out;
}

const weightKey = (o: WeightOptions) => `${+o.valueWeighted}${+o.hideSinks}`;
