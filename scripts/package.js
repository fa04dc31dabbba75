#!/usr/bin/env node
// npm run package [-- --target T ...] [--out DIR]
//
// Builds what a user installs, into dist-packages/ (or --out):
// - one .vsix per VS Code target for which both native packages ship a binary, each with only that
//   platform's tokenizers binary and Dawn folder;
// - a universal .vsix without Dawn, carrying every platform's tokenizers binary: VS Code installs it where no
//   platform package exists, and it runs on the CPU backend, saying so;
// - the npm tarball of the CLI, installed into a scratch prefix and run (`attention-inspector demo` in an
//   empty folder) to prove that it works as an installed command.
// `--target linux-x64` (repeatable; `universal` names the fallback and `npm` the tarball) builds only those.
//
// Each .vsix is staged from an allowlist (the production bundles, media, l10n, manifest, user README,
// CHANGELOG, LICENSE and the native files) and packed by @vscode/vsce, which writes the manifest and
// the zip layout VS Code and the Marketplace expect. The native packages go to dist/node_modules/, beside the
// bundles that require them: vsce packs the staged folder as it is (no npm dependency walk), and Node finds
// them from dist/*.js first.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const vsce = require('@vscode/vsce');

const ROOT = path.resolve(__dirname, '..');
const MAX_VSIX_BYTES = 25e6;
const USER_README_END = '## For contributors';

/**
 * VS Code's targets and the native builds each one loads: `tokenizers.<tokenizer>.node` (picked by
 * tokenizers/index.js from platform, arch and libc) and webgpu's `dist/<dawn>/` (picked by webgpu/index.js
 * from platform and arch; `universal` on macOS). Whether a build really ships is read from the packages.
 */
const TARGETS = [
  { target: 'linux-x64', tokenizer: 'linux-x64-gnu', dawn: 'linux-x64' },
  { target: 'linux-arm64', tokenizer: 'linux-arm64-gnu', dawn: 'linux-arm64' },
  { target: 'linux-armhf', tokenizer: 'linux-arm-gnueabihf', dawn: 'linux-arm' },
  // webgpu/index.js would load the glibc linux-x64 build on Alpine too, which cannot load on musl.
  { target: 'alpine-x64', tokenizer: 'linux-x64-musl', dawn: null, noDawnWhy: 'webgpu ships glibc builds only' },
  { target: 'alpine-arm64', tokenizer: 'linux-arm64-musl', dawn: null, noDawnWhy: 'webgpu ships glibc builds only' },
  { target: 'darwin-x64', tokenizer: 'darwin-x64', dawn: 'darwin-universal' },
  { target: 'darwin-arm64', tokenizer: 'darwin-arm64', dawn: 'darwin-universal' },
  { target: 'win32-x64', tokenizer: 'win32-x64-msvc', dawn: 'win32-x64' },
  { target: 'win32-arm64', tokenizer: 'win32-arm64-msvc', dawn: 'win32-arm64' },
];
const NOT_BUILT = { web: 'VS Code for the Web has no Node extension host, and the engine needs Node (native tokenizer, worker threads)' };

