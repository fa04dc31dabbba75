/**
 * Export from the panel: the current view's picture as PNG (its scene drawn on a canvas) or SVG (the
 * same scene as markup), the stack's matrices as JSON, or the whole run as a standalone HTML report.
 */
import type { ExportFormat } from '../src/protocol/messages';
import { cssRgb } from '../src/view-model/colors';
import { sceneToSvg, type Scene } from '../src/view-model/scene';
import type { Transport } from './transport';
import type { View, ViewContext } from './views/view';

export async function exportView(format: ExportFormat, view: View, ctx: ViewContext, transport: Transport): Promise<string | null> {
  const s = ctx.selection;
  const stack = s.view === 'cross' ? 'cross' : s.stack;
  const model = (ctx.run.started?.model.name ?? 'run').replace(/[^\w.-]+/g, '_');
  const base = `attention-${model}-${s.view}-${stack}-${s.layerReduction === 'single' ? `layer${s.layer}` : s.layerReduction}`;
  switch (format) {
    case 'png':
    case 'svg': {
      const scene = await view.scene?.(ctx);
      if (!scene) throw new Error('This view has no picture to export; use the head, matrix or cross-attention view.');
      return format === 'svg'
        ? transport.save('svg', `${base}.svg`, sceneToSvg(scene))
        : transport.save('png', `${base}.png`, await scenePng(scene));
    }
    case 'json':
      return transport.save('json', `attention-${model}-${stack}.json`, undefined, stack);
    case 'html':
      return transport.save('html', `attention-${model}.html`);
    default: {
      const unknown: never = format;
      throw new Error(`Unknown export format ${String(unknown)}`);
    }
  }
}

async function scenePng(scene: Scene): Promise<Uint8Array> {
  const canvas = document.createElement('canvas');
  canvas.width = Math.ceil(scene.width);
  canvas.height = Math.ceil(scene.height);
  const g = canvas.getContext('2d')!;
  g.fillStyle = cssRgb(scene.background);
  g.fillRect(0, 0, canvas.width, canvas.height);
  for (const image of scene.images) {
    const element = new Image();
    element.src = image.href;
    await element.decode();
    g.imageSmoothingEnabled = false;
    g.drawImage(element, image.x, image.y, image.width, image.height);
  }
  g.lineWidth = 2;
  for (const line of scene.lines) {
    g.strokeStyle = cssRgb(line.color, line.opacity);
    g.beginPath();
    g.moveTo(line.x1, line.y1);
    g.lineTo(line.x2, line.y2);
    g.stroke();
  }
  g.fillStyle = cssRgb(scene.foreground);
  for (const text of scene.texts) {
    g.font = `${text.bold ? 'bold ' : ''}${scene.fontSize}px sans-serif`;
    g.textAlign = text.anchor === 'middle' ? 'center' : text.anchor === 'end' ? 'right' : 'left';
    g.save();
    g.translate(text.x, text.y);
    if (text.vertical) g.rotate(-Math.PI / 2);
    g.fillText(text.text, 0, 0);
    g.restore();
  }
  const blob = await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('The picture is too large to encode as PNG.'))), 'image/png'));
  return new Uint8Array(await blob.arrayBuffer());
}
