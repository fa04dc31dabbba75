/**
 * Colors as numbers: one hue per head, and the heatmap scale (linear or log) that maps a weight to a
 * perceptual sequential color map whose low end sits near the theme's background and whose top stands
 * out from it most. Pure, so the canvas, the SVG export and the tests agree.
 */

export type Rgb = readonly [number, number, number];
export type ScaleMode = 'linear' | 'log';

/**
 * The log scale's bottom for rows over `keys` keys: a hundredth of the uniform weight 1/keys, so that
 * even spread rows at 1,024 tokens sit inside the scale; weights below it draw as the bottom color.
 */
export function logFloor(keys: number): number {
  return Math.min(1e-3, Math.max(1e-6, 0.01 / Math.max(1, keys)));
}

/** The head view's colors: Tableau 10 (what BertViz uses), then repeated with a darker shade. */
const PALETTE: readonly Rgb[] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
];

export function headColor(head: number): Rgb {
  const base = PALETTE[head % PALETTE.length];
  const shade = Math.floor(head / PALETTE.length) % 3;
  return shade === 0 ? base : mix(base, [0, 0, 0], 0.25 * shade);
}

export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

export function cssRgb(c: Rgb, alpha = 1): string {
  const [r, g, b] = c.map((v) => Math.round(v));
  return alpha >= 1 ? `rgb(${r}, ${g}, ${b})` : `rgba(${r}, ${g}, ${b}, ${+alpha.toFixed(4)})`;
}

export function hexRgb(c: Rgb): string {
  return '#' + c.map((v) => Math.round(Math.min(255, Math.max(0, v))).toString(16).padStart(2, '0')).join('');
}

/** Parses what getComputedStyle returns for a color: #rgb, #rrggbb(aa), rgb(…) or rgba(…). */
export function parseColor(text: string): Rgb | undefined {
  const s = text.trim();
  const hex = /^#([0-9a-f]{3,8})$/i.exec(s);
  if (hex) {
    const h = hex[1];
    if (h.length === 3 || h.length === 4) return [0, 1, 2].map((i) => parseInt(h[i] + h[i], 16)) as unknown as Rgb;
    if (h.length === 6 || h.length === 8) return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)) as unknown as Rgb;
    return undefined;
  }
  const rgb = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i.exec(s);
  return rgb ? [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])] : undefined;
}

/**
 * Maps a weight to [0, 1] for the color scale; `max` is the largest weight shown (the scale's top) and
 * `floor` the log scale's bottom (logFloor).
 */
export function scaleWeight(weight: number, max: number, mode: ScaleMode, floor = logFloor(1)): number {
  if (!(weight > 0) || !(max > 0)) return 0;
  if (mode === 'linear') return Math.min(1, weight / max);
  const top = Math.log10(Math.max(max, floor * 10));
  const bottom = Math.log10(floor);
  return Math.min(1, Math.max(0, (Math.log10(Math.max(weight, floor)) - bottom) / (top - bottom)));
}

/**
 * Matplotlib's "inferno" sampled at eleven even steps: perceptually uniform, monotonic in lightness and
 * readable with the common color-vision deficiencies.
 */
const INFERNO: readonly Rgb[] = [
  [0, 0, 4], [22, 11, 57], [66, 10, 104], [106, 23, 110], [147, 38, 103], [188, 55, 84],
  [221, 81, 58], [243, 120, 25], [252, 165, 10], [246, 215, 70], [252, 255, 164],
];

/**
 * The heatmap's 256 RGBA colors from weight 0 to the scale's top: inferno from black to pale yellow on
 * a dark background, reversed on a light one, so small weights fade into the background and large
 * ones stand out from it in every theme.
 */
export function sequentialRamp(darkBackground: boolean): Uint8ClampedArray {
  const lut = new Uint8ClampedArray(256 * 4);
  const last = INFERNO.length - 1;
  for (let i = 0; i < 256; i++) {
    const t = ((darkBackground ? i : 255 - i) / 255) * last;
    const k = Math.min(last - 1, Math.floor(t));
    const c = mix(INFERNO[k], INFERNO[k + 1], t - k);
    lut.set([c[0], c[1], c[2], 255], i * 4);
  }
  return lut;
}

/** WCAG relative luminance of an sRGB color, 0 (black) to 1 (white). */
export function luminance(c: Rgb): number {
  const [r, g, b] = c.map((v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio of two colors, 1 to 21. */
export function contrastRatio(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** One labelled tick of a color legend: where on the bar (0 to 1) and what weight it marks. */
export interface LegendTick {
  readonly at: number;
  readonly label: string;
}

/** The legend's ticks: 0, half and the top (linear), or each power of ten from the floor up to the top (log). */
export function scaleTicks(max: number, mode: ScaleMode, floor = logFloor(1)): LegendTick[] {
  if (!(max > 0)) return [{ at: 0, label: '0' }];
  if (mode === 'linear') return [0, 0.5, 1].map((at) => ({ at, label: tickLabel(at * max) }));
  const ticks: LegendTick[] = [];
  for (let exponent = Math.ceil(Math.log10(floor) - 1e-9); Math.pow(10, exponent) < max * 0.999; exponent++) {
    ticks.push({ at: scaleWeight(Math.pow(10, exponent), max, 'log', floor), label: exponent === 0 ? '1' : `1e${exponent}` });
  }
  ticks.push({ at: 1, label: tickLabel(max) });
  // Ticks closer than a tenth of the bar to the top one would print over it.
  return ticks.filter((tick, i) => i === ticks.length - 1 || 1 - tick.at >= 0.1);
}

function tickLabel(weight: number): string {
  if (weight === 0) return '0';
  return weight >= 0.01 ? String(+weight.toFixed(2)) : weight.toExponential(0);
}

/** The ramp entry of a scaled value in [0, 1]. */
export function rampIndex(scaled: number): number {
  return Math.round(Math.min(1, Math.max(0, scaled)) * 255);
}

/** Entries of a diverging ramp: 0 is the largest decrease, DIVERGING_MID no change, 2 · DIVERGING_MID the largest increase. */
export const DIVERGING_MID = 128;

/** A diverging lookup table (2 · DIVERGING_MID + 1 RGBA entries): decrease ← background → increase. */
export function divergingRamp(decrease: Rgb, background: Rgb, increase: Rgb): Uint8ClampedArray {
  const lut = new Uint8ClampedArray((2 * DIVERGING_MID + 1) * 4);
  for (let i = 0; i <= 2 * DIVERGING_MID; i++) {
    const t = (i - DIVERGING_MID) / DIVERGING_MID;
    const c = mix(background, t < 0 ? decrease : increase, Math.pow(Math.abs(t), 0.8));
    lut.set([c[0], c[1], c[2], 255], i * 4);
  }
  return lut;
}

/** The diverging ramp entry of a change, on a symmetric scale whose ends are ±maxAbs. */
export function divergingIndex(delta: number, maxAbs: number): number {
  if (!(maxAbs > 0) || !Number.isFinite(delta)) return DIVERGING_MID;
  return DIVERGING_MID + Math.round(Math.max(-1, Math.min(1, delta / maxAbs)) * DIVERGING_MID);
}

/** The legend of a change (diverging) scale: −maxAbs, no change, +maxAbs. */
export function changeTicks(maxAbs: number): LegendTick[] {
  const end = maxAbs > 0 ? tickLabel(maxAbs) : '0';
  return [{ at: 0, label: `−${end}` }, { at: 0.5, label: '0' }, { at: 1, label: `+${end}` }];
}
