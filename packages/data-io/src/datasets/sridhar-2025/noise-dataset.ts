import type { Responses } from '@openretina/contracts';
import { ConfigError, DataError } from '@openretina/contracts';
import { crop4, type SridharCrop } from './crop.js';
import type { SridharSample, SridharSampleSource } from './data-loader.js';

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
