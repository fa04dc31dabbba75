/** What every view gets and offers: the shared run, selection and theme; a full or a focus-only redraw. */
import type { AttentionRun } from '../../src/view-model/attentionRun';
import type { DiffData } from '../../src/view-model/diff';
import type { Scene } from '../../src/view-model/scene';
import type { Selection } from '../../src/view-model/selection';
import type { ViewData } from '../../src/view-model/viewData';
import type { DataClient } from '../dataClient';
import type { Theme } from '../theme';

export interface ViewContext {
  readonly run: AttentionRun;
  readonly selection: Selection;
  /** What the views draw, asked for where the run's weights are. */
  readonly data: DataClient;
  readonly theme: Theme;
  /**
   * current − baseline for `data` (made for `selection`, default the shared one), when a baseline is
   * shown and fits this run; undefined otherwise.
   */
  diff(data: ViewData, selection?: Selection): DiffData | undefined;
  /** Changes whenever the differences shown change (a baseline arrives, leaves, or is switched off); 0 without. */
  readonly comparison: number;
  update(change: (s: Selection) => Selection): void;
  /** Says something to screen readers (an aria-live region). */
  announce(text: string): void;
}

export interface View {
  readonly element: HTMLElement;
  /** Data, selection (other than the focus), size or theme changed. */
  render(ctx: ViewContext): void;
  /** Only the focused or locked token changed: the fast path hover and lock take. */
  renderFocus(ctx: ViewContext): void;
  /** The picture for PNG and SVG export, where the view has one. */
  scene?(ctx: ViewContext): Scene | Promise<Scene | undefined> | undefined;
}

export function placeholder(element: HTMLElement, text: string, failed = false): void {
  const note = document.createElement('p');
  note.className = failed ? 'placeholder failed' : 'placeholder';
  note.setAttribute('role', failed ? 'alert' : 'status');
  note.textContent = text;
  element.replaceChildren(note);
}

/**
 * What a view shows while it has nothing to draw, true to the run's state: the way to start a run, that
 * the run stopped (the banner above says why; a wait would never end), or the layer being waited for.
 */
export function showEmpty(element: HTMLElement, ctx: ViewContext, idleText: string, layer = ctx.selection.layer): void {
  const run = ctx.run, failure = run.failure;
  if (run.state === 'idle') return placeholder(element, idleText);
  if (failure) return placeholder(element, `Nothing to draw: the run stopped ${run.layersReceived ? `after ${count(run.layersReceived, 'layer')}, before layer ${layer}` : 'before its first layer'} (see above).`, true);
  if (run.state === 'done') return placeholder(element, `Layer ${layer} was not computed in this run.`);
  placeholder(element, `Computing… layer ${layer} is not there yet (${run.layersReceived} of ${count(layerTotal(run), 'layer')} received).`);
}

/** "1 layer", "5 layers". */
export function count(n: number, noun: string): string {
  return `${n} ${n === 1 ? noun : `${noun}s`}`;
}

/** Attention layers a run streams: one stack, or encoder, decoder and cross for an encoder-decoder. */
export function layerTotal(run: AttentionRun): number {
  const started = run.started;
  if (!started) return 0;
  return started.target ? started.model.numLayers * 3 : started.model.numLayers;
}
