import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import { FONT_FILE, Figure, encodeMp4, findFfmpeg, svgToPng, svgToRgba } from '../src/node.js';

const dir = mkdtempSync(join(tmpdir(), 'openretina-plot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Dark pixels (all channels < 128) of an RGBA image inside a box. */
function darkPixels(img: { data: ArrayLike<number>; width: number }, box: { x0: number; y0: number; x1: number; y1: number }): number {
  let n = 0;
  for (let y = box.y0; y < box.y1; y++)
    for (let x = box.x0; x < box.x1; x++) {
      const o = (y * img.width + x) * 4;
      if (img.data[o]! < 128 && img.data[o + 1]! < 128 && img.data[o + 2]! < 128) n++;
    }
  return n;
}

const withText = (content: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60"><rect width="200" height="60" fill="white"/><text x="10" y="40" font-size="28" font-family="'DejaVu Sans', sans-serif" fill="black">${content}</text></svg>`;

describe('PNG rendering', () => {
  it('draws text with the bundled font (the text pixels are there, a text-free SVG has none)', () => {
    expect(existsSync(FONT_FILE)).toBe(true);
    const png = decode(svgToPng(withText('Neuron 7 µm')));
    expect([png.width, png.height]).toEqual([200, 60]);
    const box = { x0: 0, y0: 0, x1: 200, y1: 60 };
    const inked = darkPixels({ data: png.data as Uint8Array, width: png.width }, box);
    expect(inked).toBeGreaterThan(300);
    // the ink sits where the text is: left part, between the top of the capitals and the baseline
    expect(darkPixels({ data: png.data as Uint8Array, width: png.width }, { x0: 0, y0: 0, x1: 200, y1: 12 })).toBe(0);
    const blank = decode(svgToPng(withText('')));
    expect(darkPixels({ data: blank.data as Uint8Array, width: blank.width }, box)).toBe(0);
  });

  it('renders a whole figure (title, tick labels) and scales it', () => {
    const fig = new Figure({ width: 300, height: 200, title: 'Title' });
    fig.axes({ x: 0, y: fig.top, width: 300, height: 200 - fig.top }, { xLabel: 'x', yLabel: 'y' }).line([0, 1], [0, 1]);
    const rgba = svgToRgba(fig.toSvg(), { scale: 2 });
    expect([rgba.width, rgba.height]).toEqual([600, 400]);
    // the bold title is drawn in the top band
    expect(darkPixels(rgba, { x0: 200, y0: 0, x1: 400, y1: 60 })).toBeGreaterThan(50);
  });
});

// Like Chromium for the browser tests: skipped without ffmpeg outside CI; in CI (.ci/run installs it) it must run.
const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const skipMp4 = findFfmpeg() === undefined && !inCi;
if (skipMp4) console.warn('[plot] MP4 tests SKIPPED: ffmpeg not on PATH and not in CI (apt-get install -y ffmpeg).');

describe.skipIf(skipMp4)('MP4 through ffmpeg', () => {
  it('encodes RGBA frames of odd size into an MP4 file', async () => {
    const frames = Array.from({ length: 6 }, (_, k) => ({ data: new Uint8Array(33 * 21 * 4).fill(40 * k), width: 33, height: 21 }));
    const path = join(dir, 'a.mp4');
    await encodeMp4(frames, path, { fps: 5 });
    expect(statSync(path).size).toBeGreaterThan(100);
    expect(new TextDecoder().decode(readFileSync(path).subarray(4, 8))).toBe('ftyp');
  });

  it('reports a failing ffmpeg and leaves no partial file', async () => {
    const path = join(dir, 'missing-dir', 'b.mp4');
    const frames = [{ data: new Uint8Array(4 * 4 * 4), width: 4, height: 4 }];
    await expect(encodeMp4(frames, path)).rejects.toThrow(/ffmpeg failed/);
    expect(existsSync(path)).toBe(false);
  });
});
