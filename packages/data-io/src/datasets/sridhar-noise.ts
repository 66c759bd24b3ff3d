import type { MovieSplit, ResponseSplit, Responses } from '@openretina/contracts';
import { ConfigError, DataError } from '@openretina/contracts';
import { createMovieSplit } from '../containers.js';
import type { SridharSample, SridharSampleSource } from './sridhar-sampling.js';

/** A crop `(top, bottom, left, right)`, or one value for all four sides. */
export type SridharCrop = number | readonly [number, number, number, number];

const crop4 = (c: SridharCrop | undefined, dflt: number): [number, number, number, number] =>
  c === undefined ? [dflt, dflt, dflt, dflt] : typeof c === 'number' ? [c, c, c, c] : [c[0], c[1], c[2], c[3]];

/**
 * Cells excluded per retina in OpenRetina's Sridhar 2025 dataloader configs (unreliable responses to the white-noise and
 * natural-movie test sets). The natural-movie list keeps cells 12 and 168 of retina "01" (the published model was
 * trained with them); the white-noise list excludes them.
 */
export const SRIDHAR_2025_EXCLUDED_CELLS: {
  readonly naturalMovie: Readonly<Record<string, readonly number[]>>;
  readonly whiteNoise: Readonly<Record<string, readonly number[]>>;
} = (() => {
  const r01 = [
    1, 5, 6, 7, 9, 10, 14, 16, 19, 20, 22, 25, 26, 29, 30, 31, 32, 33, 34, 35, 43, 46, 53, 54, 57, 62, 63, 64, 70, 71, 72, 77, 78, 79, 81,
    82, 83, 86, 89, 90, 91, 94, 96, 97, 101, 103, 106, 112, 114, 116, 121, 122, 126, 127, 128, 130, 133, 136, 140, 143, 144, 145, 146, 148,
    149, 155, 159, 162, 171, 176, 177, 178, 182, 185, 189, 191, 193, 197, 200, 209, 221, 222, 227, 230, 231, 234, 235, 236, 242, 243, 245,
    247, 250, 254, 257, 258, 261, 262, 269, 271, 273, 274, 277, 281, 292, 296, 301, 303, 304, 307, 310, 311, 312, 313, 317, 318, 320, 325,
    330, 331, 332, 333, 340, 341, 342, 344, 350, 352, 353, 354, 357, 358, 362, 363, 365,
  ];
  const r02 = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 15, 16, 17, 18, 21, 24, 25, 26, 28, 29, 32, 42, 43, 44, 45, 46, 48, 50, 51, 53, 57, 58, 59, 60,
    61, 64, 66, 69, 70, 72, 74, 77, 78, 80, 81, 82, 83, 84, 85, 86, 87, 89, 90, 91, 92, 95, 96, 98, 100, 101, 103, 107, 108, 111, 112, 113,
    115, 117, 118, 119, 120, 121, 123, 124, 125, 127, 128, 129, 130, 131, 134, 136, 138, 140, 141, 143, 144, 145, 146, 147, 149, 150, 151,
    152, 153, 154, 156, 159, 160, 162, 163, 164, 166, 170, 172, 173, 174, 175, 176, 179, 181,
  ];
  const r04 = [0, 1, 13, 15, 19, 21, 22, 24, 29, 33, 34, 40, 41, 46, 47, 49, 51, 55, 57, 59, 62, 65, 71, 84, 89, 90, 94, 99, 103, 108];
  const wn01 = [...r01, 12, 168].sort((a, b) => a - b);
  return { naturalMovie: { '01': r01, '02': r02, '03': [], '04': r04 }, whiteNoise: { '01': wn01, '02': r02, '04': r04 } };
})();

/** White-noise constants of OpenRetina's `sridhar_wn_2025` configs. */
export const SRIDHAR_2025_WHITE_NOISE = {
  responseFiles: {
    '01': 'responses/cell_responses_01_wn.pkl',
    '02': 'responses/cell_responses_02_wn.pkl',
    '04': 'responses/cell_responses_04_wn.pkl',
  } as Readonly<Record<string, string>>,
  trainImagePath: { '01': 'non_repeating_stimuli_1', '02': 'non_repeating_stimuli_1', '04': 'non_repeating_stimuli_2' } as Readonly<
    Record<string, string>
  >,
  testImagePath: { '01': 'repeating_stimuli_1', '02': 'repeating_stimuli_1', '04': 'repeating_stimuli_2' } as Readonly<
    Record<string, string>
  >,
  bigCrops: [35, 35, 55, 55] as const,
} as const;

