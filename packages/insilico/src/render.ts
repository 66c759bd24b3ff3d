import { encode as encodePng } from 'fast-png';
import * as gifencNs from 'gifenc';
import { ConfigError } from '@openretina/contracts';
import { calculateFft, decomposeKernel, weightedMainFrequency } from './signal.js';
import { videoChannel, type Video } from './video.js';

type RGB = [number, number, number];

// matplotlib's RdBu (ColorBrewer, 11 steps), reversed: blue for negative, red for positive
const RDBU_R: RGB[] = (
  [
    [103, 0, 31],
    [178, 24, 43],
    [214, 96, 77],
    [244, 165, 130],
    [253, 219, 199],
    [247, 247, 247],
    [209, 229, 240],
    [146, 197, 222],
    [67, 147, 195],
    [33, 102, 172],
    [5, 48, 97],
  ] as RGB[]
).reverse();
const BWR: RGB[] = [
  [0, 0, 255],
  [255, 255, 255],
  [255, 0, 0],
];
const VIRIDIS: RGB[] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

function ramp(stops: readonly RGB[], u: number): RGB {
  const x = Math.min(1, Math.max(0, Number.isFinite(u) ? u : 0.5)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * f)) as RGB;
}

/** Diverging colour for `v` in `[−vmax, vmax]` (`RdBu_r` or `bwr`). */
export function divergingColor(v: number, vmax: number, map: 'RdBu_r' | 'bwr' = 'RdBu_r'): RGB {
  return ramp(map === 'bwr' ? BWR : RDBU_R, vmax > 0 ? (v / vmax + 1) / 2 : 0.5);
}

export function viridis(u: number): RGB {
  return ramp(VIRIDIS, u);
}

const hex = (c: RGB) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Channel colours and names as in OpenRetina's `plot_stimulus_composition`. */
export function channelStyle(channels: number): { colors: RGB[]; names: string[] } {
  if (channels === 1) return { colors: [[0, 0, 0]], names: ['Grey'] };
  if (channels === 2)
    return {
      colors: [
        [0, 100, 0],
        [148, 0, 211],
      ],
      names: ['Green', 'UV'],
    };
  if (channels === 3)
    return {
      colors: [
        [255, 0, 0],
        [0, 128, 0],
        [0, 0, 255],
      ],
      names: ['Red', 'Green', 'Blue'],
    };
  throw new ConfigError(`Stimulus plots support 1, 2 or 3 colour channels, got ${channels}.`);
}

export interface StimulusComposition {
  channels: number;
  frames: number;
  height: number;
  width: number;
  names: string[];
  /** Per channel: the temporal trace `[T]`. */
  temporal: Float64Array[];
  /** Per channel: the spatial map `[H, W]` (max |value| 1). */
  spatial: Float64Array[];
  /** Per channel: spectrum of the low-passed trace. */
  frequencies: Float64Array[];
  weights: Float64Array[];
  mainFrequencies: number[];
  /** Time of each frame in seconds (`linspace(0, T/frameRate, T)`). */
  time: Float64Array;
}

export interface CompositionOptions {
  frameRate?: number;
  lowpassCutoff?: number;
}

/** The numbers behind `plot_stimulus_composition`: a rank-1 decomposition per channel plus its spectrum. */
export function stimulusComposition(video: Video, options: CompositionOptions = {}): StimulusComposition {
  const frameRate = options.frameRate ?? 30;
  const cutoff = options.lowpassCutoff ?? 10;
  const [t, h, w, c] = video.shape;
  const { names } = channelStyle(c);
  const out: StimulusComposition = {
    channels: c,
    frames: t,
    height: h,
    width: w,
    names,
    temporal: [],
    spatial: [],
    frequencies: [],
    weights: [],
    mainFrequencies: [],
    time: Float64Array.from({ length: t }, (_, i) => (t === 1 ? 0 : (i * (t / frameRate)) / (t - 1))),
  };
  for (let ch = 0; ch < c; ch++) {
    const d = decomposeKernel(videoChannel(video, ch), t, h, w);
    out.temporal.push(d.temporal);
    out.spatial.push(d.spatial);
    const { frequencies, weights } = calculateFft(d.temporal, frameRate, cutoff);
    out.frequencies.push(frequencies);
    out.weights.push(weights);
    out.mainFrequencies.push(weightedMainFrequency(frequencies, weights));
  }
  return out;
}

export interface CompositionPlotOptions extends CompositionOptions {
  /** Frame ranges `[first, last]` shaded on the temporal trace (OpenRetina's `highlight_x_list`). */
  highlight?: readonly (readonly [number, number])[];
  title?: string;
}

