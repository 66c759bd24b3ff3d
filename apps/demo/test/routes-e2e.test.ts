// The demo's compute routes in headless Chromium: the WebAssembly kernels (predictions; the default), ONNX Runtime
// Web (OnnxEngine on onnxruntime-web) and TF.js give the same predictions and MEI steps on the bundled model. Serves apps/demo/dist (made by
// `pnpm build`) on 127.0.0.1 with the cross-origin isolation headers the demo's servers send, so ONNX Runtime runs
// with WebAssembly threads. Skipped like e2e.test.ts: only when /usr/bin/chromium is missing outside CI.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relativeError } from '@openretina/test-utils/fixtures';

const distDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const haveChromium = existsSync(CHROMIUM);
const skip = !haveChromium && !inCi;
if (skip) console.warn(`[demo routes] SKIPPED: ${CHROMIUM} not found and not in CI (install it with: apt-get install -y chromium).`);

/** The parity tolerance of the ONNX engine's tests (packages/onnx/test): max |difference| ÷ max |reference|. */
const TOL = 1e-5;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};
// What apps/demo/vite.config.ts's dev and preview servers send.
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

function serve(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let file = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (!file.startsWith(root + sep) && file !== root) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', ...ISOLATION });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve({ server, url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/` });
    }),
  );
}

interface DemoApi {
  predictOnRoute(route: string, frames: number): Promise<{ data: number[]; frames: number; neurons: number }>;
  meiOnRoute(route: string, neuron: number, steps: number): Promise<{ objectives: number[]; stimulus: number[] }>;
}

describe.skipIf(skip)('the demo’s compute routes in headless Chromium', () => {
  let server: Server;
  let url: string;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(join(distDir, 'index.html'))) {
      throw new Error(`${distDir}/index.html is missing: build the site first (pnpm build, or pnpm --filter @openretina/demo build).`);
    }
    if (!haveChromium) throw new Error(`CI is set but ${CHROMIUM} is missing: install it with apt-get install -y chromium (see .ci/run).`);
    ({ server, url } = await serve(distDir));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('response', (r) => {
      if (r.status() >= 400) errors.push(`HTTP ${r.status()} for ${r.url()}`);
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  it('starts on the kernels (MEIs on ONNX Runtime Web with threads when isolated), matches TF.js on predictions and MEI steps, and switches routes', async () => {
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.selftest !== undefined || document.body.dataset.ready === 'error', undefined, {
      timeout: 150_000,
    });
    expect(await page.evaluate(() => document.body.dataset.ready)).toBe('true');
    const status = page.locator('#route-status');
    const route = await status.evaluate((e) => ({ ...(e as HTMLElement).dataset, text: e.textContent }) as Record<string, string>);
    console.log(`[demo routes] ${route.text}`);
    expect(route.route).toBe('kernels');
    expect(route.provider).toBe('wasm-simd');
    expect(route.text).toMatch(/Predictions: WebAssembly SIMD kernels .*; MEIs: ONNX Runtime Web/);
    expect(route.isolated).toBe('true');
    // ONNX Runtime Web (the MEIs): one thread per core (headless Chromium without a GPU has no WebGPU adapter)
    expect(Number(route.threads)).toBe(await page.evaluate(() => navigator.hardwareConcurrency));

    // A 150-frame prediction (the bundled natural movie, session_2) on every route.
    const [kernels, onnx, tfjs] = await page.evaluate(async () => {
      const demo = (globalThis as unknown as { openretinaDemo: DemoApi }).openretinaDemo;
      return [await demo.predictOnRoute('kernels', 150), await demo.predictOnRoute('onnx', 150), await demo.predictOnRoute('tfjs', 150)];
    });
    for (const r of [kernels, onnx, tfjs]) expect([r.frames, r.neurons]).toEqual([120, 32]);
    for (const [name, r] of [
      ['the kernels', kernels],
      ['ONNX Runtime Web', onnx],
    ] as const) {
      const predictError = relativeError(r.data, tfjs.data);
      console.log(`[demo routes] prediction, ${name} vs TF.js: rel. error ${predictError.toExponential(2)}`);
      expect(predictError).toBeLessThan(TOL);
    }
    expect(Math.max(...tfjs.data)).toBeGreaterThan(0); // not an all-zero agreement

    // Three MEI iterations from the same start: the objectives and the stimulus agree.
    const [meiOnnx, meiTfjs] = await page.evaluate(async () => {
      const demo = (globalThis as unknown as { openretinaDemo: DemoApi }).openretinaDemo;
      return [await demo.meiOnRoute('onnx', 7, 3), await demo.meiOnRoute('tfjs', 7, 3)];
    });
    const objectiveError = relativeError(meiOnnx.objectives, meiTfjs.objectives);
    const stimulusError = relativeError(meiOnnx.stimulus, meiTfjs.stimulus);
    console.log(
      `[demo routes] 3 MEI iterations: objectives ${meiTfjs.objectives.map((o) => o.toFixed(4)).join(', ')}; rel. error objectives ${objectiveError.toExponential(2)}, stimulus ${stimulusError.toExponential(2)}`,
    );
    expect(meiTfjs.objectives[2]!).toBeGreaterThan(meiTfjs.objectives[0]!);
    expect(objectiveError).toBeLessThan(TOL);
    expect(stimulusError).toBeLessThan(TOL);

    // The toggle: TF.js, and the responses are recomputed there; then back.
    const points = page.locator('#responses');
    await page.selectOption('#route', 'tfjs');
    await page.waitForFunction(() => document.querySelector('#route-status')?.getAttribute('data-route') === 'tfjs');
    expect(await status.textContent()).toMatch(/TF\.js/);
    expect(Number(await points.getAttribute('data-points'))).toBeGreaterThan(0);
    await page.selectOption('#route', 'onnx');
    await page.waitForFunction(() => document.querySelector('#route-status')?.getAttribute('data-route') === 'onnx');
    expect(await status.textContent()).toMatch(/Predictions and MEIs: ONNX Runtime Web/);
    await page.selectOption('#route', 'kernels');
    await page.waitForFunction(() => document.querySelector('#route-status')?.getAttribute('data-route') === 'kernels');
    expect(Number(await points.getAttribute('data-points'))).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  }, 240_000);
});
