import { decode } from 'fast-png';
import { describe, expect, it, vi } from 'vitest';
import { isOpenRetinaError } from '@openretina/contracts';
import {
  Figure,
  base64,
  colormap,
  divergingColor,
  encodeGif,
  gridRects,
  mapLimits,
  niceTicks,
  pngDataUri,
  tickLabels,
  upscale,
  encodeScaledPng,
  viridis,
} from '../src/index.js';

describe('colour maps', () => {
  it('viridis runs from dark violet to yellow; diverging maps are white at 0 and symmetric', () => {
    expect(viridis(0)).toEqual([68, 1, 84]);
    expect(viridis(1)).toEqual([253, 231, 37]);
    expect(divergingColor(0, 1)).toEqual([247, 247, 247]);
    expect(divergingColor(0, 1, 'bwr')).toEqual([255, 255, 255]);
    expect(divergingColor(1, 1)).toEqual([103, 0, 31]); // red for positive
    expect(divergingColor(-1, 1)).toEqual([5, 48, 97]); // blue for negative
    expect(colormap('RdBu_r').kind).toBe('diverging');
  });

  it('refuses an unknown name with the list of known ones', () => {
    let caught: unknown;
    try {
      colormap('jet' as 'viridis');
    } catch (e) {
      caught = e;
    }
    expect(isOpenRetinaError(caught, 'OPENRETINA_CONFIG')).toBe(true);
    expect(String(caught)).toMatch(/"jet".*viridis, greys, RdBu_r, bwr/);
  });

  it('limits are symmetric for diverging maps and min…max for sequential ones', () => {
    expect(mapLimits([-1, 3, 2], colormap('RdBu_r'))).toEqual([-3, 3]);
    expect(mapLimits([-1, 3, 2], colormap('viridis'))).toEqual([-1, 3]);
  });
});

describe('ticks and numbers', () => {
  it('puts ticks at 1/2/5 steps inside the domain and labels them with one precision', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-0.27, 0.9, 4)).toEqual([-0.2, 0, 0.2, 0.4, 0.6, 0.8]);
    expect(tickLabels([0, 0.5, 1])).toEqual(['0.0', '0.5', '1.0']);
    expect(tickLabels([0, 10, 20])).toEqual(['0', '10', '20']);
  });

  it('base64 matches Node’s encoder', () => {
    for (const n of [0, 1, 2, 3, 10, 257]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37) & 255);
      expect(base64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    }
  });
});