/** Files of the repository that every .vsix carries (besides the bundles, the native files and README.md). */
const STATIC_FILES = ['package.nls.json', 'package.nls.zh-cn.json', 'l10n', 'CHANGELOG.md', 'LICENSE', 'media/icon.png', 'media/icon.svg',
  'media/panel.css', 'media/steps-and-diff.css', 'media/analysis.css', 'media/walkthrough'];

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const manifest = readJson(path.join(ROOT, 'package.json'));
  const natives = { tokenizers: pinnedPackage('tokenizers'), webgpu: pinnedPackage('webgpu') };
  const plan = planTargets(natives);
  const wanted = (name) => !options.targets || options.targets.includes(name);
  for (const name of options.targets ?? []) {
    if (['universal', 'npm'].includes(name) || plan.platform.some((t) => t.target === name)) continue;
    const note = plan.notes.find((n) => n.includes(` ${name} `) || n.includes(` ${name}:`));
    fail(note ? `${note}` : `unknown target "${name}": use one of ${plan.platform.map((t) => t.target).join(', ')}, universal or npm`);
  }

  fs.mkdirSync(options.out, { recursive: true });
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-inspector-package-'));
  const results = [];
  try {
    const bundles = path.join(scratch, 'bundles');
    console.log('== production bundles (esbuild --production)');
    execFileSync(process.execPath, ['esbuild.js', '--production', '--outdir', bundles], { cwd: ROOT, stdio: 'inherit' });
    const readme = userReadme(manifest);
    for (const entry of plan.platform.filter((t) => wanted(t.target))) {
      results.push(await buildVsix({ manifest, natives, bundles, readme, scratch, out: options.out, target: entry.target, tokenizers: [entry.tokenizer], dawn: entry.dawn }));
    }
    if (wanted('universal')) {
      results.push(await buildVsix({ manifest, natives, bundles, readme, scratch, out: options.out, target: undefined, tokenizers: plan.universalTokenizers, dawn: null }));
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }

  const npmResult = wanted('npm') ? packAndTryCli(manifest, options.out) : undefined;

  console.log(`\n== packages (MB = 10^6 bytes; a .vsix may have ${megabytes(MAX_VSIX_BYTES)})`);
  for (const r of results) console.log(`  ${r.name.padEnd(13)} ${megabytes(r.bytes).padStart(8)}  ${path.relative(ROOT, r.file)}  (${r.contents})`);
  if (npmResult) console.log(`  ${'npm (CLI)'.padEnd(13)} ${megabytes(npmResult.bytes).padStart(8)}  ${path.relative(ROOT, npmResult.file)}  (${npmResult.contents})`);
  for (const note of plan.notes) console.log(`  ${note}`);
  const tooBig = results.filter((r) => r.bytes > MAX_VSIX_BYTES);
  if (tooBig.length) fail(`over ${megabytes(MAX_VSIX_BYTES)}: ${tooBig.map((r) => r.name).join(', ')}`);
}

function parseOptions(argv) {
  const options = { targets: undefined, out: path.join(ROOT, 'dist-packages') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--target') (options.targets ??= []).push(argv[++i]);
    else if (argv[i] === '--out') options.out = path.resolve(argv[++i]);
    else fail(`unknown option ${argv[i]}: use --target T (repeatable) and --out DIR`);
  }
  return options;
}

/** A native package as installed, checked against the exact version package-lock.json pins. */
function pinnedPackage(name) {
  const dir = path.join(ROOT, 'node_modules', name);
  const pinned = readJson(path.join(ROOT, 'package-lock.json')).packages[`node_modules/${name}`]?.version;
  const installed = fs.existsSync(path.join(dir, 'package.json')) ? readJson(path.join(dir, 'package.json')).version : undefined;
  if (!pinned) fail(`package-lock.json pins no version of ${name}`);
  if (installed !== pinned) fail(`node_modules/${name} is ${installed ?? 'missing'}, package-lock.json pins ${pinned}: run npm ci`);
  return { name, version: pinned, dir };
}

/** Which targets get their own .vsix, which the universal one serves, and which none can. */
function planTargets({ tokenizers, webgpu }) {
  const platform = [];
  const universalTokenizers = [];
  const notes = [];
  for (const t of TARGETS) {
    const hasTokenizer = fs.existsSync(path.join(tokenizers.dir, `tokenizers.${t.tokenizer}.node`));
    const hasDawn = t.dawn !== null && fs.existsSync(path.join(webgpu.dir, 'dist', t.dawn, 'dawn.node'));
    if (!hasTokenizer) {
      notes.push(`skipped ${t.target}: tokenizers ${tokenizers.version} ships no ${t.tokenizer} binary, and the extension cannot tokenize without it`);
      continue;
    }
    universalTokenizers.push(t.tokenizer);
    if (hasDawn) platform.push(t);
    else notes.push(`no ${t.target} package: webgpu ${webgpu.version} has no Dawn for it (${t.noDawnWhy ?? `no dist/${t.dawn}`}); the universal package serves it, on the CPU`);
  }
  for (const [target, why] of Object.entries(NOT_BUILT)) notes.push(`skipped ${target}: ${why}`);
  return { platform, universalTokenizers, notes };
}

