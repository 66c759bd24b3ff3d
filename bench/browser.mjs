// The browser benchmark (issue 18, item 4): the built demo (apps/demo/dist) served on 127.0.0.1 with cross-origin
// isolation, driven in Debian's headless Chromium with playwright-core (no browser download). In the page, on the
// bundled model (session_2), every compute route times a prediction of a 150-frame stimulus and one MEI iteration
// (default preset), medians after warm-up: the WebAssembly kernels of @openretina/wasm-predictor (the demo's default
// for predictions; their route takes its MEIs to ONNX Runtime), ONNX Runtime Web (WebGPU when the browser has an
// adapter, else WebAssembly SIMD with one thread per core) and TF.js (webgl where a GPU draws WebGL, else wasm — here
// wasm: headless Chromium draws WebGL with SwiftShader, which the demo passes over — for predictions, wasm for
// MEIs: the demo's path before ONNX Runtime). Prints them with the speed-up and the machine load, and appends a row
// to bench/BROWSER.md's table, which `pnpm bench` (bench/run.mjs, which runs this script) puts into
// bench/RESULTS.md; run alone, it also refreshes that section of RESULTS.md.
// Usage: node bench/browser.mjs [--no-write]. Needs `pnpm build` (the site) and /usr/bin/chromium (CHROMIUM_PATH
// points elsewhere). Environment: BENCH_BROWSER_RUNS (default 25), BENCH_BROWSER_WARMUP (default 15),
// BENCH_BROWSER_FRAMES (default 150).
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { ROOT } from './lib.mjs';
import { ratioText } from './targets.mjs';

const DIST = join(ROOT, 'apps', 'demo', 'dist');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// 25 by default: with 7 medians the quiet ratio moved between 1.55 and 3.16 from run to run (bench/ANALYSIS.md)
const RUNS = Number(process.env.BENCH_BROWSER_RUNS ?? 25);
const FRAMES = Number(process.env.BENCH_BROWSER_FRAMES ?? 150);
// 15 by default since 2026-12-06 20:00 (2 before): V8 runs a page's WebAssembly on its baseline compiler first and
// optimises the hot functions only after some use; onnxruntime-web's kernels took ~24-31 ms per prediction for their
// first ~11 runs, then ~9 (bench/BROWSER.md), so a median after 2 warm-up runs mixed both tiers.
const WARMUP = Number(process.env.BENCH_BROWSER_WARMUP ?? 15);
const TABLE = join(ROOT, 'bench', 'BROWSER.md');
const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const write = !process.argv.includes('--no-write');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};
// What the demo's dev and preview servers send (apps/demo/vite.config.ts): ONNX Runtime's threads need them.
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

function serve(root) {
  const server = createServer((req, res) => {
    let file = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!file.startsWith(root + sep) && file !== root) return res.writeHead(403).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) return res.writeHead(404).end('not found');
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', ...ISOLATION });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}/` })),
  );
}

function skip(reason) {
  console.log(`[browser bench] SKIPPED: ${reason}`);
  process.exit(0);
}

if (!existsSync(join(DIST, 'index.html'))) skip(`${DIST}/index.html is missing: build the site first (pnpm build).`);
if (!existsSync(CHROMIUM)) skip(`${CHROMIUM} not found (apt-get install -y chromium, or set CHROMIUM_PATH).`);
// playwright-core is the demo's devDependency (its Chromium tests use it); resolved from there.
const { chromium } = createRequire(join(ROOT, 'apps', 'demo', 'package.json'))('playwright-core');

const loadBefore = loadavg();
const { server, url } = await serve(DIST);
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
let result;
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.selftest !== undefined || document.body.dataset.ready === 'error', undefined, {
    timeout: 180_000,
  });
  if ((await page.evaluate(() => document.body.dataset.ready)) !== 'true') throw new Error(`the demo did not start: ${errors.join('; ')}`);
  const route = await page.locator('#route-status').evaluate((e) => ({ ...e.dataset, text: e.textContent }));
  const tfjsBackends = await page.locator('#backend-status').evaluate((e) => ({ ...e.dataset }));
  const timings = await page.evaluate(({ frames, runs, warmup }) => globalThis.openretinaDemo.timeRoutes({ frames, runs, warmup }), {
    frames: FRAMES,
    runs: RUNS,
    warmup: WARMUP,
  });
  result = { route, tfjsBackends, timings, chromium: browser.version(), errors };
} finally {
  await browser.close();
  server.close();
}
const loadAfter = loadavg();

