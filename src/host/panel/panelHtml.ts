/**
 * The panel's HTML, from this one function: a strict Content Security Policy (nothing but the bundle,
 * allowed by a fresh nonce, and the stylesheets from the extension's media folder), and the root element
 * whose data-* attributes the integration tests read.
 */
import { randomBytes } from 'crypto';
import * as vscode from 'vscode';
import { PANEL_STYLESHEETS } from '../../report/reportHtml';

export function panelHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const media = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', name));
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data: blob:`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
${PANEL_STYLESHEETS.map((name) => `<link rel="stylesheet" href="${media(name)}">`).join('\n')}
<title>Attention</title>
</head>
<body>
<div id="app" data-state="idle" data-token-count="0" data-layers-received="0"></div>
<script nonce="${nonce}" src="${media('webview.js')}"></script>
</body>
</html>`;
}

/** Only the media folder is readable by the webview. */
export function panelOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')] };
}
