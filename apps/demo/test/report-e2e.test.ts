// A training report in Chromium: one tiny training run (CLI's runTraining on a small synthetic dataset) writes
// report.html; the page is served with the built demo on 127.0.0.1, checked for its sections and for fitting 1280 px
// without sideways scrolling, saved as a screenshot (test-output/report.png), and its "open in the demo" link must
// open the run's model in the demo. Skipped like e2e.test.ts when Chromium is missing outside CI.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTraining, type CliIO } from '@openretina/cli';
import { generateSyntheticData } from '@openretina/data-io';
import { writeHdf5Dataset } from '@openretina/data-io/node';

const here = dirname(fileURLToPath(import.meta.url));
const appDir = join(here, '..');
const distDir = join(appDir, 'dist');
const outDir = join(appDir, 'test-output');
const runDir = join(outDir, 'report-run');
const dataDir = join(outDir, 'report-data');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const skip = !existsSync(CHROMIUM) && !inCi;
if (skip) console.warn(`[report e2e] SKIPPED: ${CHROMIUM} not found and not in CI (install it with: apt-get install -y chromium).`);

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

/** Serves the demo under /demo/ and the run folder under /run/ (one origin, as a lab's web server would). */
function serve(): Promise<{ server: Server; url: string }> {
  const roots: Record<string, string> = { '/demo/': distDir, '/run/': runDir };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const prefix = Object.keys(roots).find((p) => path.startsWith(p));
    if (!prefix) {
      res.writeHead(404).end();
      return;
    }
    const root = roots[prefix]!;
    let file = normalize(join(root, path.slice(prefix.length)));
    if (!file.startsWith(root + sep) && file !== root) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve({ server, url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` });
    }),
  );
}

const quiet: CliIO = { out: () => {}, err: () => {} };

describe.skipIf(skip)('report.html in headless Chromium', () => {
  let server: Server;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(join(distDir, 'index.html'))) throw new Error(`${distDir}/index.html is missing: build the site first (pnpm build).`);
    mkdirSync(outDir, { recursive: true });
    rmSync(runDir, { recursive: true, force: true });
    // a small dataset: 2 sessions, 2 colour channels at 18×16 (the demo's frame limits), a test movie
    const synthetic = generateSyntheticData({ numColors: 2, numStimuli: 2, numSessions: 2, clipLength: 4, height: 18, width: 16, seed: 3 });
    const rename = (name: string) => (name === 'random_noise_1' ? 'test_movie' : name);
    await writeHdf5Dataset(dataDir, {
      stimuli: Object.fromEntries(Object.entries(synthetic.stimuli).map(([k, v]) => [rename(k), v])),
      sessions: Object.fromEntries(
        Object.values(synthetic.sessions).map((v, i) => [
          `session_${i + 1}`,
          { responses: Object.fromEntries(Object.entries(v.responses).map(([k, r]) => [rename(k), r])), sessionInfo: v.sessionInfo },
        ]),
      ),
      extension: '.h5',
    });
    await runTraining(
      'hdf5',
      [
        `paths.data_dir=${dataDir}`,
        'data_io.test_names=[test_movie]',
        'data_io.color_channels=2',
        'data_io.video_height=18',
        'data_io.video_width=16',
        'model.hidden_channels=[4,4]',
        'model.core.temporal_kernel_sizes=[5,3]',
        'model.core.spatial_kernel_sizes=[5,3]',
        'model.in_shape=[2,30,18,16]',
        'dataloader.batch_size=4',
        'dataloader.clip_length=30',
        'dataloader.train_chunk_size=20',
        'dataloader.num_val_clips=2',
        'trainer.max_epochs=2',
        '++trainer.limit_train_batches=2',
        `paths.output_dir=${runDir}`,
      ],
      { backend: 'cpu', progress: 'none', reportMeis: 1, demoUrl: '/demo/', io: quiet },
    );
    ({ server, url: base } = await serve());
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  it('has every section, fits 1280 px without sideways scrolling, and opens the run’s model in the demo', async () => {
    const errors: string[] = [];
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('response', (r) => {
      if (r.status() >= 400) errors.push(`HTTP ${r.status()} for ${r.url()}`);
    });
    await page.goto(`${base}/run/report.html`);
    // no horizontal scrolling at 1280 px
    const widths = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth,
    }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    for (const id of [
      'summary',
      'epoch-convention',
      'test-metrics',
      'curves',
      'traces-test_movie',
      'correlation-test_movie',
      'worst-test_movie',
      'filters',
      'readouts',
      'meis',
      'open-in-demo',
    ])
      expect(await page.locator(`#${id}`).count(), id).toBe(1);
    // one epoch convention: the kept epoch in the summary is metrics.json's 0-based best.epoch + 1, with the same score
    const metrics = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8')) as {
      best: { epoch: number; score: number };
      exp_name: string;
    };
    const summary = (await page.locator('#summary').textContent()) ?? '';
    expect(summary).toContain(`Kept checkpoint: epoch ${metrics.best.epoch + 1} (val_evaluation_loss ${metrics.best.score.toFixed(5)})`);
    // no NaN anywhere; the missing noise ceiling is said in words
    expect(await page.locator('body').textContent()).not.toMatch(/NaN/);
    expect(await page.locator('#noise-ceiling-test_movie').textContent()).toMatch(/only the trial-averaged test responses/);
    // traces: best, median and worst neuron, each predicted and recorded
    expect(await page.locator('#traces-test_movie path[data-points]').count()).toBe(6);
    // every map figure carries a colour scale
    expect(await page.locator('#filters .colorbar').count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#meis .colorbar').count()).toBe(1);
    await page.screenshot({ path: join(outDir, 'report.png'), fullPage: true });

    await Promise.all([page.waitForURL(/\/demo\/\?model=/), page.click('#open-in-demo')]);
    await page.waitForFunction(() => document.body.dataset.ready !== undefined, undefined, { timeout: 90_000 });
    expect(await page.evaluate(() => document.body.dataset.ready)).toBe('true');
    expect(await page.locator('#model-name').getAttribute('data-source')).toBe('url');
    expect(await page.locator('#model-name').textContent()).toBe(metrics.exp_name);
    expect(await page.locator('#messages li.note').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/Loaded the model from http:\/\/127\.0\.0\.1:\d+\/run\/checkpoints\/final\//)]),
    );
    expect(Number(await page.locator('#responses').getAttribute('data-points'))).toBeGreaterThan(0);
    await page.screenshot({ path: join(outDir, 'report-opened-in-demo.png'), fullPage: false });
    expect(errors).toEqual([]);
  }, 180_000);
});