/** Frames of a white-noise file as stored: `(h, w, n)`, any numeric type. */
export interface NoiseFrames {
  readonly data: ArrayLike<number>;
  readonly shape: readonly number[];
}

/** Where a {@link SridharNoiseDataset} gets its frames (`trial_XXX/all_images.npy` and the repeated test file). */
export interface NoiseTrialSource {
  trial(index: number): NoiseFrames;
  test(): NoiseFrames;
}

/**
 * Crops `(top, bottom, left, right)` and subsamples `(h, w, n)` frames (OpenRetina's `transform_image`) and returns
 * them time-major: `data` `[n, h', w']` float32, so a chunk of frames is a contiguous sub-array.
 */
export function cropNoiseFrames(
  frames: NoiseFrames,
  crop: SridharCrop = 0,
  subsample = 1,
  source = 'frames',
): { data: Float32Array; shape: [number, number, number] } {
  if (frames.shape.length !== 3) throw new DataError(`${source}: expected (h, w, n) frames, got shape [${frames.shape.join(', ')}].`);
  const [h, w, n] = frames.shape as [number, number, number];
  if (frames.data.length !== h * w * n) throw new DataError(`${source}: ${frames.data.length} values for shape [${h}, ${w}, ${n}].`);
  const [top, bottom, left, right] = crop4(crop, 0);
  const rows: number[] = [];
  for (let y = top; y < h - bottom; y += subsample) rows.push(y);
  const cols: number[] = [];
  for (let x = left; x < w - right; x += subsample) cols.push(x);
  if (rows.length === 0 || cols.length === 0)
    throw new ConfigError(`${source}: crop [${top}, ${bottom}, ${left}, ${right}] leaves nothing of ${h}×${w} frames.`);
  const hh = rows.length;
  const ww = cols.length;
  const out = new Float32Array(n * hh * ww);
  const src = frames.data;
  for (let i = 0; i < hh; i++) {
    for (let j = 0; j < ww; j++) {
      const base = (rows[i]! * w + cols[j]!) * n;
      const o = i * ww + j;
      for (let t = 0; t < n; t++) out[t * hh * ww + o] = src[base + t]!;
    }
  }
  return { data: out, shape: [n, hh, ww] };
}

/** Options of {@link SridharNoiseDataset}. */
export interface SridharNoiseDatasetOptions {
  split: 'train' | 'test';
  /** Trials (files `trial_XXX`) of a train or validation split. */
  trialIndices?: readonly number[];
  /** Target frames per sample (default 100). */
  timeChunkSize?: number;
  /** Extra input frames before the targets (see `sridharFrameOverhead`). */
  frameOverhead: number;
  /** Targets are shifted this many frames later than the inputs (default 0). */
  extraFrame?: number;
  /** `(top, bottom, left, right)` (default 20 on every side, OpenRetina's dataset default; the loaders pass `big_crops`). */
  crop?: SridharCrop;
  subsample?: number;
  /** Keep loaded trials (default true). */
  useCache?: boolean;
  /** Trials kept (default 5). When full, the most recently inserted trial is dropped first, as in OpenRetina. */
  cacheMaxsize?: number;
}

/**
 * The Sridhar white-noise dataset (OpenRetina's `NoiseDataset`): trial files `(h, w, n)` read on demand through a
 * {@link NoiseTrialSource} and kept in a small cache, cropped and subsampled. Sample `item` of trial
 * `trialIndices[floor(item / chunksPerTrial)]` has input frames `[s, s + chunk + overhead)` with
 * `s = (item mod chunksPerTrial)·chunk`, and targets `[s + overhead + extraFrame, s + chunk + overhead + extraFrame)`
 * of that trial's responses; `chunksPerTrial = floor((framesPerTrial − overhead − extraFrame) / chunk)`. The test
 * split reads the repeated stimulus and the averaged test responses. Responses: train `[trials·framesPerTrial, N]`
 * (trial after trial, as `loadSridhar2025Responses` gives them) and test `[T, N]`.
 */
