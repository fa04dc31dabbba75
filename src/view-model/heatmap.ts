/**
 * Heatmap pixels for the matrix and model views: one RGBA pixel per cell, or per block of cells when
 * the matrix is larger than the pixels available (max-pooled, so a single strong key stays visible).
 * Cells the causal mask hides get a striped pattern instead of a weight color.
 */
import { mix, rampIndex, scaleWeight, type Rgb, type ScaleMode } from './colors';
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
  /** 256 RGBA entries (colors.heatRamp). */
  readonly ramp: Uint8ClampedArray;
  /** True when the cell (lastRow, firstCol) is masked: then every cell of a causal block up and right of it is. */
  readonly masked?: (lastRow: number, firstCol: number) => boolean;
  readonly background: Rgb;
  readonly mask: Rgb;
}

export interface HeatPixels {
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8ClampedArray<ArrayBuffer>;
  /** The weight at the top of the color scale. */
  readonly max: number;
}

export function heatPixels(input: HeatInput): HeatPixels {
  const pooled = downsample(input.data, input.rows, input.cols, input.maxPixels);
  const { rows, cols } = pooled;
  const max = maxValue(input.data);
  const pixels = new Uint8ClampedArray(rows * cols * 4);
  const stripes = [mix(input.background, input.mask, 0.12), mix(input.background, input.mask, 0.3)];
  const rowStart = (r: number) => Math.ceil((r * input.rows) / rows);
  const colStart = (c: number) => Math.ceil((c * input.cols) / cols);
  for (let r = 0; r < rows; r++) {
    const lastRow = rowStart(r + 1) - 1;
    for (let c = 0; c < cols; c++) {
      const o = (r * cols + c) * 4;
      if (input.masked?.(lastRow, colStart(c))) {
        // Diagonal stripes, four cells wide: the mask region reads as "not computed", not as "zero".
        const stripe = stripes[((r + c) >> 2) & 1];
        pixels[o] = stripe[0];
        pixels[o + 1] = stripe[1];
        pixels[o + 2] = stripe[2];
        pixels[o + 3] = 255;
        continue;
      }
      const lut = rampIndex(scaleWeight(pooled.data[r * cols + c], max, input.scale)) * 4;
      pixels[o] = input.ramp[lut];
      pixels[o + 1] = input.ramp[lut + 1];
      pixels[o + 2] = input.ramp[lut + 2];
      pixels[o + 3] = 255;
    }
  }
  return { width: cols, height: rows, pixels, max };
}
