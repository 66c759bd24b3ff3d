import type { Movie, StimulusSpec } from '@openretina/contracts';
import {
  MOVING_BAR_DIRECTIONS,
  MT19937,
  chirpStimulus,
  driftingGrating,
  movingBarStimulus,
  movingBarSweepFrames,
  whiteNoise,
} from '@openretina/data-io';

export type StimulusKind = 'chirp' | 'moving-bar' | 'grating' | 'white-noise' | 'natural' | 'user';

export const STIMULUS_LABELS: Record<StimulusKind, string> = {
  chirp: 'Chirp (full field)',
  'moving-bar': 'Moving bar (8 directions)',
  grating: 'Drifting grating',
  'white-noise': 'Binary white noise',
  natural: 'Natural-like movie',
  user: 'Your movie (.npy or video file)',
};

export const FRAME_RATE = 30;

export interface StimulusChoice {
  kind: StimulusKind;
  /** Grating direction in degrees. */
  direction?: number;
  /** Natural movie from the bundled dataset, if there is one (already matched to the model's input). */
  naturalMovie?: Movie;
  /** The user's own movie (already matched to the model's input) and its file name. */
  userMovie?: { movie: Movie; name: string };
}

export interface DemoStimulus {
  kind: StimulusKind;
  movie: Movie;
  label: string;
  /** For the moving bar: frames per sweep and the directions in order. */
  sweep?: { frames: number; directions: readonly number[] };
  /** Display gain: the frame shown maps values in [−1/scale, 1/scale] to the colour range (default 1). */
  displayScale?: number;
}

/** Builds a stimulus at the model's frame size and channel count, 30 Hz. */
export function makeStimulus(choice: StimulusChoice, spec: StimulusSpec): DemoStimulus {
  const geometry = { channels: spec.channels, height: spec.height, width: spec.width, frameRate: FRAME_RATE };
  switch (choice.kind) {
    case 'chirp':
      return { kind: 'chirp', movie: chirpStimulus(geometry), label: STIMULUS_LABELS.chirp };
    case 'moving-bar': {
      const barWidth = Math.max(2, Math.round(Math.min(spec.height, spec.width) / 6));
      const opts = { ...geometry, barWidth, speed: FRAME_RATE * 0.5 };
      return {
        kind: 'moving-bar',
        movie: movingBarStimulus(opts),
        label: STIMULUS_LABELS['moving-bar'],
        sweep: { frames: movingBarSweepFrames(opts), directions: MOVING_BAR_DIRECTIONS },
      };
    }
    case 'grating': {
      const direction = choice.direction ?? 0;
      return {
        kind: 'grating',
        movie: driftingGrating({
          ...geometry,
          duration: 4,
          direction,
          spatialPeriod: Math.max(4, Math.round(spec.width / 2)),
          temporalFrequency: 2,
        }),
        label: `${STIMULUS_LABELS.grating} (${direction}°)`,
      };
    }
    case 'white-noise':
      return {
        kind: 'white-noise',
        movie: whiteNoise({ ...geometry, frames: 6 * FRAME_RATE, holdFrames: 2, checkSize: 2, seed: 1 }),
        label: STIMULUS_LABELS['white-noise'],
      };
    case 'natural':
      if (choice.naturalMovie) {
        return {
          kind: 'natural',
          movie: choice.naturalMovie,
          label: `${STIMULUS_LABELS.natural} (bundled dataset's test movie)`,
          displayScale: displayScaleOf(choice.naturalMovie),
        };
      }
      return { kind: 'natural', movie: naturalLikeMovie(spec), label: `${STIMULUS_LABELS.natural} (synthetic 1/f scene)` };
    case 'user':
      if (!choice.userMovie) throw new Error('Open a movie file first (.npy or a video).');
      return {
        kind: 'user',
        movie: choice.userMovie.movie,
        label: `your movie ${choice.userMovie.name}`,
        displayScale: displayScaleOf(choice.userMovie.movie),
      };
  }
}

