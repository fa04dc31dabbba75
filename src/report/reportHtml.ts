/**
 * The standalone report: one HTML file with the panel's bundle, its stylesheet, the run's messages and
 * each layer's weights in a chunk of its own (src/protocol/report.ts), so it opens offline in any
 * browser and shows the same views. Layers are encoded as they come (float16, packed rows, deflated)
 * into a scratch file, so writing a long run never holds it in memory or in one string. The inline
 * script and style are allowed by their SHA-256 hashes (not nonces: browsers hide nonces from the DOM,
 * and the report's "Save HTML" writes its own DOM back out).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { base64ToBytes, bytesToBase64, packTyped } from '../protocol/codec';
import { fromFloat16Bits, toFloat16Bits } from '../protocol/float16';
import type { StepRecipe } from '../protocol/data';
import type { LayerMessage, ReplayMessage, RunMessage } from '../protocol/messages';
import { packLayer, unpackLayer } from '../protocol/packing';
import { REPORT_DATA_ID, REPORT_STEP_DATA_MAX_KEYS, REPORT_VERSION, type ReportChunk, type ReportData } from '../protocol/report';
import type { TraceStageName } from '../protocol/run';
import { layerKey, type LayerTensors, type TensorSource } from '../view-model/tensors';

export interface ReportAssets {
  readonly script: string;
  readonly css: string;
}

/** The panel's stylesheets, in order (the webview links them; the report inlines them as one). */
export const PANEL_STYLESHEETS = ['panel.css', 'steps-and-diff.css', 'analysis.css'];