/** The README's part for users (everything above "## For contributors"), pointing contributors to the repository. */
function userReadme(manifest) {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const end = readme.indexOf(`\n${USER_README_END}\n`);
  if (end < 0) fail(`README.md has no "${USER_README_END}" heading: the .vsix README is the part above it`);
  const repository = manifest.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
  return `${readme.slice(0, end).trimEnd()}\n\n## Source and contributing\nSource, issues and the developer guide: ${repository}\n`;
}

async function buildVsix({ manifest, natives, bundles, readme, scratch, out, target, tokenizers, dawn }) {
  const name = target ?? 'universal';
  console.log(`\n== ${name}`);
  const stage = path.join(scratch, name);
  for (const file of ['dist/extension.js', 'dist/engineWorker.js', 'dist/frameWriter.js', 'media/webview.js']) copy(path.join(bundles, file), path.join(stage, file));
  for (const file of STATIC_FILES) copy(path.join(ROOT, file), path.join(stage, file));
  fs.writeFileSync(path.join(stage, 'README.md'), readme);
  // npm's fields mean nothing to VS Code; `files` would even make vsce pack the npm tarball's list.
  const { scripts: _s, devDependencies: _d, files: _f, bin: _b, ...vsixManifest } = manifest;
  fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify(vsixManifest, null, 2) + '\n');
  fs.writeFileSync(path.join(stage, '.vscodeignore'), '# Staged by scripts/package.js: every file here ships.\n');

  const modules = path.join(stage, 'dist', 'node_modules');
  const tok = natives.tokenizers.dir;
  for (const file of ['package.json', 'index.js', 'LICENSE']) copy(path.join(tok, file), path.join(modules, 'tokenizers', file));
  for (const triple of tokenizers) copy(path.join(tok, `tokenizers.${triple}.node`), path.join(modules, 'tokenizers', `tokenizers.${triple}.node`));
  if (dawn) {
    const gpu = natives.webgpu.dir;
    for (const file of ['package.json', 'index.js', 'LICENSE.md']) copy(path.join(gpu, file), path.join(modules, 'webgpu', file));
    copy(path.join(gpu, 'dist', dawn), path.join(modules, 'webgpu', 'dist', dawn));
  }

  const file = path.join(out, `${manifest.name}-${target ? `${target}-` : ''}${manifest.version}.vsix`);
  await vsce.createVSIX({ cwd: stage, packagePath: file, target, dependencies: false });
  return {
    name,
    file,
    bytes: fs.statSync(file).size,
    contents: `tokenizers ${tokenizers.length === 1 ? tokenizers[0] : `for ${tokenizers.length} platforms`}, ${dawn ? `Dawn ${dawn}` : 'no Dawn: CPU backend only'}`,
  };
}

/** `npm pack`, then the tarball installed into a scratch prefix and its command run in an empty folder. */
function packAndTryCli(manifest, out) {
  console.log('\n== npm tarball (the attention-inspector command)');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const [packed] = JSON.parse(execFileSync(npm, ['pack', '--json', '--pack-destination', out], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
  const file = path.join(out, packed.filename);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-inspector-npm-'));
  try {
    const prefix = path.join(scratch, 'prefix');
    const empty = path.join(scratch, 'empty');
    fs.mkdirSync(empty);
    console.log(`installing ${path.basename(file)} into a scratch prefix (npm install -g --prefix …)`);
    execFileSync(npm, ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', file], { cwd: empty, stdio: 'inherit' });
    const command = path.join(prefix, process.platform === 'win32' ? '' : 'bin', Object.keys(manifest.bin)[0]);
    const stdout = execFileSync(command, ['demo'], { cwd: empty, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (!stdout.startsWith('Attention Inspector demo') || !fs.existsSync(path.join(empty, 'attention-demo.html'))) {
      fail(`the installed attention-inspector demo printed something else or wrote no attention-demo.html:\n${stdout}`);
    }
    console.log(`installed command ran: ${stdout.split('\n')[1]}`);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return { file, bytes: fs.statSync(file).size, contents: `${packed.entryCount} files; installed and ran "attention-inspector demo" in an empty folder` };
}

function copy(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.cpSync(from, to, { recursive: true });
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function megabytes(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}

main().catch((err) => fail(err.stack ?? String(err)));
