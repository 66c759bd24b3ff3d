import type { Movie, Responses } from '@openretina/contracts';
import { ConfigError } from '@openretina/contracts';
import { MT19937 } from './random/mt19937.js';

/** Options of {@link generateSyntheticData} / `createSyntheticDataset` (OpenRetina's `create-data`; same defaults). */
export interface SyntheticDataOptions {
  /** Colour channels (default 3). */
  numColors?: number;
  /** Number of stimuli `random_noise_{i}` (default 4). */
  numStimuli?: number;
  /** Number of sessions `session_{k}` (default 2). */
  numSessions?: number;
  /** Stimulus i has `(70 + i) · clipLength` frames (default 75). */
  clipLength?: number;
  /** Frame height (default 16, as `create-data`). */
  height?: number;
  /** Frame width (default 8, as `create-data`). */
  width?: number;
  /** Seed (default 0). The numbers equal numpy's after `np.random.seed(seed)` and the same draws as `create-data`. */
  seed?: number;
}

/** A synthetic dataset in memory. */
export interface SyntheticData {
  stimuli: Record<string, Movie>;
  sessions: Record<string, { responses: Record<string, Responses>; sessionInfo: { celltypes: number[] } }>;
}

/**
 * Generates OpenRetina `create-data`'s synthetic dataset: stimuli `random_noise_{i}` ~ N(0, 1) of
 * `(numColors, (70 + i)·clipLength, height, width)` and sessions with 10–29 neurons whose responses are the sum of the
 * stimulus over a square receptive field (2–5 px) of one colour, smoothed in time by a box of 3–6 frames, times
 * U(0.5, 1.5) plus U(0, 1), and random cell types < 40. The draws follow numpy's legacy generator in `create-data`'s
 * order, so with the same seed the values equal those of `np.random.seed(seed)` + `create-data` (computed in float64,
 * stored as float32).
 */
export function generateSyntheticData(options: SyntheticDataOptions = {}): SyntheticData {
  const numColors = options.numColors ?? 3;
  const numStimuli = options.numStimuli ?? 4;
  const numSessions = options.numSessions ?? 2;
  const clipLength = options.clipLength ?? 75;
  const h = options.height ?? 16;
  const w = options.width ?? 8;
  for (const [k, v] of Object.entries({ numColors, numStimuli, numSessions, clipLength })) {
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${k} must be a positive integer, got ${v}.`);
  }
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 2 || w < 2) {
    throw new ConfigError(`height and width must be integers ≥ 2, got ${h}×${w}.`);
  }
  const rng = new MT19937((options.seed ?? 0) >>> 0);
  const neurons = Array.from({ length: numSessions }, () => 10 + rng.randint(0, 20));

  // stimuli, (C, T, H, W) in float64 as drawn, then channels-last float32 movies
  const raw: { name: string; t: number; data: Float64Array }[] = [];
  for (let i = 0; i < numStimuli; i++) {
    const t = (70 + i) * clipLength;
    const data = new Float64Array(numColors * t * h * w);
    for (let j = 0; j < data.length; j++) data[j] = rng.normal();
    raw.push({ name: `random_noise_${i}`, t, data });
  }
  const stimuli: Record<string, Movie> = {};
  for (const { name, t, data } of raw) {
    const out = new Float32Array(data.length);
    const thw = t * h * w;
    for (let c = 0; c < numColors; c++) for (let p = 0; p < thw; p++) out[p * numColors + c] = data[c * thw + p]!;
    stimuli[name] = { data: out, shape: [t, h, w, numColors] };
  }

  const sessions: SyntheticData['sessions'] = {};
  neurons.forEach((n, k) => {
    const scale = Array.from({ length: n }, () => rng.random() + 0.5);
    const bias = Array.from({ length: n }, () => rng.random());
    const color = rng.randints(0, numColors, n);
    const rfWidth = rng.randints(2, 6, n);
    const hLoc = rng.randints(0, h - 1, n);
    const wLoc = rng.randints(0, w - 1, n);
    const tWidth = rng.randints(3, 7, n);
    const responses: Record<string, Responses> = {};
    for (const { name, t, data } of raw) {
      const out = new Float32Array(t * n); // [T, N]
      const summed = new Float64Array(t);
      for (let i = 0; i < n; i++) {
        const base = color[i]! * t * h * w;
        const y1 = Math.min(h, hLoc[i]! + rfWidth[i]!);
        const x1 = Math.min(w, wLoc[i]! + rfWidth[i]!);
        for (let f = 0; f < t; f++) {
          let s = 0;
          for (let y = hLoc[i]!; y < y1; y++) for (let x = wLoc[i]!; x < x1; x++) s += data[base + (f * h + y) * w + x]!;
          summed[f] = s;
        }
        // np.convolve(resp, ones(m)/m, mode="same"): out[j] = full[j + (m-1)//2]
        const m = tWidth[i]!;
        const off = (m - 1) >> 1;
        for (let j = 0; j < t; j++) {
          const full = j + off;
          let s = 0;
          for (let q = Math.max(0, full - m + 1); q <= Math.min(t - 1, full); q++) s += summed[q]!;
          out[j * n + i] = (s / m) * scale[i]! + bias[i]!;
        }
      }
      responses[name] = { data: out, shape: [t, n] };
    }
    const celltypes = rng.randints(0, 40, n);
    sessions[`session_${k}`] = { responses, sessionInfo: { celltypes } };
  });
  return { stimuli, sessions };
}