/** Reads the built bundle and stylesheets from the extension's (or repository's) media folder. */
export function loadReportAssets(root: string): ReportAssets {
  const read = (name: string) => {
    const file = path.join(root, 'media', name);
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: run "npm run build" to build the panel before writing a report.`);
    return fs.readFileSync(file, 'utf8');
  };
  return { script: read('webview.js'), css: PANEL_STYLESHEETS.map(read).join('\n') };
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** `</script` inside the data or the bundle would end the element early. */
function scriptSafe(text: string): string {
  return text.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

function escapeHtml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Builds one report: layers are added as they are computed, the page is written at the end. It reads
 * its own run's layers back (a TensorSource, float16 as the page will have them), so the analysis the
 * report carries can be computed from them without the run being held in memory.
 */
export class ReportBuilder implements TensorSource {
  private readonly scratch: string;
  private readonly fd: number;
  private readonly chunks: ReportChunk[] = [];
  /** Where each chunk's base64 text is in the scratch file. */
  private readonly places: { readonly offset: number; readonly length: number }[] = [];
  private scratchEnd = 0;
  private disposed = false;

  constructor() {
    this.scratch = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'attention-report-')), 'chunks.html');
    this.fd = fs.openSync(this.scratch, 'w+');
  }

  /** Encodes one layer message's weights [heads, queries, keys] (and value norms [heads, keys]) into chunks. */
  addLayer(part: ReportChunk['part'], layer: LayerMessage, probs: Float32Array, valueNorms?: Float32Array): void {
    const half = toFloat16Bits(packLayer(probs, layer));
    this.addChunk({ part, key: layerKey(layer), content: 'probs', encoding: 'f16-deflate-raw' }, half);
    if (valueNorms) this.addChunk({ part, key: layerKey(layer), content: 'value-norms', encoding: 'f32-deflate-raw' }, valueNorms);
  }

  /** One result of the run's analysis (reportAnalysis.ts), under its analysisKey. */
  addAnalysis(key: string, value: unknown): void {
    const { skeleton, bytes } = packTyped(value);
    this.addChunk({ part: 'run', key, content: 'analysis', encoding: 'typed-deflate-raw', skeleton }, bytes);
  }

  /** The run's weights of one layer message, read back from its chunks. */
  tensors(layer: LayerMessage): LayerTensors | undefined {
    const probs = this.chunkBytes('probs', layerKey(layer));
    if (!probs) return undefined;
    const norms = this.chunkBytes('value-norms', layerKey(layer));
    return {
      probs: unpackLayer(fromFloat16Bits(new Uint16Array(probs.buffer, probs.byteOffset, probs.byteLength / 2)), layer), approximate: true,
      ...(norms && { valueNorms: new Float32Array(norms.buffer, norms.byteOffset, norms.byteLength / 4) }),
    };
  }

  private chunkBytes(content: ReportChunk['content'], key: string): Uint8Array | undefined {
    const at = this.chunks.findIndex((c) => c.part === 'run' && c.content === content && c.key === key);
    if (at < 0) return undefined;
    const { offset, length } = this.places[at];
    const text = Buffer.alloc(length);
    fs.readSync(this.fd, text, 0, length, offset);
    return new Uint8Array(zlib.inflateRawSync(base64ToBytes(text.toString('latin1'))));
  }

  /** The step-by-step view's data of one layer message (its traced stages), for runs of at most REPORT_STEP_DATA_MAX_KEYS keys. */
  addSteps(layer: LayerMessage, stages: readonly { readonly name: TraceStageName; readonly data: Float32Array }[], recipe: StepRecipe): void {
    if (layer.keyLength > REPORT_STEP_DATA_MAX_KEYS) return;
    const values = new Float32Array(stages.reduce((sum, s) => sum + s.data.length, 0));
    stages.reduce((at, s) => (values.set(s.data, at), at + s.data.length), 0);
    const listed = stages.map((s) => ({ name: s.name, length: s.data.length }));
    this.addChunk({ part: 'run', key: layerKey(layer), content: 'steps', encoding: 'f32-deflate-raw', stages: listed, recipe }, values);
  }

  private addChunk(chunk: Omit<ReportChunk, 'element'>, values: Float32Array | Uint16Array | Uint8Array): void {
    const deflated = zlib.deflateRawSync(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    const element = `attention-chunk-${this.chunks.length}`;
    const open = `<script id="${element}" type="application/octet-stream">`, text = bytesToBase64(deflated);
    this.scratchEnd += fs.writeSync(this.fd, open, this.scratchEnd);
    this.places.push({ offset: this.scratchEnd, length: text.length });
    this.scratchEnd += fs.writeSync(this.fd, `${text}</script>\n`, this.scratchEnd);
    this.chunks.push({ ...chunk, element });
  }

  /** Writes the page to `file`; resolves to its size in bytes. `sinks`: the run's, when its analysis was added. */
  write(file: string, messages: readonly ReplayMessage[], assets: ReportAssets, title: string, baseline?: readonly RunMessage[], sinks?: ReportData['sinks']): number {
    const data: ReportData = { version: REPORT_VERSION, messages, ...(baseline && { baseline }), chunks: this.chunks, ...(sinks && { sinks }) };
    const json = JSON.stringify(data).replace(/</g, '\\u003c');
    const script = scriptSafe(assets.script);
    const csp = `default-src 'none'; script-src ${sha256(script)}; style-src ${sha256(assets.css)}; img-src data: blob:`;
    const head = [
      '<!DOCTYPE html>',
      '<html lang="en">',
      '<head>',
      '<meta charset="utf-8">',
      `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
      '<meta name="viewport" content="width=device-width, initial-scale=1">',
      `<title>${escapeHtml(title)}</title>`,
      `<style>${assets.css}</style>`,
      '</head>',
      '<body>',
      '<div id="app" data-state="idle" data-token-count="0" data-layers-received="0"></div>',
      `<script id="${REPORT_DATA_ID}" type="application/json">${json}</script>`,
      '',
    ].join('\n');
    const out = fs.openSync(file, 'w');
    try {
      fs.writeSync(out, head);
      const buffer = Buffer.alloc(4 * 2 ** 20);
      for (let at = 0, read; (read = fs.readSync(this.fd, buffer, 0, buffer.length, at)) > 0; at += read) fs.writeSync(out, buffer, 0, read);
      fs.writeSync(out, `<script>${script}</script>\n</body>\n</html>\n`);
    } finally {
      fs.closeSync(out);
    }
    return fs.statSync(file).size;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    fs.closeSync(this.fd);
    fs.rmSync(path.dirname(this.scratch), { recursive: true, force: true });
  }
}