/**
 * A synthetic natural-like movie: a 1/f ("pink") grey-level scene, brighter in UV towards the top (the sky in mouse
 * natural scenes), viewed through a window of the model's frame size that drifts slowly and jumps (saccades) every
 * 0.3–0.8 s. Deterministic (seeded); values roughly in [−1, 1].
 */
export function naturalLikeMovie(spec: StimulusSpec, seconds = 8, seed = 3): Movie {
  const rng = new MT19937(seed);
  const size = 64;
  const scene = new Float32Array(size * size);
  for (let k = 0; k < 160; k++) {
    const f = 1 + rng.random() * 12; // cycles per scene
    const th = rng.random() * Math.PI * 2;
    const ph = rng.random() * Math.PI * 2;
    const a = 1 / f;
    const fx = (f * Math.cos(th)) / size;
    const fy = (f * Math.sin(th)) / size;
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) scene[y * size + x]! += a * Math.cos(2 * Math.PI * (fx * x + fy * y) + ph);
  }
  let max = 0;
  for (const v of scene) max = Math.max(max, Math.abs(v));
  for (let i = 0; i < scene.length; i++) scene[i] = scene[i]! / max;
  const sample = (y: number, x: number): number => {
    const yy = Math.min(size - 1.001, Math.max(0, y));
    const xx = Math.min(size - 1.001, Math.max(0, x));
    const y0 = Math.floor(yy),
      x0 = Math.floor(xx);
    const dy = yy - y0,
      dx = xx - x0;
    const at = (a: number, b: number) => scene[a * size + b]!;
    return (1 - dy) * ((1 - dx) * at(y0, x0) + dx * at(y0, x0 + 1)) + dy * ((1 - dx) * at(y0 + 1, x0) + dx * at(y0 + 1, x0 + 1));
  };
  const { channels: c, height: h, width: w } = spec;
  const frames = Math.round(seconds * FRAME_RATE);
  const data = new Float32Array(frames * h * w * c);
  let cy = size / 2 - h / 2,
    cx = size / 2 - w / 2;
  let nextSaccade = 0;
  for (let f = 0; f < frames; f++) {
    if (f >= nextSaccade) {
      cy = rng.random() * (size - h - 1);
      cx = rng.random() * (size - w - 1);
      nextSaccade = f + Math.round((0.3 + 0.5 * rng.random()) * FRAME_RATE);
    } else {
      cy = Math.min(size - h - 1, Math.max(0, cy + (rng.random() - 0.5) * 0.4));
      cx = Math.min(size - w - 1, Math.max(0, cx + (rng.random() - 0.5) * 0.4));
    }
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = sample(cy + y, cx + x);
        const sky = 0.4 * (1 - (cy + y) / size) - 0.2;
        const base = ((f * h + y) * w + x) * c;
        for (let k = 0; k < c; k++) data[base + k] = k === 1 ? 0.7 * v + sky : v;
      }
    }
  }
  return { data, shape: [frames, h, w, c] };
}

/** The bundled natural movie if its frames `[H, W, C]` fit the model's input, else undefined (use the synthetic one). */
export function naturalMovieFor(movie: Movie | undefined, spec: StimulusSpec): Movie | undefined {
  if (!movie) return undefined;
  const [, h, w, c] = movie.shape;
  return h === spec.height && w === spec.width && c === spec.channels ? movie : undefined;
}

/** Display gain for a movie whose values exceed ±1: ±2.5 standard deviations fill the colour range. */
export function displayScaleOf(movie: Movie): number {
  let s = 0;
  let s2 = 0;
  const n = movie.data.length;
  for (let i = 0; i < n; i++) {
    const v = movie.data[i]!;
    s += v;
    s2 += v * v;
  }
  const sd = Math.sqrt(Math.max(0, s2 / n - (s / n) ** 2));
  return 1 / Math.max(1, 2.5 * sd);
}
