// End-to-end test of the built site (apps/demo/dist, made by `pnpm build`): serves it on 127.0.0.1 with a tiny static
// server, drives Debian's Chromium with playwright-core, and saves screenshots under apps/demo/test-output/.
// Skipped (with a message) only when /usr/bin/chromium is missing outside CI; in CI (process.env.CI set) it runs,
// and .ci/run installs chromium first.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const appDir = join(here, '..');
const distDir = join(appDir, 'dist');
const outDir = join(appDir, 'test-output');
const fixtureCkpt = join(appDir, '..', '..', 'fixtures', 'openretina-1.1.1', 'model.ckpt');
const bundledFolder = join(appDir, 'public', 'models', 'natural-core-readout');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const haveChromium = existsSync(CHROMIUM);
const skip = !haveChromium && !inCi;
if (skip) console.warn(`[demo e2e] SKIPPED: ${CHROMIUM} not found and not in CI (install it with: apt-get install -y chromium).`);

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.safetensors': 'application/octet-stream',
  '.npy': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.webm': 'video/webm',
};

/** Serves `root` read-only on 127.0.0.1 at a random port, under /demo/ (to check the relative asset paths). */
function serve(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (!path.startsWith('/demo/')) {
      res.writeHead(404).end('not under /demo/');
      return;
    }
    let file = normalize(join(root, path.slice('/demo/'.length)));
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
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      resolve({ server, url: `http://127.0.0.1:${port}/demo/` });
    }),
  );
}

/** Headless Chromium; playwright-core gives every launch a fresh temporary profile (its own --user-data-dir). */
function launch(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}