interface Panel {
  x: number;
  y: number;
  w: number;
  h: number;
}
const LAYOUT = {
  width: 960,
  height: 600,
  trace: { x: 70, y: 50, w: 380, h: 220 },
  freq: { x: 540, y: 50, w: 380, h: 220 },
  spatial: { x: 70, y: 340, w: 850, h: 220 },
};

function axisMap(p: Panel, x0: number, x1: number, y0: number, y1: number) {
  return {
    x: (v: number) => p.x + ((v - x0) / (x1 - x0 || 1)) * p.w,
    y: (v: number) => p.y + p.h - ((v - y0) / (y1 - y0 || 1)) * p.h,
  };
}

function traceRanges(comp: StimulusComposition, cutoff: number) {
  let tMax = 0;
  for (const tr of comp.temporal) for (const v of tr) tMax = Math.max(tMax, Math.abs(v));
  let fMax = 0;
  for (const wts of comp.weights) for (const v of wts) fMax = Math.max(fMax, v);
  const tEnd = comp.time[comp.time.length - 1] || 1;
  return { trace: [0, tEnd, -tMax, tMax + 1] as const, freq: [0, cutoff + 1, 0, fMax || 1] as const };
}

function spatialGeometry(comp: StimulusComposition) {
  const totalW = comp.width * comp.channels;
  const px = Math.max(1, Math.floor(Math.min(LAYOUT.spatial.w / totalW, LAYOUT.spatial.h / comp.height)));
  let absMax = 0;
  for (const s of comp.spatial) for (const v of s) absMax = Math.max(absMax, Math.abs(v));
  return { px, absMax };
}

/**
 * OpenRetina's stimulus-composition figure as SVG: temporal traces (with shaded highlight windows), the spectra with
 * the weighted main frequencies, and the spatial maps side by side (RdBu_r, symmetric, boxed, a "50 µm" bar).
 */
export function stimulusCompositionSvg(video: Video, options: CompositionPlotOptions = {}): string {
  const cutoff = options.lowpassCutoff ?? 10;
  const comp = stimulusComposition(video, options);
  const { colors, names } = channelStyle(comp.channels);
  const r = traceRanges(comp, cutoff);
  const parts: string[] = [];
  const { width, height, trace, freq, spatial } = LAYOUT;
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
  );
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  if (options.title) parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="16">${esc(options.title)}</text>`);
  const axes = (p: Panel, title: string, xlabel: string, x0: number, x1: number) => {
    parts.push(`<rect x="${p.x}" y="${p.y}" width="${p.w}" height="${p.h}" fill="none" stroke="black"/>`);
    parts.push(`<text x="${p.x + p.w / 2}" y="${p.y - 8}" text-anchor="middle">${esc(title)}</text>`);
    parts.push(`<text x="${p.x + p.w / 2}" y="${p.y + p.h + 32}" text-anchor="middle">${esc(xlabel)}</text>`);
    parts.push(`<text x="${p.x}" y="${p.y + p.h + 16}" text-anchor="middle">${x0.toFixed(1)}</text>`);
    parts.push(`<text x="${p.x + p.w}" y="${p.y + p.h + 16}" text-anchor="middle">${x1.toFixed(1)}</text>`);
  };
  // temporal traces
  const tm = axisMap(trace, ...r.trace);
  for (const [a, b] of options.highlight ?? []) {
    const x0 = tm.x(comp.time[Math.max(0, Math.min(comp.frames - 1, a))]!);
    const x1 = tm.x(comp.time[Math.max(0, Math.min(comp.frames - 1, b))]!);
    parts.push(
      `<rect x="${x0.toFixed(2)}" y="${trace.y}" width="${(x1 - x0).toFixed(2)}" height="${trace.h}" fill="black" fill-opacity="0.1"/>`,
    );
  }
  comp.temporal.forEach((tr, ch) => {
    const pts = Array.from(tr, (v, i) => `${tm.x(comp.time[i]!).toFixed(2)},${tm.y(v).toFixed(2)}`).join(' ');
    parts.push(
      `<polyline fill="none" stroke="${hex(colors[ch]!)}" stroke-width="1.5" points="${pts}"><title>${names[ch]}</title></polyline>`,
    );
  });
  axes(trace, 'Temporal Trace of the Stimulus', 'Time [s]', r.trace[0], r.trace[1]);
  // spectra
  const fm = axisMap(freq, ...r.freq);
  comp.weights.forEach((wts, ch) => {
    const pts = Array.from(wts, (v, i) => [comp.frequencies[ch]![i]!, v] as const)
      .filter(([f]) => f <= cutoff + 1)
      .map(([f, v]) => `${fm.x(f).toFixed(2)},${fm.y(v).toFixed(2)}`)
      .join(' ');
    parts.push(`<polyline fill="none" stroke="${hex(colors[ch]!)}" stroke-width="1.5" points="${pts}"/>`);
  });
  axes(
    freq,
    `Weighted Frequency: ${comp.mainFrequencies.map((f) => f.toFixed(1)).join('/')} Hz (${names.join('/')})`,
    'Frequency [Hz]',
    r.freq[0],
    r.freq[1],
  );
  // spatial maps
  const { px, absMax } = spatialGeometry(comp);
  parts.push(`<text x="${spatial.x}" y="${spatial.y - 10}">Spatial Component (${esc(names.join('/'))})</text>`);
  comp.spatial.forEach((s, ch) => {
    const ox = spatial.x + ch * comp.width * px;
    for (let i = 0; i < comp.height; i++)
      for (let j = 0; j < comp.width; j++) {
        parts.push(
          `<rect x="${ox + j * px}" y="${spatial.y + i * px}" width="${px}" height="${px}" fill="${hex(divergingColor(s[i * comp.width + j]!, absMax))}"/>`,
        );
      }
    parts.push(
      `<rect x="${ox}" y="${spatial.y}" width="${comp.width * px}" height="${comp.height * px}" fill="none" stroke="black" stroke-width="2"/>`,
    );
  });
  const bar = comp.width > 20 ? 4 : 1;
  parts.push(
    `<rect x="${spatial.x + 6 * px}" y="${spatial.y + (comp.height + 1) * px}" width="${bar * px}" height="${Math.max(2, px / 2)}" fill="black"/>`,
  );
  parts.push(`<text x="${spatial.x + 6 * px}" y="${spatial.y + (comp.height + 3) * px}">50 µm</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

