/**
 * The one selection every view shares: view, attention stack, layer, active heads, focused or locked
 * token, scale and token clean-up. Changes are pure functions returning a new selection, so the rules
 * (click toggles a head, double-click solos, a lock ignores hovers, Escape unlocks) are unit-tested.
 */
import type { WeightOptions } from '../protocol/data';
import type { AttentionStack, Reveal, SelectionChanged } from '../protocol/messages';
import type { ScaleMode } from './colors';
import type { Focus } from './links';

export type ViewName = 'head' | 'model' | 'matrix' | 'computation' | 'cross' | 'steps' | 'heads' | 'rollout' | 'lens';
export type LayerReduction = 'single' | 'mean' | 'max';
export type HeadMode = 'each' | 'mean' | 'max';

export interface Selection extends WeightOptions {
  readonly view: ViewName;
  /** The stack the head, model, matrix and computation views show; the cross view always shows 'cross'. */
  readonly stack: AttentionStack;
  readonly layer: number;
  readonly layerReduction: LayerReduction;
  readonly activeHeads: readonly boolean[];
  readonly headMode: HeadMode;
  /** The head the matrix and computation views show when heads are not aggregated. */
  readonly head: number;
  /** Focused display token (hover), or the locked one. */
  readonly focus: Focus | null;
  readonly locked: boolean;
  readonly scale: ScaleMode;
  readonly hideSpecial: boolean;
  readonly mergeWords: boolean;
  /** Generation: the step shown (its query row is the locked focus); null follows the newest step. */
  readonly step: number | null;
  /** With a baseline: show current − baseline rather than the current run. */
  readonly compare: boolean;
}

/** What survives a reload of the panel (the data does not). */
export type Preferences = Pick<Selection, 'view' | 'layerReduction' | 'headMode' | 'scale' | 'hideSpecial' | 'mergeWords' | 'valueWeighted' | 'hideSinks'>;

export const DEFAULT_SELECTION: Selection = {
  view: 'head', stack: 'self', layer: 0, layerReduction: 'single', activeHeads: [], headMode: 'each', head: 0,
  focus: null, locked: false, scale: 'linear', hideSpecial: false, mergeWords: false, step: null, compare: true,
  valueWeighted: false, hideSinks: false,
};

export function preferencesOf(s: Selection): Preferences {
  return {
    view: s.view, layerReduction: s.layerReduction, headMode: s.headMode, scale: s.scale, hideSpecial: s.hideSpecial, mergeWords: s.mergeWords,
    valueWeighted: s.valueWeighted, hideSinks: s.hideSinks,
  };
}

/**
 * A new run: all heads on, first layer, no focus, following the newest generation step; the user's
 * display preferences stay. `preferred` is the stack to show first (a generation's growing one).
 */
export function selectionForRun(previous: Selection, numHeads: number, stacks: readonly AttentionStack[], generation = false, preferred?: AttentionStack): Selection {
  const stack = preferred ?? (stacks.includes(previous.stack) ? previous.stack : (stacks.find((s) => s !== 'cross') ?? stacks[0] ?? 'self'));
  const cross = stacks.includes('cross');
  // A cross-attention run opens on cross-attention (its point) where the head view would show the encoder.
  const view = (previous.view === 'cross' && !cross) || (previous.view === 'steps' && !generation) ? 'head'
    : previous.view === 'head' && cross && !generation ? 'cross'
    : previous.view;
  return { ...previous, view, stack, layer: 0, activeHeads: Array(numHeads).fill(true), head: 0, focus: null, locked: false, step: null };
}

export function activeHeadIndices(s: Selection): number[] {
  return s.activeHeads.flatMap((on, h) => (on ? [h] : []));
}

export function toggleHead(s: Selection, head: number): Selection {
  const activeHeads = s.activeHeads.map((on, h) => (h === head ? !on : on));
  return { ...s, activeHeads, head: activeHeads[head] ? head : s.head };
}

/** Only this head; soloing the head that is already alone turns every head back on. */
export function soloHead(s: Selection, head: number): Selection {
  const alone = s.activeHeads.every((on, h) => on === (h === head));
  return { ...s, activeHeads: s.activeHeads.map((_, h) => alone || h === head), head };
}

/** Hover: moves the focus unless a token is locked. */
export function hover(s: Selection, focus: Focus | null): Selection {
  return s.locked ? s : { ...s, focus };
}

/** Click: locks this token, or unlocks when it is the locked one. */
export function toggleLock(s: Selection, focus: Focus): Selection {
  const same = s.locked && s.focus?.side === focus.side && s.focus.index === focus.index;
  return same ? { ...s, locked: false } : { ...s, focus, locked: true };
}

export function unlock(s: Selection): Selection {
  return { ...s, locked: false, focus: null };
}

/** Changing what a display token is (words, hidden specials) invalidates the focus. */
export function withTokenOptions(s: Selection, hideSpecial: boolean, mergeWords: boolean): Selection {
  return { ...s, hideSpecial, mergeWords, focus: null, locked: false };
}

/** Keyboard: moves the focus by `delta` rows on its side, within [0, count). */
export function moveFocus(s: Selection, delta: number, count: number, side: Focus['side'] = 'query'): Selection {
  const current = s.focus ?? { side, index: delta > 0 ? -1 : count };
  const index = Math.max(0, Math.min(count - 1, current.index + delta));
  return { ...s, focus: { side: current.side, index } };
}

/** Shows a generation step: its query row (a display index of the step's stack) becomes the locked focus. */
export function selectStep(s: Selection, step: number | null, row: number | null): Selection {
  return row === null ? { ...s, step } : { ...s, step, focus: { side: 'query', index: row }, locked: true };
}

/**
 * The host's `reveal` (the editor hover's "open in panel"): that stack's view and layer, the head alone,
 * and the token (a display index, or null) focused and locked.
 */
export function revealIn(s: Selection, target: Omit<Reveal, 'type' | 'token'>, row: number | null): Selection {
  const keepsView = s.view === 'head' || s.view === 'matrix' || s.view === 'computation';
  const view: ViewName = target.stack === 'cross' ? 'cross' : keepsView ? s.view : 'head';
  const head = target.head !== undefined && target.head < s.activeHeads.length ? target.head : undefined;
  return {
    ...s, view, stack: target.stack,
    layer: target.layer, layerReduction: 'single',
    ...(head !== undefined && { activeHeads: s.activeHeads.map((_, h) => h === head), headMode: 'each' as const, head }),
    ...(row !== null && { focus: { side: 'query' as const, index: row }, locked: true }),
  };
}

/** What the webview tells the host about its selection; `focusToken` is the focus as a model token index. */
export function selectionMessage(s: Selection, focusToken: number | null): SelectionChanged {
  return {
    type: 'selection-changed', stack: s.view === 'cross' ? 'cross' : s.stack, layer: s.layer, heads: activeHeadIndices(s),
    aggregate: s.headMode === 'each' ? 'none' : s.headMode, valueWeighted: s.valueWeighted, hideSinks: s.hideSinks,
    focus: s.focus && focusToken !== null ? { side: s.focus.side, index: focusToken, locked: s.locked } : null,
  };
}
