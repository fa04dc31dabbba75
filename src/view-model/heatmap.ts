/**
 * Heatmap pixels for the matrix and model views: one RGBA pixel per cell, or per block of cells when
 * the matrix is larger than the pixels available (max-pooled, so a single strong key stays visible).
 * Cells the causal mask hides are left blank (the background): they were never computed, and a blank
 * reads lighter than any pattern at 1,024 tokens. Cells outside a sliding window get a flat band color.
 */
import { divergingIndex, logFloor, mix, rampIndex, scaleWeight, type Rgb, type ScaleMode } from './colors';
import { downsample } from './layout';
import { maxValue } from './matrices';

export interface HeatInput {
  /** [rows, cols] row-major. */
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
  /** Most pixels per side; larger matrices are pooled down to this. */
  readonly maxPixels: number;
  readonly scale: ScaleMode;
  /** 256 RGBA entries (colors.sequentialRamp). */
  readonly ramp: Uint8ClampedArray;
  /** True when the cell (lastRow, firstCol) is masked: then every cell of a causal block up and right of it is. */
  readonly masked?: (lastRow: number, firstCol: number) => boolean;
  /** True when the block of (firstRow, lastCol) lies outside a sliding window: drawn in `band`, apart from the causal mask. */
  readonly outsideWindow?: (firstRow: number, lastCol: number) => boolean;
  readonly background: Rgb;
  readonly band?: Rgb;
}

export interface HeatPixels {
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8ClampedArray<ArrayBuffer>;
  /** The weight at the top of the color scale. */
  readonly max: number;
  /** The log scale's bottom (colors.logFloor of the keys). */
  readonly floor: number;
}

export function heatPixels(input: HeatInput): HeatPixels {
  const pooled = downsample(input.data, input.rows, input.cols, input.maxPixels);
  const { rows, cols } = pooled;
  const max = maxValue(input.data);
  const pixels = new Uint8ClampedArray(rows * cols * 4);
  const floor = logFloor(input.cols);
  const blank = input.background, band = input.band ?? input.background;
  const rowStart = (r: number) => Math.ceil((r * input.rows) / rows);
  const colStart = (c: number) => Math.ceil((c * input.cols) / cols);
  for (let r = 0; r < rows; r++) {
    const lastRow = rowStart(r + 1) - 1;
    for (let c = 0; c < cols; c++) {
      const o = (r * cols + c) * 4;
      const hidden = input.masked?.(lastRow, colStart(c)) ? blank : input.outsideWindow?.(rowStart(r), colStart(c + 1) - 1) ? band : undefined;
      if (hidden) {
        pixels[o] = hidden[0];
        pixels[o + 1] = hidden[1];
        pixels[o + 2] = hidden[2];
        pixels[o + 3] = 255;
        continue;
      }
      const lut = rampIndex(scaleWeight(pooled.data[r * cols + c], max, input.scale, floor)) * 4;
      pixels[o] = input.ramp[lut];
      pixels[o + 1] = input.ramp[lut + 1];
      pixels[o + 2] = input.ramp[lut + 2];
      pixels[o + 3] = 255;
    }
  }
  return { width: cols, height: rows, pixels, max, floor };
}

export interface DiffHeatInput {
  /** [rows, cols] row-major changes; NaN where a token has no counterpart in the baseline. */
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly maxPixels: number;
  /** The scale's ends are ±maxAbs. */
  readonly maxAbs: number;
  /** colors.divergingRamp. */
  readonly ramp: Uint8ClampedArray;
  readonly masked?: (lastRow: number, firstCol: number) => boolean;
  readonly background: Rgb;
  readonly mask: Rgb;
}

/**
 * The diverging heatmap of a difference: one pixel per cell or per block; a block shows its change of
 * largest magnitude (so one strong change survives pooling, whatever its sign). Masked cells are blank
 * as in heatPixels; cells without a counterpart are a solid gray.
 */
export function diffPixels(input: DiffHeatInput): HeatPixels {
  const rows = Math.min(input.rows, input.maxPixels), cols = Math.min(input.cols, input.maxPixels);
  const pixels = new Uint8ClampedArray(rows * cols * 4);
  const missing = mix(input.background, input.mask, 0.55);
  const rowStart = (r: number) => Math.ceil((r * input.rows) / rows);
  const colStart = (c: number) => Math.ceil((c * input.cols) / cols);
  const put = (o: number, color: ArrayLike<number>, at = 0) => {
    pixels[o] = color[at];
    pixels[o + 1] = color[at + 1];
    pixels[o + 2] = color[at + 2];
    pixels[o + 3] = 255;
  };
  for (let r = 0; r < rows; r++) {
    const r0 = rowStart(r), r1 = rowStart(r + 1);
    for (let c = 0; c < cols; c++) {
      const o = (r * cols + c) * 4, c0 = colStart(c), c1 = colStart(c + 1);
      if (input.masked?.(r1 - 1, c0)) {
        put(o, input.background);
        continue;
      }
      let strongest = NaN;
      for (let i = r0; i < r1; i++) {
        for (let j = c0, at = i * input.cols + c0; j < c1; j++, at++) {
          const v = input.data[at];
          if (!Number.isNaN(v) && !(Math.abs(v) <= Math.abs(strongest))) strongest = v;
        }
      }
      if (Number.isNaN(strongest)) put(o, missing);
      else put(o, input.ramp, divergingIndex(strongest, input.maxAbs) * 4);
    }
  }
  return { width: cols, height: rows, pixels, max: input.maxAbs, floor: 0 };
}
