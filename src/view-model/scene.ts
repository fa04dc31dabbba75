/**
 * Export pictures as plain data: texts, lines and images with positions and colors. One scene is drawn
 * to a canvas (PNG) by the webview and written as SVG here, so both files show the same thing.
 */
import { cssRgb, hexRgb, headColor, type Rgb } from './colors';
import { headLayout, rowY, type MatrixLayout } from './layout';
import type { Focus, Link } from './links';

export interface SceneText {
  readonly x: number;
  readonly y: number;
  readonly text: string;
  readonly anchor: 'start' | 'end' | 'middle';
  readonly bold?: boolean;
  /** Rotated -90° about (x, y), for column labels. */
  readonly vertical?: boolean;
}

export interface SceneLine {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
  readonly color: Rgb;
  readonly opacity: number;
}

export interface SceneImage {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** A data: URL (PNG). */
  readonly href: string;
}

export interface Scene {
  readonly width: number;
  readonly height: number;
  readonly background: Rgb;
  readonly foreground: Rgb;
  readonly fontSize: number;
  readonly texts: readonly SceneText[];
  readonly lines: readonly SceneLine[];
  readonly images: readonly SceneImage[];
}

export interface HeadSceneInput {
  readonly title: string;
  readonly queryLabels: readonly string[];
  readonly keyLabels: readonly string[];
  readonly links: readonly Link[];
  /** The focused token's label is drawn bold. */
  readonly focus: Focus | null;
  /** Colors per head-axis index; an aggregate draws in `aggregateColor`. */
  readonly aggregate: boolean;
  readonly aggregateColor: Rgb;
  /** Overrides both: differences color each line by the sign of its change. */
  readonly colorOf?: (link: Link) => Rgb;
  readonly background: Rgb;
  readonly foreground: Rgb;
}

/** Taller pictures get thinner rows, so 2,048 tokens still fit a canvas. */
const MAX_SCENE_HEIGHT = 8000;

export function headScene(input: HeadSceneInput): Scene {
  const fontSize = 12;
  const count = Math.max(input.queryLabels.length, input.keyLabels.length);
  const rowHeight = Math.max(2, Math.min(18, (MAX_SCENE_HEIGHT - 40) / Math.max(1, count)));
  const labelWidth = Math.min(200, 8 + 7 * Math.max(1, ...input.queryLabels.map((l) => l.length), ...input.keyLabels.map((l) => l.length)));
  const layout = headLayout({ queryCount: input.queryLabels.length, keyCount: input.keyLabels.length, width: 2 * labelWidth + 240, rowHeight, labelWidth, top: 36 });
  const showLabels = rowHeight >= 9;
  const texts: SceneText[] = [{ x: layout.width / 2, y: 16, text: input.title, anchor: 'middle', bold: true }];
  if (showLabels) {
    const bold = (side: Focus['side'], index: number) => input.focus?.side === side && input.focus.index === index;
    input.queryLabels.forEach((text, i) => texts.push({ x: layout.linkStartX - 8, y: rowY(layout, i) + 4, text, anchor: 'end', bold: bold('query', i) }));
    input.keyLabels.forEach((text, j) => texts.push({ x: layout.linkEndX + 8, y: rowY(layout, j) + 4, text, anchor: 'start', bold: bold('key', j) }));
  }
  const lines = input.links.map((l) => ({
    x1: layout.linkStartX, y1: rowY(layout, l.query), x2: layout.linkEndX, y2: rowY(layout, l.key),
    color: input.colorOf?.(l) ?? (input.aggregate ? input.aggregateColor : headColor(l.head)), opacity: Math.min(1, l.opacity),
  }));
  return { width: layout.width, height: layout.height + 8, background: input.background, foreground: input.foreground, fontSize, texts, lines, images: [] };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const round = (v: number) => +v.toFixed(2);

export function sceneToSvg(scene: Scene): string {
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${round(scene.width)}" height="${round(scene.height)}" viewBox="0 0 ${round(scene.width)} ${round(scene.height)}" font-family="sans-serif" font-size="${scene.fontSize}">`,
    `<rect width="100%" height="100%" fill="${hexRgb(scene.background)}"/>`,
  ];
  for (const image of scene.images) {
    out.push(`<image x="${round(image.x)}" y="${round(image.y)}" width="${round(image.width)}" height="${round(image.height)}" preserveAspectRatio="none" style="image-rendering:pixelated" href="${image.href}"/>`);
  }
  for (const l of scene.lines) {
    out.push(`<line x1="${round(l.x1)}" y1="${round(l.y1)}" x2="${round(l.x2)}" y2="${round(l.y2)}" stroke="${hexRgb(l.color)}" stroke-opacity="${+l.opacity.toFixed(4)}" stroke-width="2"/>`);
  }
  for (const t of scene.texts) {
    const transform = t.vertical ? ` transform="rotate(-90 ${round(t.x)} ${round(t.y)})"` : '';
    const weight = t.bold ? ' font-weight="bold"' : '';
    out.push(`<text x="${round(t.x)}" y="${round(t.y)}" text-anchor="${t.anchor}" fill="${cssRgb(scene.foreground)}"${weight}${transform} xml:space="preserve">${escapeXml(t.text)}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

export interface MatrixSceneInput {
  readonly title: string;
  readonly layout: MatrixLayout;
  readonly queryLabels: readonly string[];
  readonly keyLabels: readonly string[];
  /** The heatmap as a PNG data URL, one pixel per cell. */
  readonly heatmap: string;
  readonly background: Rgb;
  readonly foreground: Rgb;
  readonly fontSize: number;
}

/** The matrix view: the heatmap as an embedded image (4 M cells would be too many SVG rects), labels as text. */
export function matrixScene(input: MatrixSceneInput): Scene {
  const { layout: m, fontSize } = input;
  const top = 24;
  const texts: SceneText[] = [{ x: m.width / 2, y: 16, text: input.title, anchor: 'middle', bold: true }];
  for (let r = 0; r < m.rows; r += m.labelStep) {
    texts.push({ x: m.x - 4, y: top + m.y + (r + 0.5) * m.cell + fontSize / 3, text: input.queryLabels[r], anchor: 'end' });
  }
  for (let c = 0; c < m.cols; c += m.labelStep) {
    texts.push({ x: m.x + (c + 0.5) * m.cell + fontSize / 3, y: top + m.y - 4, text: input.keyLabels[c], anchor: 'start', vertical: true });
  }
  const images = [{ x: m.x, y: top + m.y, width: m.cols * m.cell, height: m.rows * m.cell, href: input.heatmap }];
  return { width: m.width + 8, height: top + m.height + 8, background: input.background, foreground: input.foreground, fontSize, texts, lines: [], images };
}
