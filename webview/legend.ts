/**
 * The color legend every heatmap carries: the ramp as a bar, its range as ticks under it, and a caption
 * (what the colors mean, what blank and gray cells are). Pure DOM; the ticks come from view-model/colors.
 */
import type { LegendTick } from '../src/view-model/colors';
import { h } from './dom';

const BAR_WIDTH = 160;
const BAR_HEIGHT = 10;

export interface LegendContent {
  /** RGBA entries, first = the scale's bottom. */
  readonly ramp: Uint8ClampedArray;
  readonly ticks: readonly LegendTick[];
  /** Before the bar: what is shown ("self · layer 3 · head 2 · log scale"). */
  readonly caption: string;
  /** After the bar: what cells outside the scale mean ("blank: masked (causal)"). */
  readonly note?: string;
}

export class Legend {
  readonly element = h('div', { class: 'legend' });
  private readonly caption = h('span', { class: 'legend-caption' });
  private readonly bar = h('canvas', { class: 'legend-bar', width: BAR_WIDTH, height: 1, 'aria-hidden': 'true' });
  private readonly ticks = h('div', { class: 'legend-ticks', 'aria-hidden': 'true' });
  private readonly note = h('span', { class: 'legend-note' });
  private readonly scale = h('div', { class: 'legend-scale', role: 'img' }, this.bar, this.ticks);
  private ramp: Uint8ClampedArray | undefined;

  constructor() {
    this.bar.style.width = `${BAR_WIDTH}px`;
    this.bar.style.height = `${BAR_HEIGHT}px`;
    this.ticks.style.width = `${BAR_WIDTH}px`;
    this.element.append(this.caption, this.scale, this.note);
  }

  sync(content: LegendContent): void {
    this.caption.textContent = content.caption;
    this.note.textContent = content.note ?? '';
    this.note.hidden = !content.note;
    if (content.ramp !== this.ramp) this.drawBar(content.ramp);
    this.ticks.replaceChildren(...content.ticks.map((tick) => {
      const label = h('span', { class: 'legend-tick' }, tick.label);
      label.style.left = `${(tick.at * 100).toFixed(1)}%`;
      return label;
    }));
    const labels = content.ticks.map((t) => t.label);
    this.scale.setAttribute('aria-label', `Color scale from ${labels[0]} to ${labels[labels.length - 1]}`);
    this.scale.dataset.range = labels.join(' ');
  }

  private drawBar(ramp: Uint8ClampedArray): void {
    this.ramp = ramp;
    const entries = ramp.length / 4;
    const pixels = new Uint8ClampedArray(BAR_WIDTH * 4);
    for (let x = 0; x < BAR_WIDTH; x++) {
      const at = Math.round((x / (BAR_WIDTH - 1)) * (entries - 1)) * 4;
      pixels.set(ramp.subarray(at, at + 4), x * 4);
    }
    this.bar.getContext('2d')!.putImageData(new ImageData(pixels, BAR_WIDTH, 1), 0, 0);
  }
}