describe.skipIf(skip)('demo site in headless Chromium', () => {
  let server: Server;
  let url: string;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  const shot = async (name: string) => {
    await page.screenshot({ path: join(outDir, `${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    if (!existsSync(join(distDir, 'index.html'))) {
      throw new Error(`${distDir}/index.html is missing: build the site first (pnpm build, or pnpm --filter @openretina/demo build).`);
    }
    if (!haveChromium) throw new Error(`CI is set but ${CHROMIUM} is missing: install it with apt-get install -y chromium (see .ci/run).`);
    mkdirSync(outDir, { recursive: true });
    ({ server, url } = await serve(distDir));
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('response', (r) => {
      if (r.status() >= 400) consoleErrors.push(`HTTP ${r.status()} for ${r.url()}`);
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  it('loads the bundled model, plays the natural movie and a moving bar, runs the gradient self-test and an MEI to convergence, opens movies and a checkpoint folder, loads the fixture .ckpt', async () => {
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.ready !== undefined, undefined, { timeout: 90_000 });
    expect(await page.evaluate(() => document.body.dataset.ready)).toBe('true');
    const backend = await page
      .locator('#backend-status')
      .evaluate((e) => ({ ...(e as HTMLElement).dataset, text: e.textContent }) as Record<string, string | undefined>);
    console.log(`[demo e2e] ${backend.text}`);
    // The MEI backend is one whose gradients @openretina/backend checks: wasm with our kernels (cpu as last resort).
    expect(['wasm', 'cpu']).toContain(backend.mei);
    if (backend.webgl !== 'true') {
      // Without WebGL the page says so.
      await expect
        .poll(() => page.locator('#messages li.note').allTextContents())
        .toEqual(expect.arrayContaining([expect.stringMatching(/WebGL/)]));
    }
    expect(await page.locator('#model-name').textContent()).toMatch(/trained on the bundled dataset/);

    // Chirp responses are plotted: three neurons, every output frame.
    const responses = page.locator('#responses');
    expect(await responses.getAttribute('data-series')).toBe('3');
    const chirpPoints = Number(await responses.getAttribute('data-points'));
    expect(chirpPoints).toBe(3 * (990 - 30)); // 33 s at 30 Hz, minus the 30 frames the model cuts
    const d = await page.locator('#responses path[data-points]').first().getAttribute('d');
    expect(d!.length).toBeGreaterThan(1000);

    // The natural-like movie is the bundled dataset's test movie (10 s): plotted for every output frame, and played.
    await page.selectOption('#stimulus', 'natural');
    await page.waitForFunction(() => document.querySelector('#responses')?.getAttribute('data-stimulus') === 'natural');
    expect(Number(await responses.getAttribute('data-points'))).toBe(3 * (300 - 30));
    expect(await responses.textContent()).toMatch(/bundled dataset's test movie/);
    await page.click('#play');
    await page.waitForFunction(() => Number(document.querySelector('#movie-canvas')?.getAttribute('data-frame')) >= 20, undefined, {
      timeout: 20_000,
    });
    await page.click('#play'); // pause
    await shot('01-natural-movie');

    // Play the moving bar for a moment.
    await page.selectOption('#stimulus', 'moving-bar');
    await page.waitForFunction(() => document.querySelector('#responses')?.getAttribute('data-stimulus') === 'moving-bar');
    expect(Number(await responses.getAttribute('data-points'))).toBeGreaterThan(0);
    await page.click('#play');
    await page.waitForFunction(() => Number(document.querySelector('#movie-canvas')?.getAttribute('data-frame')) >= 20, undefined, {
      timeout: 20_000,
    });
    await page.click('#play'); // pause
    // The direction-tuning plot has 8 directions per selected neuron; readout masks and filters are drawn.
    expect(await page.locator('#tuning').getAttribute('data-points')).toBe('24');
    expect(await page.locator('#tuning polygon[data-points="8"]').count()).toBe(3);
    expect(await page.locator('#readout').getAttribute('data-neurons')).toBe('32');
    expect(await page.locator('#readout .readout-centres circle').count()).toBe(32);
    expect(await page.locator('#filters').getAttribute('data-channels')).toBe('16');
    // every map has a colour scale, every figure its words
    expect(await page.locator('#filters .colorbar').count()).toBe(1);
    expect(await page.locator('#filters').textContent()).toContain('out 7 · UV');
    await shot('02-moving-bar');

    // Gradient self-test on the MEI backend: finite differences of conv input gradients, model gradient vs cpu.
    await page.waitForFunction(() => document.body.dataset.selftest === 'done', undefined, { timeout: 60_000 });
    const selftest = JSON.parse((await page.locator('#selftest').getAttribute('data-result'))!) as {
      op: string;
      backend: string;
      relError: number;
      pass: boolean;
    }[];
    for (const r of selftest)
      console.log(`[demo e2e] self-test ${r.op} on ${r.backend}: rel. error ${r.relError.toExponential(2)} ${r.pass ? 'pass' : 'FAIL'}`);
    expect(selftest.length).toBeGreaterThanOrEqual(4);
    expect(selftest.every((r) => r.pass && r.backend === backend.mei)).toBe(true);
    expect(await page.locator('#selftest').getAttribute('data-status')).toBe('pass');

    // An MEI for neuron 7 of session_2 with the default preset: it runs until the objective settles (well before the cap).
    await page.fill('#mei-neuron', '7');
    await page.selectOption('#mei-preset', 'default');
    await page.fill('#mei-steps', '80');
    await page.click('#mei-run');
    await page.waitForFunction(
      () => ['done', 'error', 'cancelled'].includes(document.querySelector('#mei-panel')?.getAttribute('data-state') ?? ''),
      undefined,
      { timeout: 90_000 },
    );
    const mei = await page.locator('#mei-panel').evaluate((e) => ({ ...(e as HTMLElement).dataset }));
    console.log(`[demo e2e] MEI: ${await page.locator('#mei-status').textContent()}`);
    expect(mei.state).toBe('done');
    expect(mei.converged).toBe('true');
    expect(Number(mei.iterations)).toBeGreaterThanOrEqual(20); // the preset's minimum
    expect(Number(mei.iterations)).toBeLessThan(80);
    expect(mei.warnings).toBe('0');
    expect(Number(mei.norm)).toBeGreaterThan(1); // kept at norm 30 (then clipped to the ranges)
    const objectives = JSON.parse(mei.objectives!) as number[];
    expect(objectives.at(-1)!).toBeGreaterThan(objectives[0]! * 2);
    // the same figure as `openretina mei`: two spatial maps with a colour scale, titles; and the objective curve
    expect(await page.locator('#mei-figure [data-panel^="spatial-"]').count()).toBe(2);
    expect(await page.locator('#mei-figure .colorbar').count()).toBe(1);
    expect(await page.locator('#mei-figure').textContent()).toContain('session_2 · neuron 7');
    expect(await page.locator('#mei-objective').textContent()).toMatch(/converged/);
    expect(Number(await page.locator('#mei-objective path[data-points]').getAttribute('data-points'))).toBe(Number(mei.iterations));
    await shot('03-mei');

    // OpenRetina's preset with a cap of 5 steps: stops at the cap and says so.
    await page.selectOption('#mei-preset', 'openretina');
    await page.fill('#mei-steps', '5');
    await page.click('#mei-run');
    await page.waitForFunction(() => document.querySelector('#mei-panel')?.getAttribute('data-iterations') === '5', undefined, {
      timeout: 60_000,
    });
    expect(await page.locator('#mei-panel').getAttribute('data-converged')).toBe('false');
    expect(await page.locator('#mei-warnings li').first().textContent()).toMatch(/stopped at the cap of 5 steps/);

    // The user's own movie: a .npy [T, H, W, C] (the bundled natural movie) ...
    await page.setInputFiles('#movie-file', join(bundledFolder, 'natural-movie.npy'));
    await page.waitForFunction(() => document.querySelector('#responses')?.getAttribute('data-stimulus') === 'user', undefined, {
      timeout: 30_000,
    });
    expect(Number(await responses.getAttribute('data-points'))).toBe(3 * (300 - 30));
    expect(await responses.textContent()).toMatch(/your movie natural-movie\.npy/);
    // ... and a video file decoded in the page (2 s at 30 Hz, scaled to 18×16); the test makes it with ffmpeg
    // (.ci/run installs it; outside CI a machine without ffmpeg skips this step)
    const haveFfmpeg = execFileSync('sh', ['-c', 'command -v ffmpeg || true'], { encoding: 'utf8' }).trim() !== '';
    if (haveFfmpeg || inCi) {
      const video = join(outDir, 'test-movie.webm');
      execFileSync('ffmpeg', [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        'testsrc=size=64x48:rate=30',
        '-t',
        '2',
        '-c:v',
        'libvpx',
        video,
      ]);
      await page.evaluate(() => document.querySelector('#responses')?.setAttribute('data-stimulus', 'pending'));
      await page.setInputFiles('#movie-file', video);
      await page.waitForFunction(
        () => ['loaded', 'error'].includes(document.querySelector('#movie-file')?.getAttribute('data-state') ?? ''),
        undefined,
        { timeout: 60_000 },
      );
      expect(await page.locator('#movie-file').getAttribute('data-state')).toBe('loaded');
      const videoFrames = Number(await page.locator('#movie-file').getAttribute('data-frames'));
      expect(videoFrames).toBeGreaterThanOrEqual(55);
      expect(Number(await responses.getAttribute('data-points'))).toBe(3 * (videoFrames - 30));
    }
    await shot('03b-user-movie');

    // A checkpoint folder (our published format) picked as a folder.
    await page.setInputFiles('#folder', bundledFolder);
    await page.waitForFunction(
      () => ['loaded', 'error'].includes(document.querySelector('#folder')?.getAttribute('data-state') ?? ''),
      undefined,
      { timeout: 60_000 },
    );
    expect(await page.locator('#folder').getAttribute('data-state')).toBe('loaded');
    expect(await page.locator('#model-name').getAttribute('data-source')).toBe('ours');

    // A file that is not a checkpoint gives a clear message and keeps the model.
    await page.setInputFiles('#file', {
      name: 'notes.ckpt',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from('just some text, not a zip archive'),
    });
    await page.waitForFunction(() => document.querySelector('#file')?.getAttribute('data-state') === 'error');
    const err = page.locator('#messages li.error').last();
    expect(await err.getAttribute('data-kind')).toBe('not-a-checkpoint');
    expect(await err.textContent()).toMatch(/notes\.ckpt is not a checkpoint/);
    await shot('04-not-a-checkpoint');

    // Upload the OpenRetina fixture checkpoint.
    await page.evaluate(() => document.querySelector('#file')?.setAttribute('data-state', 'idle'));
    await page.setInputFiles('#file', fixtureCkpt);
    await page.waitForFunction(
      () => ['loaded', 'error'].includes(document.querySelector('#file')?.getAttribute('data-state') ?? ''),
      undefined,
      { timeout: 60_000 },
    );
    expect(await page.locator('#file').getAttribute('data-state')).toBe('loaded');
    expect(await page.locator('#model-name').textContent()).toBe('model.ckpt');
    expect(await page.locator('#model-name').getAttribute('data-source')).toBe('openretina-ckpt');
    expect(Number(await responses.getAttribute('data-points'))).toBeGreaterThan(0);
    await shot('05-uploaded-ckpt');

    expect(consoleErrors).toEqual([]);
  }, 180_000);

  it('predicts on WebGL when asked (here drawn by SwiftShader, which the page otherwise passes over): the chirp responses of wasm', async () => {
    const paths: Record<string, string[]> = {};
    for (const backend of ['wasm', 'webgl']) {
      const p = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      try {
        await p.goto(`${url}?route=tfjs&backend=${backend}`);
        await p.waitForFunction(() => document.body.dataset.ready !== undefined, undefined, { timeout: 90_000 });
        expect(await p.evaluate(() => document.body.dataset.ready)).toBe('true');
        expect(await p.locator('#backend-status').getAttribute('data-display')).toBe(backend);
        paths[backend] = await p.locator('#responses path[data-points]').evaluateAll((els) => els.map((e) => e.getAttribute('d') ?? ''));
      } finally {
        await p.close();
      }
    }
    const numbers = (d: string) => (d.match(/-?\d+(\.\d+)?/g) ?? []).map(Number);
    expect(paths.webgl).toHaveLength(3);
    for (const [k, d] of paths.webgl!.entries()) {
      const [got, want] = [numbers(d), numbers(paths.wasm![k]!)];
      expect(got.length).toBe(want.length);
      expect(got.length).toBeGreaterThan(1000);
      // the plot's coordinates (px, two decimals): float32 rounding on the GPU moves them by hundredths at most
      expect(Math.max(...got.map((v, i) => Math.abs(v - want[i]!)))).toBeLessThan(0.5);
    }
  }, 180_000);

  it('falls back to wasm in a browser without WebGL and says so', async () => {
    const noGl = await launch(['--disable-webgl', '--disable-3d-apis']);
    try {
      const p = await noGl.newPage({ viewport: { width: 1280, height: 900 } });
      await p.goto(url);
      await p.waitForFunction(() => document.body.dataset.ready !== undefined, undefined, { timeout: 90_000 });
      expect(await p.evaluate(() => document.body.dataset.ready)).toBe('true');
      expect(await p.locator('#backend-status').getAttribute('data-display')).toBe('wasm');
      expect(await p.locator('#messages li.note').allTextContents()).toContain(
        'This browser has no WebGL: predictions run on wasm instead (slower, same results).',
      );
      expect(Number(await p.locator('#responses').getAttribute('data-points'))).toBeGreaterThan(0);
      await p.screenshot({ path: join(outDir, '06-no-webgl.png'), fullPage: true });
    } finally {
      await noGl.close();
    }
  }, 120_000);
});