export class SridharNoiseDataset implements SridharSampleSource {
  readonly chunksPerTrial: number;
  readonly numOfImgs: number;
  private readonly chunk: number;
  private readonly trials: readonly number[];
  private readonly extra: number;
  private readonly cache = new Map<number, { data: Float32Array; shape: [number, number, number] }>();
  /** Number of trial files read so far (for tests and diagnostics). */
  filesRead = 0;

  constructor(
    private readonly source: NoiseTrialSource,
    private readonly responses: { train: Responses; test: Responses; framesPerTrial: number },
    private readonly options: SridharNoiseDatasetOptions,
  ) {
    this.chunk = options.timeChunkSize ?? 100;
    this.extra = options.extraFrame ?? 0;
    const test = options.split === 'test';
    this.numOfImgs = test ? responses.test.shape[0] : responses.framesPerTrial;
    this.chunksPerTrial = Math.floor((this.numOfImgs - options.frameOverhead - this.extra) / this.chunk);
    if (!test && options.trialIndices === undefined)
      throw new ConfigError('trialIndices are required for the train and validation splits.');
    this.trials = test ? [0] : options.trialIndices!;
    const nTrials = responses.train.shape[0] / responses.framesPerTrial;
    if (!test) {
      for (const t of this.trials) {
        if (!Number.isInteger(t) || t < 0 || t >= nTrials)
          throw new DataError(`Trial ${t} is outside the ${nTrials} trials of the responses.`);
      }
    }
  }

  get length(): number {
    return Math.max(0, this.chunksPerTrial) * this.trials.length;
  }

  get nNeurons(): number {
    return this.responses.train.shape[1];
  }

  /** Trials currently cached (insertion order). */
  get cachedTrials(): number[] {
    return [...this.cache.keys()];
  }

  /** Drops every cached trial (OpenRetina's `purge_cache`). */
  purgeCache(): void {
    this.cache.clear();
  }

  private frames(trial: number): { data: Float32Array; shape: [number, number, number] } {
    const hit = this.cache.get(trial);
    if (hit) return hit;
    const test = this.options.split === 'test';
    const raw = test ? this.source.test() : this.source.trial(trial);
    this.filesRead++;
    const f = cropNoiseFrames(raw, this.options.crop ?? 20, this.options.subsample ?? 1, test ? 'test stimulus' : `trial ${trial}`);
    if (this.options.useCache ?? true) {
      const max = this.options.cacheMaxsize ?? 5;
      if (this.cache.size >= max) {
        const last = [...this.cache.keys()].pop();
        if (last !== undefined) this.cache.delete(last);
      }
      if (max > 0) this.cache.set(trial, f);
    }
    return f;
  }

  /** The whole cropped test stimulus `[T, h, w, 1]` (OpenRetina's `movies` of the test dataset). */
  testMovie(): { data: Float32Array; shape: [number, number, number, number] } {
    const f = cropNoiseFrames(this.source.test(), this.options.crop ?? 20, this.options.subsample ?? 1, 'test stimulus');
    return { data: f.data, shape: [f.shape[0], f.shape[1], f.shape[2], 1] };
  }

  get(item: number): SridharSample {
    if (!Number.isInteger(item) || item < 0 || item >= this.length) throw new DataError(`Sample ${item} is outside [0, ${this.length}).`);
    const test = this.options.split === 'test';
    const trial = test ? 0 : this.trials[Math.floor(item / this.chunksPerTrial)]!;
    const start = (item % this.chunksPerTrial) * this.chunk;
    const span = this.chunk + this.options.frameOverhead;
    const f = this.frames(trial);
    const [n, h, w] = f.shape;
    if (start + span > n)
      throw new DataError(
        `Sample ${item} needs frames [${start}, ${start + span}) of ${test ? 'the test stimulus' : `trial ${trial}`}, which has ${n}.`,
      );
    const inputs = f.data.subarray(start * h * w, (start + span) * h * w);
    const nn = this.nNeurons;
    const src = test ? this.responses.test.data : this.responses.train.data;
    const a = (test ? 0 : trial * this.responses.framesPerTrial) + start + this.options.frameOverhead + this.extra;
    return {
      inputs: { data: inputs, shape: [span, h, w, 1] },
      targets: { data: src.slice(a * nn, (a + this.chunk) * nn), shape: [this.chunk, nn] },
    };
  }
}

