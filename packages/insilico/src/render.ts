// Stimulus figures (OpenRetina's `plot_stimulus_composition`, video frames, MEI objective curves), drawn through
// @openretina/plot: SVG strings in Node and the browser, rendered to PNG/GIF/MP4 by the node entry.
import { ConfigError } from '@openretina/contracts';
import { Figure, channelStyle, gridRects, hex, type RgbaImage } from '@openretina/plot';
import { calculateFft, decomposeKernel, weightedMainFrequency } from './signal.js';
import { videoChannel, type Video } from './video.js';

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
  /** The figure's title, e.g. `session_2 · neuron 7`. */
  title?: string;
  /** A second line, e.g. the objective and whether the optimisation converged. */
  subtitle?: string;
  /** Length of one stimulus pixel in µm for the scale bar (default 50/1 px below 20 px wide, 50/4 px otherwise, as OpenRetina). */
  micronsPerPixel?: number;
}

/**
 * OpenRetina's stimulus-composition figure as SVG: temporal traces (with shaded highlight windows), the spectra with
 * the weighted main frequencies, and the spatial maps side by side (RdBu_r, symmetric, one colour bar, a 50 µm bar).
 */
export function stimulusCompositionSvg(video: Video, options: CompositionPlotOptions = {}): string {
  const cutoff = options.lowpassCutoff ?? 10;
  const comp = stimulusComposition(video, options);
  const { colors, names } = channelStyle(comp.channels);
  const fig = new Figure({
    width: 960,
    height: 640,
    ...(options.title ? { title: options.title } : {}),
    ...(options.subtitle ? { subtitle: options.subtitle } : {}),
  });
  const top = fig.top + 8;
  const [traceRect, freqRect] = gridRects({ x: 10, y: top, width: 940, height: 290 }, 1, 2, 30);
  const trace = fig.axes(traceRect!, { title: 'Temporal trace of the stimulus', xLabel: 'Time [s]', yLabel: 'Amplitude [a.u.]' });
  for (const [a, b] of options.highlight ?? []) {
    const clamp = (f: number) => comp.time[Math.max(0, Math.min(comp.frames - 1, f))]!;
    trace.span(clamp(a), clamp(b), { opacity: 0.1 });
  }
  comp.temporal.forEach((tr, ch) => trace.line(comp.time, tr, { color: hex(colors[ch]!), label: names[ch]! }));
  const spectrum = fig.axes(freqRect!, {
    title: `Weighted frequency: ${comp.mainFrequencies.map((f) => f.toFixed(1)).join('/')} Hz (${names.join('/')})`,
    xLabel: 'Frequency [Hz]',
    yLabel: 'Weight',
    xDomain: [0, cutoff + 1],
  });
  comp.weights.forEach((wts, ch) => {
    const f = Array.from(comp.frequencies[ch]!);
    const keep = f.map((v, i) => [v, wts[i]!] as const).filter(([v]) => v <= cutoff + 1);
    spectrum.line(
      keep.map(([v]) => v),
      keep.map(([, v]) => v),
      { color: hex(colors[ch]!), label: names[ch]! },
    );
  });
  // spatial maps: one shared symmetric colour scale (each channel's map has max |value| 1), drawn right of the last map
  const mapArea = { x: 40, y: top + 310, width: 820, height: 640 - top - 320 };
  const cells = gridRects(mapArea, 1, comp.channels, 24);
  const barPixels = comp.width > 20 ? 4 : 1;
  const microns = options.micronsPerPixel === undefined ? 50 : Math.round(options.micronsPerPixel * barPixels);
  let last = { x: 0, y: 0, width: 0, height: 0 };
  comp.spatial.forEach((s, ch) => {
    last = fig.image(
      cells[ch]!,
      { values: s, height: comp.height, width: comp.width },
      {
        cmap: 'RdBu_r',
        limits: [-1, 1],
        title: `Spatial component: ${names[ch]}`,
        ...(ch === 0 ? { scaleBar: { pixels: barPixels, label: `${microns} µm` } } : {}),
        frame: hex(colors[ch]!),
        id: `spatial-${names[ch]}`,
      },
    );
  });
  fig.colorbar({ x: last.x + last.width + 14, y: last.y, width: 12, height: last.height }, 'RdBu_r', [-1, 1], {
    label: 'Weight (max |w| = 1)',
  });
  return fig.toSvg();
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
        const rgb = c === 1 ? [v[0]!, v[0]!, v[0]!] : c === 2 ? [v[1]!, v[0]!, 0] : [v[2]!, v[1]!, v[0]!];
        for (let y = i * scale; y < (i + 1) * scale; y++)
          for (let x = j * scale; x < (j + 1) * scale; x++) {
            const o = (y * W + x) * 4;
            rgba[o] = rgb[0]!;
            rgba[o + 1] = rgb[1]!;
            rgba[o + 2] = rgb[2]!;
            rgba[o + 3] = 255;
          }
      }
    frames.push(rgba);
  }
  return { width: W, height: H, frames };
}

