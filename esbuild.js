// Builds every runtime's bundle: the extension host (CommonJS, Node), the engine worker, the CLI and,
// when present, the webview (IIFE for the browser). Native packages stay external: they ship their own
// per-platform binaries and are loaded from node_modules at run time.
// --production minifies and leaves out source maps; --outdir DIR writes dist/ and media/webview.js under
// DIR instead of here (scripts/package.js builds the .vsix contents that way).
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const outdirFlag = process.argv.indexOf('--outdir');
const outRoot = outdirFlag >= 0 ? process.argv[outdirFlag + 1] : '.';
const nodeExternals = ['vscode', 'webgpu', 'tokenizers'];

/** @type {import('esbuild').BuildOptions[]} */
const builds = [
  { entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js' },
  { entryPoints: ['src/engine/worker/engineWorker.ts'], outfile: 'dist/engineWorker.js' },
  { entryPoints: ['src/engine/worker/frameWriter.ts'], outfile: 'dist/frameWriter.js' },
  { entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
]
  .filter((b) => fs.existsSync(b.entryPoints[0]))
  .map((b) => ({ ...b, platform: 'node', format: 'cjs', target: 'node18', external: nodeExternals }));

if (fs.existsSync('webview/main.ts')) {
  builds.push({ entryPoints: ['webview/main.ts'], outfile: 'media/webview.js', platform: 'browser', format: 'iife', target: 'es2022' });
}

for (const b of builds) b.outfile = path.join(outRoot, b.outfile);

async function main() {
  const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning' };
  if (watch) {
    for (const b of builds) await (await esbuild.context({ ...common, ...b })).watch();
    return;
  }
  await Promise.all(builds.map((b) => esbuild.build({ ...common, ...b })));
  const cli = path.join(outRoot, 'dist', 'cli.js');
  if (fs.existsSync(cli)) fs.chmodSync(cli, 0o755);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