/**
 * The pixel of largest temporal variance of a spike-triggered average `(T, h, w)` (OpenRetina's
 * `get_location_from_sta`): optionally flipped along axis 1 (`np.flip(sta, axis=1)`) and cropped
 * `(top, bottom, left, right)` first; variance with ddof 0; ties (and NaN, as `np.argmax`) give the first pixel in
 * row-major order. Returns `[row, col]` in the cropped frame.
 */
export function locationFromSta(sta: NoiseFrames, options: { flipSta?: boolean; crop?: SridharCrop } = {}): [number, number] {
  if (sta.shape.length !== 3) throw new DataError(`Expected a (T, h, w) STA, got shape [${sta.shape.join(', ')}].`);
  const [t, h, w] = sta.shape as [number, number, number];
  const [top, bottom, left, right] = crop4(options.crop, 0);
  const doCrop = top + bottom + left + right > 0;
  const r0 = doCrop ? top : 0;
  const r1 = doCrop ? h - bottom : h;
  const c0 = doCrop ? left : 0;
  const c1 = doCrop ? w - right : w;
  if (r1 <= r0 || c1 <= c0) throw new ConfigError(`Crop [${top}, ${bottom}, ${left}, ${right}] leaves nothing of a ${h}×${w} STA.`);
  const ww = c1 - c0;
  let best = -Infinity;
  let bestIdx = 0;
  let k = 0;
  for (let i = r0; i < r1; i++) {
    const src = options.flipSta ? h - 1 - i : i;
    for (let j = c0; j < c1; j++, k++) {
      let mean = 0;
      for (let f = 0; f < t; f++) mean += Number(sta.data[(f * h + src) * w + j]);
      mean /= t;
      let v = 0;
      for (let f = 0; f < t; f++) {
        const d = Number(sta.data[(f * h + src) * w + j]) - mean;
        v += d * d;
      }
      v /= t;
      if (Number.isNaN(v)) {
        if (!Number.isNaN(best)) {
          best = NaN;
          bestIdx = k;
        }
      } else if (!Number.isNaN(best) && v > best) {
        best = v;
        bestIdx = k;
      }
    }
  }
  return [Math.floor(bestIdx / ww), bestIdx % ww];
}

/** Options of {@link sridharPlaceholderMovies}. */
export interface SridharPlaceholderOptions {
  /** Default 1. */
  channels?: number;
  /** Default 80 (the cropped natural-movie frame). */
  height?: number;
  /** Default 90. */
  width?: number;
  /** Stimulus ids are `<prefix>_<session>` (default `sridhar_2025`). */
  stimIdPrefix?: string;
  normMean?: number;
  normStd?: number;
}

/**
 * Placeholder movies for `computeDataInfo` (OpenRetina's `build_movies_from_responses`): zero movies with the train and
 * test lengths of each session's responses and the model's frame size. The zeros are not written, so the operating
 * system does not commit memory for them; a movie longer than a typed array can hold (about 4.3·10⁹ values) is an
 * error. The datasets render their own inputs; these movies only carry shapes.
 */
export function sridharPlaceholderMovies(
  responses: Readonly<Record<string, ResponseSplit>>,
  options: SridharPlaceholderOptions = {},
): Record<string, MovieSplit> {
  const c = options.channels ?? 1;
  const h = options.height ?? 80;
  const w = options.width ?? 90;
  const out: Record<string, MovieSplit> = {};
  for (const [session, r] of Object.entries(responses)) {
    const test = Object.values(r.test)[0];
    if (!test) throw new DataError(`${session}: no test responses.`);
    const make = (t: number) => {
      try {
        return { data: new Float32Array(t * h * w * c), shape: [t, h, w, c] as const };
      } catch (error) {
        throw new DataError(`${session}: a placeholder movie of ${t} frames of ${c}×${h}×${w} does not fit a typed array.`, {
          cause: error,
        });
      }
    };
    out[session] = createMovieSplit({
      train: make(r.train.shape[0]),
      test: make(test.shape[0]),
      stimId: `${options.stimIdPrefix ?? 'sridhar_2025'}_${session}`,
      normMean: options.normMean ?? 0,
      normStd: options.normStd ?? 1,
    });
  }
  return out;
}
