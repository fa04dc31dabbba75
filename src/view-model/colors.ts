/**
 * Colors as numbers: one hue per head, and the heatmap scale (linear or log) that maps a weight to a
 * color between the theme's background and its accent. Pure, so the canvas, the SVG export and the
 * tests agree.
 */

export type Rgb = readonly [number, number, number];
export type ScaleMode = 'linear' | 'log';

/** Below this the log scale treats a weight as zero (float32 softmax rows are rarely that exact). */
export const LOG_FLOOR = 1e-4;

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

/** Maps a weight to [0, 1] for the color scale; `max` is the largest weight shown (the scale's top). */
export function scaleWeight(weight: number, max: number, mode: ScaleMode): number {
  if (!(weight > 0) || !(max > 0)) return 0;
  if (mode === 'linear') return Math.min(1, weight / max);
  const top = Math.log10(Math.max(max, LOG_FLOOR * 10));
  const bottom = Math.log10(LOG_FLOOR);
  return Math.min(1, Math.max(0, (Math.log10(Math.max(weight, LOG_FLOOR)) - bottom) / (top - bottom)));
}

/** A lookup table of 256 RGBA colors from `low` (weight 0) to `high` (the scale's top). */
export function heatRamp(low: Rgb, high: Rgb): Uint8ClampedArray {
  const lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    // A slight ease so that small weights already separate from the background.
    const c = mix(low, high, Math.pow(i / 255, 0.8));
    lut.set([c[0], c[1], c[2], 255], i * 4);
  }
  return lut;
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