const { tfjs, onnx, onnxUnavailable, kernels, kernelsUnavailable } = result.timings;
const r = (x) => (x === undefined ? '—' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const provider =
  result.route.provider === 'webgpu'
    ? 'WebGPU'
    : `wasm SIMD, ${result.route.threads} threads${result.route.isolated === 'true' ? '' : ', not isolated'}`;
const tfjsWhere = `${result.tfjsBackends.display} / ${result.tfjsBackends.mei}`;
console.log(
  `[browser bench] Chromium ${result.chromium}; ONNX Runtime Web: ${onnx ? provider : `unavailable (${onnxUnavailable})`}; TF.js: ${tfjsWhere} (predictions / MEIs)`,
);
if (!kernels) console.log(`[browser bench] WebAssembly kernels: unavailable (${kernelsUnavailable})`);
console.log(
  `[browser bench] load average before ${loadBefore.map((x) => x.toFixed(2)).join(' / ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' / ')}`,
);
console.log(
  `| figure (medians of ${RUNS} after ${WARMUP} warm-up) | TF.js ms | ONNX Runtime Web ms | speed-up (TF.js ÷ ONNX) | kernels ms | speed-up (TF.js ÷ kernels) |`,
);
console.log(
  `| prediction, ${FRAMES} frames | ${r(tfjs.predict_ms)} | ${r(onnx?.predict_ms)} | ${ratioText(tfjs.predict_ms, onnx?.predict_ms)} | ${r(kernels?.predict_ms)} | ${ratioText(tfjs.predict_ms, kernels?.predict_ms)} |`,
);
console.log(
  `| MEI iteration | ${r(tfjs.mei_iteration_ms)} | ${r(onnx?.mei_iteration_ms)} | ${ratioText(tfjs.mei_iteration_ms, onnx?.mei_iteration_ms)} | (ONNX Runtime) | |`,
);

const row = `| ${new Date().toISOString().slice(0, 16).replace('T', ' ')} | Chromium ${result.chromium.split('.')[0]}, ${cpus().length} cores | ${onnx ? provider : 'unavailable'} | ${tfjsWhere} | ${r(tfjs.predict_ms)} | ${r(onnx?.predict_ms)} | **${ratioText(tfjs.predict_ms, onnx?.predict_ms)}** | ${r(kernels?.predict_ms)} | **${ratioText(tfjs.predict_ms, kernels?.predict_ms)}** | ${r(tfjs.mei_iteration_ms)} | ${r(onnx?.mei_iteration_ms)} | **${ratioText(tfjs.mei_iteration_ms, onnx?.mei_iteration_ms)}** | ${loadBefore[0].toFixed(2)} |`;
const jsonOut = process.env.BENCH_BROWSER_JSON;
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ ...result, loadavg_before: loadBefore, loadavg_after: loadAfter, row }, null, 1));
if (!write) process.exit(0);

/** Writes `text` to `file` through a temporary file and a rename (no half-written file). */
function writeAtomic(file, text) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** The markdown table at the end of `text` with its columns padded to equal widths (as the formatter leaves it). */
function alignLastTable(text) {
  const lines = text.split('\n');
  let start = lines.length;
  while (start > 0 && lines[start - 1].startsWith('|')) start--;
  const rows = lines.slice(start).map((l) =>
    l
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim()),
  );
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => (/^-+$/.test(r[j]) ? 3 : r[j].length))));
  const out = rows.map((r) => `| ${r.map((c, j) => (/^-+$/.test(c) ? '-'.repeat(widths[j]) : c.padEnd(widths[j]))).join(' | ')} |`);
  return [...lines.slice(0, start), ...out].join('\n');
}

// bench/BROWSER.md keeps every run: a row appended to its table.
const table = readFileSync(TABLE, 'utf8').trimEnd();
writeAtomic(TABLE, `${alignLastTable(`${table}\n${row}`)}\n`);
// Run alone: bench/RESULTS.md's browser section (everything from BROWSER.md's heading to the next section) follows.
if (!process.env.BENCH_FROM_RUN && existsSync(RESULTS)) {
  const section = readFileSync(TABLE, 'utf8').trimEnd();
  const heading = section.split('\n', 1)[0];
  const results = readFileSync(RESULTS, 'utf8');
  const start = results.indexOf(`${heading}\n`);
  let updated;
  if (start < 0) updated = `${results.trimEnd()}\n\n${section}\n`;
  else {
    const next = results.indexOf('\n## ', start + heading.length);
    updated = `${results.slice(0, start)}${section}\n${next < 0 ? '' : results.slice(next)}`;
  }
  writeAtomic(RESULTS, updated);
}
console.log(`[browser bench] appended to ${TABLE}${process.env.BENCH_FROM_RUN ? '' : ' and bench/RESULTS.md'}`);
