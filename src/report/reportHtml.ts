/**
 * The standalone report: one HTML file with the panel's bundle, its stylesheet and the run inlined
 * (matrices as base64 float32), so it opens offline in any browser and shows the same views. The
 * inline script and style are allowed by their SHA-256 hashes (not nonces: browsers hide nonces from
 * the DOM, and the report's "Save HTML" writes its own DOM back out).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { DATA_ELEMENT_ID, encodeRunMessages } from '../protocol/codec';
import type { ReplayMessage } from '../protocol/messages';

/** Above this many tokens the step-by-step data (scores, q, k, v) is left out: it would double the file. */
const REPORT_STEP_DATA_MAX_TOKENS = 512;

export interface ReportAssets {
  readonly script: string;
  readonly css: string;
}

/** The panel's stylesheets, in order (the webview links them; the report inlines them as one). */
export const PANEL_STYLESHEETS = ['panel.css', 'steps-and-diff.css'];

/** Reads the built bundle and stylesheets from the extension's (or repository's) media folder. */
export function loadReportAssets(root: string): ReportAssets {
  const read = (name: string) => {
    const file = path.join(root, 'media', name);
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: run "npm run build" to build the panel before writing a report.`);
    return fs.readFileSync(file, 'utf8');
  };
  return { script: read('webview.js'), css: PANEL_STYLESHEETS.map(read).join('\n') };
}

function withoutLargeStepData(message: ReplayMessage): ReplayMessage {
  if (message.type !== 'layer' || message.keyLength <= REPORT_STEP_DATA_MAX_TOKENS) return message;
  const { scores: _s, q: _q, k: _k, v: _v, headOutputs: _o, ...rest } = message;
  return rest;
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

export function reportHtml(messages: readonly ReplayMessage[], assets: ReportAssets, title: string): string {
  const data = encodeRunMessages(messages.map(withoutLargeStepData)).replace(/</g, '\\u003c');
  const script = scriptSafe(assets.script);
  const csp = `default-src 'none'; script-src ${sha256(script)}; style-src ${sha256(assets.css)}; img-src data: blob:`;
  return [
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
    `<script id="${DATA_ELEMENT_ID}" type="application/json">${data}</script>`,
    `<script>${script}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

export function writeReport(file: string, messages: readonly ReplayMessage[], assetsRoot: string, title: string): string {
  const target = path.resolve(file);
  fs.writeFileSync(target, reportHtml(messages, loadReportAssets(assetsRoot), title));
  return target;
}
