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
  scene?(ctx: ViewContext): Scene | Promise<Scene> | undefined;
}

export function placeholder(element: HTMLElement, text: string): void {
  const note = document.createElement('p');
  note.className = 'placeholder';
  note.textContent = text;
  element.replaceChildren(note);
}