/** A small RGBA raster for PNG figures (no text). */
export class Raster {
  readonly data: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
    background: RGB = [255, 255, 255],
  ) {
    this.data = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) this.data.set([...background, 255], i * 4);
  }
  set(x: number, y: number, c: RGB, alpha = 1): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    const o = (yi * this.width + xi) * 4;
    for (let k = 0; k < 3; k++) this.data[o + k] = Math.round(this.data[o + k]! * (1 - alpha) + c[k]! * alpha);
  }
  fillRect(x: number, y: number, w: number, h: number, c: RGB, alpha = 1): void {
    for (let j = Math.round(y); j < Math.round(y + h); j++)
      for (let i = Math.round(x); i < Math.round(x + w); i++) this.set(i, j, c, alpha);
  }
  strokeRect(x: number, y: number, w: number, h: number, c: RGB, thickness = 1): void {
    this.fillRect(x, y, w, thickness, c);
    this.fillRect(x, y + h - thickness, w, thickness, c);
    this.fillRect(x, y, thickness, h, c);
    this.fillRect(x + w - thickness, y, thickness, h, c);
  }
  line(x0: number, y0: number, x1: number, y1: number, c: RGB, thickness = 2): void {
    const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0)));
    for (let s = 0; s <= steps; s++) {
      const x = x0 + ((x1 - x0) * s) / steps;
      const y = y0 + ((y1 - y0) * s) / steps;
      this.fillRect(x - thickness / 2, y - thickness / 2, thickness, thickness, c);
    }
  }
  png(): Uint8Array {
    return encodePng({ width: this.width, height: this.height, data: this.data, channels: 4, depth: 8 });
  }
}

