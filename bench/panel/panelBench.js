#!/usr/bin/env node
/**
 * Frame times of the attention panel at 128, 1,024 and 2,048 tokens (goal: ≤ 16 ms at 1,024).
 *
 * For each size the CLI writes a standalone report of the built-in causal demo model (8 heads, so
 * 8 · T² weights), which headless Debian Chromium opens from disk. In the page, synthetic events go
 * through the panel's real handlers: hover and click-to-lock a query token in the head view, scroll
 * the (virtualized) head view, hover cells of the matrix view. For each event:
 *   work   = from dispatch until the handlers ran and style and layout were forced (what the panel costs),
 *   frame  = from dispatch until the next animation frame has run (includes waiting for vsync).
 * Medians and 95th percentiles; results also go to test-output/bench/panel.json.
 *
 * Run: npm run bench:panel  (needs /usr/bin/chromium and a build: the script runs `npm run build`).
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(ROOT, 'test-output', 'bench');
const CHROMIUM = '/usr/bin/chromium';
const SIZES = [128, 1024, 2048];
const SAMPLES = 60;
const GOAL_MS = 16;

/** N demo tokens: the demo tokenizer makes one token per word. */
function text(tokens) {
  const words = ['the', 'rain', 'was', 'heavy', 'that', 'day', 'he', 'waited', 'long', 'for', 'her', 'and', 'the', 'water', 'soaked', 'his', 'coat'];
  return Array.from({ length: tokens }, (_, i) => words[(i * 7 + (i >> 3)) % words.length]).join(' ');
}

function buildReport(tokens, dir) {
  const input = path.join(dir, `text-${tokens}.txt`);
  const report = path.join(dir, `panel-${tokens}.html`);
  fs.writeFileSync(input, text(tokens));
  const started = Date.now();
  execFileSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'inspect', '--model', 'demo-causal', '--text-file', input, '--backend', 'cpu', '--html', report], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { report, engineMs: Date.now() - started, bytes: fs.statSync(report).size };
}

/** Runs in the page: dispatches each event through the panel's handlers and times it. */
function measureInPage({ kind, samples }) {
  const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve(performance.now())));
  const scroll = document.querySelector('.hv-scroll');
  const overlay = document.querySelector('.mv-overlay');
  const count = Number(document.getElementById('app').dataset.tokenCount);
  const at = (i) => Math.floor(((i + 0.5) * count) / samples);
  const event = (i) => {
    switch (kind) {
      case 'hover': {
        const row = at(i);
        const token = document.getElementById(`main-query-${row}`);
        return () => token.dispatchEvent(new PointerEvent('pointerover', { bubbles: true }));
      }
      case 'lock': {
        const token = document.getElementById(`main-query-${at(i)}`);
        return () => token.dispatchEvent(new MouseEvent('click', { bubbles: true }));
      }
      case 'scroll':
        return () => {
          scroll.scrollTop = (i * scroll.scrollHeight) / samples;
          scroll.dispatchEvent(new Event('scroll'));
        };
      case 'matrix-hover': {
        const box = overlay.getBoundingClientRect();
        const x = box.width * (0.1 + (0.8 * i) / samples), y = box.height * (0.9 - (0.8 * i) / samples);
        return () => overlay.dispatchEvent(new PointerEvent('pointermove', { bubbles: true, clientX: box.left + x, clientY: box.top + y }));
      }
    }
    throw new Error(kind);
  };
  return (async () => {
    const work = [], frame = [];
    for (let i = 0; i < samples; i++) {
      if (kind === 'hover' || kind === 'lock') {
        // Bring the token into view first (untimed), as a user would scroll to it.
        scroll.scrollTop = Math.max(0, at(i) * 20 - scroll.clientHeight / 2);
        scroll.dispatchEvent(new Event('scroll'));
        await nextFrame();
      }
      const fire = event(i);
      await nextFrame();
      const t0 = performance.now();
      fire();
      void document.body.offsetHeight; // force style and layout: part of the cost of this frame
      work.push(performance.now() - t0);
      frame.push((await nextFrame()) - t0);
    }
    return { work, frame };
  })();
}

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { median: +q(0.5).toFixed(2), p95: +q(0.95).toFixed(2), max: +sorted[sorted.length - 1].toFixed(2) };
}

async function main() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium`);
  fs.mkdirSync(OUT, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-panel-bench-'));
  const profile = path.join(dir, 'profile');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const results = [];
  try {
    for (const tokens of SIZES) {
      const { report, engineMs, bytes } = buildReport(tokens, dir);
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const loadStart = Date.now();
      await page.goto(`file://${report}`);
      await page.waitForSelector('#app[data-state="done"]', { timeout: 120_000 });
      const loadMs = Date.now() - loadStart;
      const row = { tokens, reportMB: +(bytes / 1e6).toFixed(1), engineMs, loadMs, views: {} };
      for (const kind of ['hover', 'lock', 'scroll']) {
        row.views[kind] = await page.evaluate(measureInPage, { kind, samples: SAMPLES });
      }
      await page.click('#tab-matrix');
      await page.waitForSelector('.mv-overlay');
      row.views['matrix-hover'] = await page.evaluate(measureInPage, { kind: 'matrix-hover', samples: SAMPLES });
      if (errors.length) throw new Error(`page errors at ${tokens} tokens: ${errors.join('; ')}`);
      await page.close();
      for (const [kind, m] of Object.entries(row.views)) row.views[kind] = { work: stats(m.work), frame: stats(m.frame) };
      results.push(row);
      print(row);
    }
  } finally {
    await context.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  fs.writeFileSync(path.join(OUT, 'panel.json'), JSON.stringify({ chromium: CHROMIUM, cpus: os.cpus().length, results }, null, 1) + '\n');
  const at1024 = results.find((r) => r.tokens === 1024);
  const worst = Math.max(...Object.values(at1024.views).map((v) => v.work.p95));
  console.log(`\n1,024 tokens: worst p95 work ${worst.toFixed(1)} ms, goal ≤ ${GOAL_MS} ms: ${worst <= GOAL_MS ? 'met' : 'NOT met'}`);
  console.log(`results: ${path.relative(process.cwd(), path.join(OUT, 'panel.json'))}`);
}

function print(row) {
  console.log(`\n${row.tokens} tokens (report ${row.reportMB} MB, engine ${row.engineMs} ms, open to done ${row.loadMs} ms)`);
  console.log('  event          work median / p95 / max (ms)    next frame median / p95 (ms)');
  for (const [kind, m] of Object.entries(row.views)) {
    console.log(`  ${kind.padEnd(13)}  ${String(m.work.median).padStart(6)} / ${String(m.work.p95).padStart(6)} / ${String(m.work.max).padStart(6)}        ${String(m.frame.median).padStart(6)} / ${String(m.frame.p95).padStart(6)}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
