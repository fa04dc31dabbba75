/** Entry point of the panel's script (bundled to media/webview.js), in VS Code and in the standalone report. */
import { App } from './app';
import { createTransport } from './transport';

const root = document.getElementById('app');
if (!root) throw new Error('The page has no #app element.');
try {
  const transport = createTransport();
  window.addEventListener('error', (e) => transport.post({ type: 'webview-error', message: String(e.error?.stack ?? e.message) }));
  new App(root, transport);
} catch (err) {
  root.dataset.state = 'error';
  root.textContent = `The attention panel could not start: ${err instanceof Error ? err.message : String(err)}`;
}