/** The stimulus-composition figure as a PNG (the same panels as the SVG, without text). */
export function stimulusCompositionPng(video: Video, options: CompositionPlotOptions = {}): Uint8Array {
  const cutoff = options.lowpassCutoff ?? 10;
  const comp = stimulusComposition(video, options);
  const { colors } = channelStyle(comp.channels);
  const r = traceRanges(comp, cutoff);
  const { trace, freq, spatial } = LAYOUT;
  const img = new Raster(LAYOUT.width, LAYOUT.height);
  const tm = axisMap(trace, ...r.trace);
  for (const [a, b] of options.highlight ?? []) {
    const x0 = tm.x(comp.time[Math.max(0, Math.min(comp.frames - 1, a))]!);
    const x1 = tm.x(comp.time[Math.max(0, Math.min(comp.frames - 1, b))]!);
    img.fillRect(x0, trace.y, x1 - x0, trace.h, [0, 0, 0], 0.1);
  }
  comp.temporal.forEach((tr, ch) => {
    for (let i = 1; i < tr.length; i++) img.line(tm.x(comp.time[i - 1]!), tm.y(tr[i - 1]!), tm.x(comp.time[i]!), tm.y(tr[i]!), colors[ch]!);
  });
  img.strokeRect(trace.x, trace.y, trace.w, trace.h, [0, 0, 0]);
  const fm = axisMap(freq, ...r.freq);
  comp.weights.forEach((wts, ch) => {
    const f = comp.frequencies[ch]!;
    for (let i = 1; i < wts.length; i++)
      if (f[i]! <= cutoff + 1) img.line(fm.x(f[i - 1]!), fm.y(wts[i - 1]!), fm.x(f[i]!), fm.y(wts[i]!), colors[ch]!);
  });
  img.strokeRect(freq.x, freq.y, freq.w, freq.h, [0, 0, 0]);
  const { px, absMax } = spatialGeometry(comp);
  comp.spatial.forEach((s, ch) => {
    const ox = spatial.x + ch * comp.width * px;
    for (let i = 0; i < comp.height; i++)
      for (let j = 0; j < comp.width; j++)
        img.fillRect(ox + j * px, spatial.y + i * px, px, px, divergingColor(s[i * comp.width + j]!, absMax));
    img.strokeRect(ox - 1, spatial.y - 1, comp.width * px + 2, comp.height * px + 2, [0, 0, 0], 2);
  });
  img.fillRect(spatial.x + 6 * px, spatial.y + (comp.height + 1) * px, (comp.width > 20 ? 4 : 1) * px, Math.max(2, px / 2), [0, 0, 0]);
  return img.png();
}

export interface VideoFramesOptions {
  /** Integer upscaling factor (nearest neighbour; default 8). */
  scale?: number;
  /** First frame to include (default 0). */
  startAtFrame?: number;
}

/**
 * RGBA frames of a stimulus, as OpenRetina's `save_stimulus_to_mp4_video` colours them: the whole stimulus min-max
 * scaled to 0…255 and truncated to integers; 1 channel → grey; 2 channels → green = channel 0, red = channel 1
 * (UV shown as red); 3 channels → blue = 0, green = 1, red = 2 (OpenCV's BGR order, as in the original).
 */
export function stimulusFrames(
  video: Video,
  options: VideoFramesOptions = {},
): { width: number; height: number; frames: Uint8ClampedArray[] } {
  const scale = options.scale ?? 8;
  const start = options.startAtFrame ?? 0;
  const [t, h, w, c] = video.shape;
  if (c < 1 || c > 3) throw new ConfigError(`Stimulus videos support 1, 2 or 3 colour channels, got ${c}.`);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of video.data) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const range = hi - lo;
  const u8 = (v: number) => (range > 0 ? Math.trunc((255 * (v - lo)) / range) : 0);
  const W = w * scale;
  const H = h * scale;
  const frames: Uint8ClampedArray[] = [];
  for (let f = start; f < t; f++) {
    const rgba = new Uint8ClampedArray(W * H * 4);
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        const base = ((f * h + i) * w + j) * c;
        const v = [0, 1, 2].map((k) => (k < c ? u8(video.data[base + k]!) : 0));
        const rgb: RGB = c === 1 ? [v[0]!, v[0]!, v[0]!] : c === 2 ? [v[1]!, v[0]!, 0] : [v[2]!, v[1]!, v[0]!];
        for (let y = i * scale; y < (i + 1) * scale; y++)
          for (let x = j * scale; x < (j + 1) * scale; x++) {
            const o = (y * W + x) * 4;
            rgba[o] = rgb[0];
            rgba[o + 1] = rgb[1];
            rgba[o + 2] = rgb[2];
            rgba[o + 3] = 255;
          }
      }
    frames.push(rgba);
  }
  return { width: W, height: H, frames };
}

type GifLib = { GIFEncoder: typeof gifencNs.GIFEncoder; quantize: typeof gifencNs.quantize; applyPalette: typeof gifencNs.applyPalette };
function gifLib(): GifLib {
  const ns = gifencNs as unknown as GifLib & { default?: GifLib };
  return typeof ns.GIFEncoder === 'function' ? ns : ns.default!;
}

export interface GifOptions extends VideoFramesOptions {
  /** Frames per second (default 5, as OpenRetina's mp4 videos). */
  fps?: number;
}

/** The stimulus as a looping animated GIF (one palette per frame, 256 colours). */
export function stimulusToGif(video: Video, options: GifOptions = {}): Uint8Array {
  const { GIFEncoder, quantize, applyPalette } = gifLib();
  const fps = options.fps ?? 5;
  const { width, height, frames } = stimulusFrames(video, options);
  const gif = GIFEncoder();
  for (const rgba of frames) {
    const palette = quantize(rgba, 256);
    gif.writeFrame(applyPalette(rgba, palette), width, height, { palette, delay: Math.round(1000 / fps), repeat: 0 });
  }
  gif.finish();
  return gif.bytes();
}
