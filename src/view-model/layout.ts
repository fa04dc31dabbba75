/**
 * Geometry of the views, as pure functions of sizes: where each token row sits in the head view, which
 * rows are in the DOM (virtualized lists) and which are drawn, matrix cells and hit-testing, the model
 * view's grid, and thumbnail downsampling. The drawing code only reads these.
 */

/** Lists up to this many tokens are rendered whole; longer ones only around the viewport. */
export const VIRTUALIZE_ABOVE = 256;
/** Rows rendered above and below the viewport, so fast scrolling shows no gaps. */
const OVERSCAN_ROWS = 12;

export interface HeadLayoutInput {
  readonly queryCount: number;
  readonly keyCount: number;
  readonly width: number;
  readonly rowHeight: number;
  readonly labelWidth: number;
  /** Space above the first row (column titles). */
  readonly top: number;
}

export interface HeadLayout extends HeadLayoutInput {
  readonly height: number;
  /** Left edge of the query column and of the key column. */
  readonly queryX: number;
  readonly keyX: number;
  /** Where links start (right of the query labels) and end (left of the key labels). */
  readonly linkStartX: number;
  readonly linkEndX: number;
}

const COLUMN_GAP = 6;
const MIN_LINK_SPAN = 60;

export function headLayout(input: HeadLayoutInput): HeadLayout {
  const labelWidth = Math.max(24, Math.min(input.labelWidth, (input.width - MIN_LINK_SPAN) / 2 - COLUMN_GAP));
  const queryX = 0;
  const keyX = Math.max(input.width - labelWidth, labelWidth + MIN_LINK_SPAN);
  return {
    ...input, labelWidth,
    height: input.top + Math.max(input.queryCount, input.keyCount) * input.rowHeight,
    queryX, keyX,
    linkStartX: queryX + labelWidth + COLUMN_GAP,
    linkEndX: keyX - COLUMN_GAP,
  };
}

/** Vertical center of row i. */
export function rowY(layout: HeadLayout, row: number): number {
  return layout.top + (row + 0.5) * layout.rowHeight;
}

/** Width for labels of this many characters (monospace-ish estimate), clamped. */
export function labelWidthFor(labels: readonly string[], charWidth: number): number {
  let longest = 0;
  for (const label of labels) longest = Math.max(longest, label.length);
  return Math.min(220, Math.max(40, Math.ceil(longest * charWidth) + 12));
}

export interface RowRange {
  /** First row, inclusive. */
  readonly start: number;
  /** Last row, exclusive. */
  readonly end: number;
}

/** Rows intersecting the viewport, widened by `overscan` rows each way. */
export function visibleRows(scrollTop: number, viewportHeight: number, top: number, rowHeight: number, count: number, overscan = OVERSCAN_ROWS): RowRange {
  const first = Math.floor((scrollTop - top) / rowHeight) - overscan;
  const last = Math.ceil((scrollTop + viewportHeight - top) / rowHeight) + overscan;
  return { start: Math.max(0, Math.min(count, first)), end: Math.max(0, Math.min(count, last)) };
}

/** Rows to keep in the DOM: all of a short list, else the visible ones. */
export function renderedRows(count: number, visible: RowRange): RowRange {
  return count <= VIRTUALIZE_ABOVE ? { start: 0, end: count } : visible;
}

export interface MatrixLayout {
  readonly rows: number;
  readonly cols: number;
  /** Top-left corner of cell (0, 0). */
  readonly x: number;
  readonly y: number;
  readonly cell: number;
  readonly width: number;
  readonly height: number;
  /** Draw every label when cells are tall enough, else every `labelStep`-th. */
  readonly labelStep: number;
}

/** Square cells filling the space left of the labels; labels thin out when cells are small. */
export function matrixLayout(rows: number, cols: number, width: number, height: number, labelSpace: number, fontSize: number): MatrixLayout {
  const cell = Math.max(0.25, Math.min((width - labelSpace) / Math.max(1, cols), (height - labelSpace) / Math.max(1, rows)));
  return {
    rows, cols, x: labelSpace, y: labelSpace, cell,
    width: labelSpace + cell * cols, height: labelSpace + cell * rows,
    labelStep: Math.max(1, Math.ceil((fontSize + 2) / cell)),
  };
}

export function cellAt(layout: MatrixLayout, x: number, y: number): { row: number; col: number } | null {
  const col = Math.floor((x - layout.x) / layout.cell);
  const row = Math.floor((y - layout.y) / layout.cell);
  return row >= 0 && row < layout.rows && col >= 0 && col < layout.cols ? { row, col } : null;
}

export interface GridLayout {
  readonly columns: number;
  readonly thumb: number;
  readonly gap: number;
}

/** The model view: one column per head, thumbnails as large as the width allows within bounds. */
export function gridLayout(heads: number, width: number, gap = 6, minThumb = 48, maxThumb = 160): GridLayout {
  const fit = Math.floor((width - gap * (heads + 1)) / Math.max(1, heads));
  return { columns: heads, thumb: Math.max(minThumb, Math.min(maxThumb, fit)), gap };
}

/**
 * Max-pools a [rows, cols] matrix into [size, size] cells (or keeps it when it is smaller), so a sharp
 * diagonal stays visible in a 64-pixel thumbnail of 2,048 tokens.
 */
export function downsample(data: Float32Array, rows: number, cols: number, size: number): { data: Float32Array; rows: number; cols: number } {
  const outRows = Math.min(rows, size), outCols = Math.min(cols, size);
  if (outRows === rows && outCols === cols) return { data, rows, cols };
  const out = new Float32Array(outRows * outCols);
  const colTarget = Int32Array.from({ length: cols }, (_, c) => Math.floor((c * outCols) / cols));
  for (let r = 0; r < rows; r++) {
    const orow = Math.floor((r * outRows) / rows) * outCols;
    for (let c = 0, i = r * cols; c < cols; c++, i++) {
      const o = orow + colTarget[c];
      if (data[i] > out[o]) out[o] = data[i];
    }
  }
  return { data: out, rows: outRows, cols: outCols };
}
