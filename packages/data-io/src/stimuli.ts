import type { Movie } from '@openretina/contracts';
import { ConfigError } from '@openretina/contracts';
import { MT19937 } from './random/mt19937.js';

/**
 * Artificial stimuli, generated procedurally (OpenRetina only loads pre-rendered pickles, which are not in its
 * repository). Every generator returns a channels-last `Movie` `[T, H, W, C]`. Intensities are in OpenRetina's
 * normalised range: `−1` = black, `0` = grey, `+1` = full brightness (what `(x − 128) / 128` gives for 8-bit frames).
 */

/** Frame geometry shared by all generators. Defaults: 2 channels (green, UV), 18×16 px, 30 Hz (Höfling 2024 low-res). */
export interface StimulusGeometry {
  /** Colour channels (default 2). */
  channels?: number;
  /** Frame height in px (default 18). */
  height?: number;
  /** Frame width in px (default 16). */
  width?: number;
  /** Frames per second (default 30). */
  frameRate?: number;
  /** Per-channel gain applied to the intensity (default all 1: achromatic). */
  channelGains?: readonly number[];
}

interface Geometry {
  c: number;
  h: number;
  w: number;
  fps: number;
  gains: number[];
}

function geometry(o: StimulusGeometry): Geometry {
  const c = o.channels ?? 2;
  const h = o.height ?? 18;
  const w = o.width ?? 16;
  const fps = o.frameRate ?? 30;
  for (const [k, v] of Object.entries({ channels: c, height: h, width: w })) {
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${k} must be a positive integer, got ${v}.`);
  }
  if (!(fps > 0)) throw new ConfigError(`frameRate must be positive, got ${fps}.`);
  const gains = o.channelGains ? [...o.channelGains] : new Array<number>(c).fill(1);
  if (gains.length !== c) throw new ConfigError(`channelGains has ${gains.length} entries for ${c} channels.`);
  return { c, h, w, fps, gains };
}

/** A full-field movie from one intensity per frame. */
function fullField(values: ArrayLike<number>, g: Geometry): Movie {
  const t = values.length;
  const fs = g.h * g.w * g.c;
  const data = new Float32Array(t * fs);
  for (let f = 0; f < t; f++) {
    const base = f * fs;
    for (let p = 0; p < g.h * g.w; p++) for (let k = 0; k < g.c; k++) data[base + p * g.c + k] = values[f]! * g.gains[k]!;
  }
  return { data, shape: [t, g.h, g.w, g.c] };
}

/** A movie from a function of (frame, y, x) → intensity, the same for all channels up to their gains. */
function spatial(frames: number, g: Geometry, fn: (f: number, y: number, x: number) => number): Movie {
  const fs = g.h * g.w * g.c;
  const data = new Float32Array(frames * fs);
  for (let f = 0; f < frames; f++) {
    for (let y = 0; y < g.h; y++) {
      for (let x = 0; x < g.w; x++) {
        const v = fn(f, y, x);
        const base = f * fs + (y * g.w + x) * g.c;
        for (let k = 0; k < g.c; k++) data[base + k] = v * g.gains[k]!;
      }
    }
  }
  return { data, shape: [frames, g.h, g.w, g.c] };
}

/** Timing of the chirp, in seconds (defaults sum to 33 s, the chirp length OpenRetina's trigger upsampling assumes). */
export interface ChirpOptions extends StimulusGeometry {
  /** Dark before the step (default 2). */
  preDark?: number;
  /** Light ON step (default 3). */
  stepOn?: number;
  /** Dark after the step (default 3). */
  stepOff?: number;
  /** Grey after the step, before the frequency chirp (default 3). */
  preChirpGrey?: number;
  /** Grey between the chirps and after the amplitude chirp (default 2). */
  grey?: number;
  /** Frequency chirp duration (default 8) and start/end frequency in Hz (default 0 → 8). */
  frequencyChirp?: number;
  startFrequency?: number;
  endFrequency?: number;
  /** Amplitude chirp duration (default 8) and frequency (default 2 Hz); the amplitude rises linearly from 0 to 1. */
  amplitudeChirp?: number;
  amplitudeFrequency?: number;
  /** Dark at the end (default 2). */
  postDark?: number;
  /** Grey level (default 0) and full contrast around it (default 1). */
  mean?: number;
  contrast?: number;
}

/**
 * The full-field "chirp" (Baden et al. 2016): dark, a light step, grey, a sine whose frequency rises linearly, grey,
 * a sine of fixed frequency whose amplitude rises linearly, grey, dark.
 */
export function chirpStimulus(options: ChirpOptions = {}): Movie {
  const g = geometry(options);
  const preDark = options.preDark ?? 2;
  const on = options.stepOn ?? 3;
  const off = options.stepOff ?? 3;
  const preGrey = options.preChirpGrey ?? 3;
  const grey = options.grey ?? 2;
  const fDur = options.frequencyChirp ?? 8;
  const f0 = options.startFrequency ?? 0;
  const f1 = options.endFrequency ?? 8;
  const aDur = options.amplitudeChirp ?? 8;
  const aFreq = options.amplitudeFrequency ?? 2;
  const postDark = options.postDark ?? 2;
  const mean = options.mean ?? 0;
  const contrast = options.contrast ?? 1;
  const segments: [number, (s: number) => number][] = [
    [preDark, () => -1],
    [on, () => 1],
    [off, () => -1],
    [preGrey, () => 0],
    [fDur, (s) => Math.sin(2 * Math.PI * (f0 * s + ((f1 - f0) * s * s) / (2 * fDur)))],
    [grey, () => 0],
    [aDur, (s) => (s / aDur) * Math.sin(2 * Math.PI * aFreq * s)],
    [grey, () => 0],
    [postDark, () => -1],
  ];
  const total = segments.reduce((a, [d]) => a + d, 0);
  const frames = Math.round(total * g.fps);
  const values = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let t = f / g.fps;
    for (let i = 0; i < segments.length; i++) {
      const [d, fn] = segments[i]!;
      if (t < d || i === segments.length - 1) {
        values[f] = mean + contrast * fn(Math.min(t, d));
        break;
      }
      t -= d;
    }
  }
  return fullField(values, g);
}

/** OpenRetina's moving-bar direction order (degrees; 0 = rightwards, 90 = upwards). */
export const MOVING_BAR_DIRECTIONS = [0, 180, 45, 225, 90, 270, 135, 315] as const;

/** Options of {@link movingBarStimulus}. */
export interface MovingBarOptions extends StimulusGeometry {
  /** Directions of motion in degrees, one sweep each (default {@link MOVING_BAR_DIRECTIONS}). */
  directions?: readonly number[];
  /** Speed in px per second (default 1 px per frame at the frame rate). */
  speed?: number;
  /** Bar width along the motion, px (default 2). */
  barWidth?: number;
  /** Bar length across the motion, px (default: longer than the frame). */
  barLength?: number;
  /** Intensities of the bar and of the background (defaults 1 and −1). */
  barValue?: number;
  background?: number;
}

/**
 * A bar sweeping across the frame once per direction, perpendicular to its motion. Each sweep starts with the bar just
 * outside the frame and ends when it has left it, so it lasts `ceil((diagonal + barWidth) / pxPerFrame) + 1` frames;
 * sweeps are concatenated in the given order. Use {@link movingBarSweepFrames} for the per-direction length.
 */
export function movingBarStimulus(options: MovingBarOptions = {}): Movie {
  const g = geometry(options);
  const dirs = options.directions ?? MOVING_BAR_DIRECTIONS;
  const sweep = movingBarSweepFrames(options);
  const pxPerFrame = (options.speed ?? g.fps) / g.fps;
  const width = options.barWidth ?? 2;
  const length = options.barLength ?? Infinity;
  const bar = options.barValue ?? 1;
  const bg = options.background ?? -1;
  const reach = Math.hypot(g.h, g.w) / 2 + width / 2;
  return spatial(dirs.length * sweep, g, (f, y, x) => {
    const d = dirs[Math.floor(f / sweep)]!;
    const s = f % sweep;
    const th = (d * Math.PI) / 180;
    const px = x + 0.5 - g.w / 2;
    const py = g.h / 2 - (y + 0.5);
    const u = px * Math.cos(th) + py * Math.sin(th);
    const v = -px * Math.sin(th) + py * Math.cos(th);
    const pos = -reach + s * pxPerFrame;
    return Math.abs(u - pos) <= width / 2 && Math.abs(v) <= length / 2 ? bar : bg;
  });
}

/** Frames of one sweep of {@link movingBarStimulus}. */
export function movingBarSweepFrames(options: MovingBarOptions = {}): number {
  const g = geometry(options);
  const pxPerFrame = (options.speed ?? g.fps) / g.fps;
  if (!(pxPerFrame > 0)) throw new ConfigError(`speed must be positive, got ${options.speed}.`);
  const width = options.barWidth ?? 2;
  return Math.ceil((Math.hypot(g.h, g.w) + width) / pxPerFrame) + 1;
}

/** Options of {@link driftingGrating}. */
export interface DriftingGratingOptions extends StimulusGeometry {
  /** Duration in seconds (default 2). */
  duration?: number;
  /** Spatial period in px (default 8). */
  spatialPeriod?: number;
  /** Temporal frequency in Hz (default 2). */
  temporalFrequency?: number;
  /** Direction of drift in degrees (default 0 = rightwards; 90 = upwards). */
  direction?: number;
  /** Mean (default 0) and contrast (default 1). */
  mean?: number;
  contrast?: number;
  /** `sine` (default) or `square`. */
  waveform?: 'sine' | 'square';
  /** Phase at t = 0 in radians (default 0). */
  phase?: number;
}

/** A full-frame grating drifting in one direction: `mean + contrast · wave(2π (u / period − f t) + phase)`. */
export function driftingGrating(options: DriftingGratingOptions = {}): Movie {
  const g = geometry(options);
  const frames = Math.round((options.duration ?? 2) * g.fps);
  const period = options.spatialPeriod ?? 8;
  const tf = options.temporalFrequency ?? 2;
  const th = ((options.direction ?? 0) * Math.PI) / 180;
  const mean = options.mean ?? 0;
  const contrast = options.contrast ?? 1;
  const phase = options.phase ?? 0;
  const square = options.waveform === 'square';
  return spatial(frames, g, (f, y, x) => {
    const u = (x + 0.5 - g.w / 2) * Math.cos(th) + (g.h / 2 - (y + 0.5)) * Math.sin(th);
    const s = Math.sin(2 * Math.PI * (u / period - (tf * f) / g.fps) + phase);
    return mean + contrast * (square ? (s >= 0 ? 1 : -1) : s);
  });
}

/** Options of {@link whiteNoise}. */
export interface WhiteNoiseOptions extends StimulusGeometry {
  /** Number of frames (default 1 s at the frame rate). */
  frames?: number;
  /** `binary` (±1, default) or `gaussian` (N(0, 1)). */
  distribution?: 'binary' | 'gaussian';
  /** Side of the square checks in px (default 1). */
  checkSize?: number;
  /** Frames each noise frame is held (default 1). */
  holdFrames?: number;
  /** Independent noise per channel (default true); otherwise one pattern scaled by the channel gains. */
  independentChannels?: boolean;
  /** Mean (default 0) and contrast (default 1). */
  mean?: number;
  contrast?: number;
  /** Seed (default 0). */
  seed?: number;
}

/** Binary or Gaussian white noise on square checks, deterministic by seed. */
export function whiteNoise(options: WhiteNoiseOptions = {}): Movie {
  const g = geometry(options);
  const frames = options.frames ?? Math.round(g.fps);
  const check = options.checkSize ?? 1;
  const hold = options.holdFrames ?? 1;
  const gaussian = options.distribution === 'gaussian';
  const independent = options.independentChannels ?? true;
  const mean = options.mean ?? 0;
  const contrast = options.contrast ?? 1;
  if (!Number.isInteger(check) || check < 1 || !Number.isInteger(hold) || hold < 1) {
    throw new ConfigError(`checkSize and holdFrames must be positive integers, got ${check} and ${hold}.`);
  }
  const rng = new MT19937((options.seed ?? 0) >>> 0);
  const ch = Math.ceil(g.h / check);
  const cw = Math.ceil(g.w / check);
  const nc = independent ? g.c : 1;
  const fs = g.h * g.w * g.c;
  const data = new Float32Array(frames * fs);
  const pattern = new Float32Array(ch * cw * nc);
  for (let f = 0; f < frames; f++) {
    if (f % hold === 0) for (let i = 0; i < pattern.length; i++) pattern[i] = gaussian ? rng.normal() : rng.random() < 0.5 ? -1 : 1;
    for (let y = 0; y < g.h; y++) {
      for (let x = 0; x < g.w; x++) {
        const cell = (Math.floor(y / check) * cw + Math.floor(x / check)) * nc;
        const base = f * fs + (y * g.w + x) * g.c;
        for (let k = 0; k < g.c; k++)
          data[base + k] = mean + contrast * pattern[cell + (independent ? k : 0)]! * (independent ? 1 : g.gains[k]!);
      }
    }
  }
  return { data, shape: [frames, g.h, g.w, g.c] };
}

/** Options of {@link coloredStimulus}. */
export interface ColoredStimulusOptions {
  /** Frames of 0 before the step (default 0). */
  padFront?: number;
  /** Frames of 0 after the step (default 0). */
  padEnd?: number;
  /** Colour channels (default 2). */
  numColorChannels?: number;
}

/**
 * A full-field colour step (OpenRetina's `colored_stimulus`): 1 in channel `channelIdx` for `stimulusLength` frames,
 * 0 elsewhere and during the padding. OpenRetina returns `(1, C, T, size_x, size_y)`; this returns the `Movie`
 * `[T, sizeX, sizeY, C]` (height = sizeX, width = sizeY, as there).
 */
export function coloredStimulus(
  channelIdx: number,
  stimulusLength: number,
  sizeX: number,
  sizeY: number,
  options: ColoredStimulusOptions = {},
): Movie {
  const c = options.numColorChannels ?? 2;
  const front = options.padFront ?? 0;
  const end = options.padEnd ?? 0;
  if (!Number.isInteger(channelIdx) || channelIdx < 0 || channelIdx >= c) {
    throw new ConfigError(`channelIdx must be in [0, ${c}), got ${channelIdx}.`);
  }
  const t = front + stimulusLength + end;
  const fs = sizeX * sizeY * c;
  const data = new Float32Array(t * fs);
  for (let f = front; f < front + stimulusLength; f++) for (let p = 0; p < sizeX * sizeY; p++) data[f * fs + p * c + channelIdx] = 1;
  return { data, shape: [t, sizeX, sizeY, c] };
}

/** Concatenates movies of the same frame shape along time. */
export function concatMovies(movies: readonly Movie[]): Movie {
  if (movies.length === 0) throw new ConfigError('concatMovies needs at least one movie.');
  const [, h, w, c] = movies[0]!.shape;
  for (const m of movies) {
    if (m.shape[1] !== h || m.shape[2] !== w || m.shape[3] !== c)
      throw new ConfigError(`Cannot concatenate movies of frame shapes [${h}, ${w}, ${c}] and [${m.shape.slice(1).join(', ')}].`);
  }
  const t = movies.reduce((a, m) => a + m.shape[0], 0);
  const data = new Float32Array(t * h * w * c);
  let off = 0;
  for (const m of movies) {
    data.set(m.data, off);
    off += m.data.length;
  }
  return { data, shape: [t, h, w, c] };
}