describe('figures', () => {
  const figure = () => {
    const fig = new Figure({ width: 640, height: 360, title: 'A <title> & more', subtitle: 'session_1 · neuron 3' });
    const [a, b] = gridRects({ x: 0, y: fig.top, width: 640, height: 360 - fig.top }, 1, 2);
    const ax = fig.axes(a!, { title: 'traces', xLabel: 'Time [s]', yLabel: 'rate' });
    ax.line([0, 1, 2], [0, 1, 0], { label: 'predicted' }).line([0, 1, 2], [0.2, 0.8, 0.1], { label: 'recorded', dash: '4 2' });
    const placed = fig.image(
      b!,
      { values: [-1, 0, 1, 2, -2, 0.5], height: 2, width: 3 },
      { cmap: 'RdBu_r', colorbar: 'contrast', title: 'map' },
    );
    return { svg: fig.toSvg(), placed };
  };

  it('writes a self-contained SVG with escaped text, axes labels, a legend, an embedded image and a colour bar', () => {
    const { svg, placed } = figure();
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360"')).toBe(true);
    expect(svg).toContain('A &lt;title&gt; &amp; more');
    expect(svg).not.toContain('<title>');
    for (const label of ['Time [s]', 'rate', 'predicted', 'recorded', 'contrast', 'session_1 · neuron 3'])
      expect(svg).toContain(`>${label}<`);
    expect(svg).toMatch(/<image [^>]*href="data:image\/png;base64,/);
    expect(svg).toContain('<linearGradient');
    expect(figure().svg, 'the same figure, the same bytes (no counter in the gradient ids)').toBe(svg);
    // square pixels, symmetric limits for a diverging map
    expect(placed.width / 3).toBeCloseTo(placed.height / 2, 6);
    expect(placed.limits).toEqual([-2, 2]);
  });

  it('embeds maps as PNGs scaled up by whole pixels (crisp at the displayed size)', () => {
    const uri = pngDataUri({ data: Uint8Array.from([255, 0, 0, 255, 0, 0, 255, 255]), width: 2, height: 1 }, 20);
    const png = decode(Buffer.from(uri.slice('data:image/png;base64,'.length), 'base64'));
    expect([png.width, png.height]).toEqual([20, 10]);
    expect(Array.from(png.data.slice(0, 4))).toEqual([255, 0, 0, 255]);
    expect(Array.from(png.data.slice(19 * 4, 20 * 4))).toEqual([0, 0, 255, 255]);
  });

  it('scales images up pixel for pixel: output pixel (y, x) is source pixel (y / f, x / f)', () => {
    for (const [width, height, factor] of [
      [3, 2, 4],
      [1, 5, 3],
      [4, 1, 2],
    ] as const) {
      const data = Uint8Array.from({ length: width * height * 4 }, (_, i) => (i * 53 + 7) % 256);
      const big = upscale({ data, width, height }, factor);
      expect([big.width, big.height]).toEqual([width * factor, height * factor]);
      const want = new Uint8Array(width * factor * height * factor * 4);
      for (let y = 0; y < height * factor; y++)
        for (let x = 0; x < width * factor; x++)
          for (let k = 0; k < 4; k++)
            want[(y * width * factor + x) * 4 + k] = data[(Math.floor(y / factor) * width + Math.floor(x / factor)) * 4 + k]!;
      expect(Array.from(big.data)).toEqual(Array.from(want));
    }
  });

  it('encodes an image scaled up as PNG: an independent decoder reads back exactly the upscaled pixels', () => {
    for (const [width, height, factor] of [
      [3, 2, 4],
      [1, 5, 3],
      [7, 3, 1],
      [16, 18, 32],
    ] as const) {
      // every byte value, alpha included, and neighbours that differ by more than 127 (the Sub filter wraps around)
      const data = Uint8Array.from({ length: width * height * 4 }, (_, i) => (i * 151 + 29) % 256);
      const png = decode(encodeScaledPng({ data, width, height }, factor));
      const big = upscale({ data, width, height }, factor);
      expect([png.width, png.height, png.channels, png.depth]).toEqual([big.width, big.height, 4, 8]);
      expect(Buffer.from(png.data as Uint8Array).equals(Buffer.from(big.data)), `${width}×${height} ×${factor}`).toBe(true);
    }
    expect(() => encodeScaledPng({ data: new Uint8Array(8), width: 3, height: 1 })).toThrow(/needs 12 bytes; got 8/);
  });

  it('deflates with fflate where the runtime has no node:zlib (a browser): the same pixels back', async () => {
    const proc = process as { getBuiltinModule?: unknown };
    const own = proc.getBuiltinModule;
    vi.resetModules();
    proc.getBuiltinModule = undefined; // the module picks its deflate at its first PNG
    try {
      const fresh = await import('../src/png.js');
      const [width, height, factor] = [16, 18, 8];
      const data = Uint8Array.from({ length: width * height * 4 }, (_, i) => (i * 97 + 3) % 256);
      const bytes = fresh.encodeScaledPng({ data, width, height }, factor);
      expect(Buffer.from(bytes).equals(Buffer.from(encodeScaledPng({ data, width, height }, factor)))).toBe(false); // another deflater
      const png = decode(bytes);
      expect(Buffer.from(png.data as Uint8Array).equals(Buffer.from(upscale({ data, width, height }, factor).data))).toBe(true);
    } finally {
      proc.getBuiltinModule = own;
      vi.resetModules();
    }
  });

  it('draws a histogram with the counts of each bin and a polar plot with one polygon per series', () => {
    const fig = new Figure({ width: 400, height: 300 });
    const ax = fig.axes({ x: 0, y: 0, width: 200, height: 300 });
    const { counts, edges } = ax.histogram([0.05, 0.1, 0.15, 0.55, Number.NaN], { bins: 2, range: [0, 1] });
    expect(counts).toEqual([3, 1]);
    expect(edges).toEqual([0, 0.5, 1]);
    fig.polar({ x: 200, y: 0, width: 200, height: 300 }, [0, 90, 180, 270]).add({ values: [1, 2, 1, 0], label: 'n0' });
    const svg = fig.toSvg();
    expect(svg.match(/<rect [^>]*fill="#1f77b4" fill-opacity="0.85"/g)?.length).toBe(2); // one bar per bin
    expect(svg).toMatch(/<polygon [^>]*data-points="4"/);
    expect(svg).toContain('>90°<');
  });
});

describe('GIF', () => {
  it('encodes frames and refuses frames of different sizes', () => {
    const frame = (w: number, h: number) => ({ data: new Uint8Array(w * h * 4).fill(200), width: w, height: h });
    const gif = encodeGif([frame(4, 3), frame(4, 3)]);
    expect(new TextDecoder().decode(gif.slice(0, 6))).toBe('GIF89a');
    expect(() => encodeGif([frame(4, 3), frame(3, 4)])).toThrow(/Frame 1 is 3×4/);
  });
});