export interface GifOptions extends VideoFramesOptions {
  /** Frames per second (default 5, as OpenRetina's mp4 videos). */
  fps?: number;
}

export interface LabelledFrameOptions extends GifOptions {
  /** The first label line, e.g. `session_2 · neuron 7`. */
  title?: string;
  /** Frame ranges `[first, last]` (e.g. the objective's window), marked in the label strip. */
  highlight?: readonly (readonly [number, number])[];
}

/** The label strip above each animation frame: title, frame index and time, a note inside the highlighted window. */
export function stimulusFrameLabelSvgs(
  video: Video,
  width: number,
  options: LabelledFrameOptions = {},
): { height: number; svgs: string[] } {
  const t = video.shape[0];
  const start = options.startAtFrame ?? 0;
  const fps = options.fps ?? 5;
  const height = options.title ? 44 : 26;
  const svgs: string[] = [];
  for (let f = start; f < t; f++) {
    const fig = new Figure({ width, height, fontSize: 12 });
    if (options.title) fig.text(6, 17, options.title, { weight: 'bold' });
    const inWindow = (options.highlight ?? []).some(([a, b]) => f >= a && f <= b);
    fig.text(6, height - 8, `frame ${f + 1}/${t} · ${(f / fps).toFixed(1)} s${inWindow ? ' · objective window' : ''}`, {
      size: 11,
      color: inWindow ? '#b00' : '#333',
    });
    svgs.push(fig.toSvg());
  }
  return { height, svgs };
}

/** The upscaling factor of labelled frames: at least 8, and at least 240 px wide so the labels fit. */
export function labelledFrameScale(video: Video, options: VideoFramesOptions = {}): number {
  return options.scale ?? Math.max(8, Math.ceil(240 / video.shape[2]));
}

/**
 * Each stimulus frame as a small SVG figure: the frame (OpenRetina's video colours) under the label strip of
 * {@link stimulusFrameLabelSvgs}. Node's `stimulusToGif` draws the same pictures; a browser can show these as they are.
 */
export function stimulusFrameSvgs(video: Video, options: LabelledFrameOptions = {}): string[] {
  const scale = labelledFrameScale(video, options);
  const { frames, width, height } = stimulusFrames(video, { scale, startAtFrame: options.startAtFrame ?? 0 });
  const labels = stimulusFrameLabelSvgs(video, width, options);
  return frames.map((rgba, k) => {
    const fig = new Figure({ width, height: height + labels.height, fontSize: 12 });
    fig.raw(labels.svgs[k]!.replace(/^<svg[^>]*>/, `<svg x="0" y="0" width="${width}" height="${labels.height}">`));
    fig.picture({ x: 0, y: labels.height, width, height }, { data: rgba, width, height });
    return fig.toSvg();
  });
}

/** RGBA frames as {@link RgbaImage}s (for `encodeGif` of @openretina/plot). */
export function stimulusFrameImages(video: Video, options: VideoFramesOptions = {}): RgbaImage[] {
  const { width, height, frames } = stimulusFrames(video, options);
  return frames.map((data) => ({ data, width, height }));
}

export interface ObjectiveCurveOptions {
  title?: string;
  /** Whether the run met the convergence criterion (written in the subtitle). */
  converged?: boolean;
  /** The step cap of the run (a dashed line when it was reached). */
  maxIterations?: number;
}

/** The MEI objective per optimisation step. */
export function objectiveCurveSvg(objectives: readonly number[], options: ObjectiveCurveOptions = {}): string {
  const first = objectives[0];
  const last = objectives[objectives.length - 1];
  const gain = first !== undefined && last !== undefined && first !== 0 ? ((last - first) / Math.abs(first)) * 100 : Number.NaN;
  const status = options.converged === undefined ? '' : options.converged ? ' · converged' : ' · NOT converged (stopped at the step cap)';
  const fig = new Figure({
    width: 560,
    height: 340,
    title: options.title ?? 'MEI objective',
    subtitle: `${first?.toFixed(4) ?? 'n/a'} → ${last?.toFixed(4) ?? 'n/a'} after ${objectives.length} steps${Number.isFinite(gain) ? ` (${gain >= 0 ? '+' : ''}${gain.toFixed(1)} %)` : ''}${status}`,
  });
  const ax = fig.axes(
    { x: 0, y: fig.top + 4, width: 560, height: 340 - fig.top - 4 },
    { xLabel: 'Step', yLabel: 'Objective (mean response)' },
  );
  ax.line(
    objectives.map((_, i) => i + 1),
    objectives,
    { color: '#1f77b4', width: 2 },
  );
  if (options.maxIterations !== undefined && objectives.length >= options.maxIterations) ax.vline(options.maxIterations, { color: '#b00' });
  return fig.toSvg();
}
