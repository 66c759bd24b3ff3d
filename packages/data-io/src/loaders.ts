import * as tf from '@tensorflow/tfjs-core';
import type { Movie, MovieSplit, ResponseSplit, Responses, SessionBatch, TrialResponses } from '@openretina/contracts';
import { ConfigError, DataError, formatShape } from '@openretina/contracts';
import { FrameSequence } from './frames.js';
import { deriveSeed } from './random/derive-seed.js';
import { MT19937 } from './random/mt19937.js';

/** A data split name as OpenRetina spells them. */
export type SplitName = 'train' | 'validation' | 'val' | 'test';

/** What to do when a session's responses contain NaN. OpenRetina skips the session with a warning. */
export type NanPolicy = 'skip' | 'error';

/**
 * Start indices shifted at random but kept inside their scene (OpenRetina's `gen_shifts_with_boundaries`).
 * Each start index gets a shift drawn from `[0, floor(chunk / 2))`; a shifted chunk that would cross the next scene
 * boundary keeps its original start, a chunk that already crosses it is moved back to end on the boundary, and the
 * last chunk never passes the final bound. (With `chunk < 2` the shift range is empty and every shift is 0.)
 */
export function genShiftsWithBoundaries(
  clipBounds: readonly number[],
  startIndices: readonly number[],
  chunkSize: number,
  rng: MT19937,
): number[] {
  const half = Math.floor(chunkSize / 2);
  const shifts = startIndices.map(() => (half > 0 ? rng.randint(0, half) : 0));
  const nextBound = (value: number): number => {
    // first bound strictly greater than value (bisect_right), or the last bound
    let lo = 0;
    let hi = clipBounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (clipBounds[mid]! <= value) lo = mid + 1;
      else hi = mid;
    }
    return clipBounds[Math.min(lo, clipBounds.length - 1)]!;
  };
  const out = startIndices.map((start, i) => {
    const bound = nextBound(start);
    if (start + shifts[i]! + chunkSize < bound) return start + shifts[i]!;
    if (start + chunkSize > bound) return bound - chunkSize;
    return start;
  });
  const last = clipBounds[clipBounds.length - 1]!;
  if (out.length > 0 && out[out.length - 1]! + chunkSize > last) out[out.length - 1] = last - chunkSize;
  return out;
}

/** Options of {@link MovieSampler}. */
export interface MovieSamplerOptions {
  split: SplitName;
  chunkSize: number;
  movieLength: number;
  sceneLength: number;
  allowOverBoundaries?: boolean;
  /** Seed of this sampler's own random stream (default 42). */
  seed?: number;
}

/**
 * Chooses the chunk start indices of one epoch (OpenRetina's `MovieSampler`). For `train` (when the scene length
 * differs from the chunk size) every start index is shifted at random, in `[0, chunk)` and clipped to
 * `movieLength − chunk` with `allowOverBoundaries`, otherwise with {@link genShiftsWithBoundaries}; then the order is
 * shuffled. Validation and test indices are used as given, in order. Every call of {@link epochIndices} draws anew.
 */
export class MovieSampler {
  readonly indices: readonly number[];
  readonly split: SplitName;
  readonly chunkSize: number;
  readonly movieLength: number;
  readonly sceneLength: number;
  readonly allowOverBoundaries: boolean;
  private readonly rng: MT19937;

  constructor(startIndices: readonly number[], options: MovieSamplerOptions) {
    this.indices = [...startIndices];
    this.split = options.split;
    this.chunkSize = options.chunkSize;
    this.movieLength = options.movieLength;
    this.sceneLength = options.sceneLength;
    this.allowOverBoundaries = options.allowOverBoundaries ?? false;
    this.rng = new MT19937((options.seed ?? 42) >>> 0);
  }

  get length(): number {
    return this.indices.length;
  }

  /** The start indices of the next epoch, in the order they are served. */
  epochIndices(): number[] {
    if (this.split !== 'train' || this.sceneLength === this.chunkSize) return [...this.indices];
    let shifted: number[];
    if (this.allowOverBoundaries) {
      const shifts = this.indices.map(() => this.rng.randint(0, this.chunkSize));
      shifted = this.indices.map((s, i) => Math.min(s + shifts[i]!, this.movieLength - this.chunkSize));
    } else {
      const bounds: number[] = [];
      for (let b = 0; b <= this.movieLength; b += this.sceneLength) bounds.push(b);
      shifted = genShiftsWithBoundaries(bounds, this.indices, this.chunkSize, this.rng);
    }
    const order = this.rng.permutation(this.indices.length);
    return order.map((i) => shifted[i]!);
  }
}

/** Options of {@link MovieDataLoader} and {@link getMovieDataloader}. */
export interface MovieDataLoaderOptions {
  split: SplitName;
  sceneLength: number;
  chunkSize: number;
  batchSize: number;
  /** Default: train `0, chunk, 2·chunk, …`; validation `0, scene, …`; test `[0]` (whole movie) with `allowOverBoundaries`, else `0, scene, …`. */
  startIndices?: readonly number[];
  /** Drop the last incomplete batch; applies to the train split only (default true). */
  dropLast?: boolean;
  /** Default true. */
  allowOverBoundaries?: boolean;
  /** Seed of the loader's shift and shuffle stream (default 42). */
  seed?: number;
  /** Session name put on every batch (default `"session"`). */
  session?: string;
  /** By-trial test responses `[trials, T, N]`, carried for evaluation. */
  testResponsesByTrial?: TrialResponses;
  /** What to do with NaN responses (default `'skip'`: {@link getMovieDataloader} returns null with a warning). */
  nanPolicy?: NanPolicy;
}

/**
 * Batches of movie chunks and their responses, channels-last: inputs `[B, chunk, H, W, C]`, targets `[B, chunk, N]`.
 * Each batch is assembled from sub-array views of the movie (one copy of the batch itself, never of the movie) and
 * returned as new tf tensors that the caller owns and must dispose. Iterating again starts a new epoch (new shifts and
 * order for train).
 */
export class MovieDataLoader implements Iterable<SessionBatch> {
  readonly movie: FrameSequence;
  readonly responses: FrameSequence;
  /** `[H, W, C]` of one frame. */
  readonly frameShape: readonly [number, number, number];
  readonly sampler: MovieSampler;
  readonly split: SplitName;
  readonly chunkSize: number;
  readonly batchSize: number;
  readonly dropLast: boolean;
  readonly session: string;
  readonly testResponsesByTrial: TrialResponses | undefined;
  private meanCache: Float32Array | undefined;

  constructor(
    movie: FrameSequence,
    frameShape: readonly [number, number, number],
    responses: FrameSequence,
    options: MovieDataLoaderOptions,
  ) {
    const { split, chunkSize, batchSize, sceneLength } = options;
    const allow = options.allowOverBoundaries ?? true;
    if (movie.frameSize !== frameShape[0] * frameShape[1] * frameShape[2]) {
      throw new DataError(
        `Movie frames have ${movie.frameSize} values but the frame shape ${formatShape(frameShape)} needs ${frameShape[0] * frameShape[1] * frameShape[2]}.`,
      );
    }
    if (responses.frames < movie.frames) {
      throw new DataError(`The movie has ${movie.frames} frames but the responses only ${responses.frames}.`);
    }
    for (const [k, v] of [
      ['chunkSize', chunkSize],
      ['batchSize', batchSize],
      ['sceneLength', sceneLength],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${k} must be a positive integer, got ${v}.`);
    }
    if (!allow && split === 'train' && chunkSize > sceneLength) {
      throw new ConfigError(
        `The train chunk size (${chunkSize}) must not exceed the scene length (${sceneLength}) when chunks may not cross scene boundaries.`,
      );
    }
    if (chunkSize > movie.frames) {
      throw new ConfigError(`The chunk size (${chunkSize}) is longer than the ${split} movie (${movie.frames} frames).`);
    }
    let starts = options.startIndices ? [...options.startIndices] : undefined;
    if (starts === undefined) {
      const interval = split === 'train' ? chunkSize : split === 'test' ? (allow ? movie.frames : sceneLength) : sceneLength;
      starts = [];
      for (let s = 0; s < movie.frames; s += interval) starts.push(s);
    }
    // Chunks outside the movie cannot be batched with full ones; train chunks are clipped by the sampler.
    if (split !== 'train') starts = starts.filter((s) => s >= 0 && s + chunkSize <= movie.frames);
    this.movie = movie;
    this.responses = responses;
    this.frameShape = frameShape;
    this.split = split;
    this.chunkSize = chunkSize;
    this.batchSize = batchSize;
    this.dropLast = split === 'train' && (options.dropLast ?? true);
    this.session = options.session ?? 'session';
    this.testResponsesByTrial = options.testResponsesByTrial;
    this.sampler = new MovieSampler(starts, {
      split,
      chunkSize,
      movieLength: movie.frames,
      sceneLength,
      allowOverBoundaries: allow,
      seed: options.seed ?? 42,
    });
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.sampler.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Number of neurons. */
  get nNeurons(): number {
    return this.responses.frameSize;
  }

  /** Mean response per neuron over this split's frames (OpenRetina's `mean_response`). */
  get meanResponse(): Float32Array {
    this.meanCache ??= this.responses.head(this.movie.frames).meanPerValue();
    return this.meanCache;
  }

  /** Chunk start indices of the next epoch grouped into batches (advances the random stream). */
  epochBatches(): number[][] {
    const idx = this.sampler.epochIndices();
    const batches: number[][] = [];
    for (let i = 0; i < idx.length; i += this.batchSize) {
      const b = idx.slice(i, i + this.batchSize);
      if (b.length < this.batchSize && this.dropLast) break;
      batches.push(b);
    }
    return batches;
  }

  /** Builds the batch of the given chunk starts. The caller owns (and disposes) the tensors. */
  batchAt(starts: readonly number[]): SessionBatch {
    const [h, w, c] = this.frameShape;
    const chunk = this.chunkSize;
    const fs = this.movie.frameSize;
    const n = this.responses.frameSize;
    const inputs = new Float32Array(starts.length * chunk * fs);
    const targets = new Float32Array(starts.length * chunk * n);
    starts.forEach((s, b) => {
      this.movie.copyFrames(s, chunk, inputs, b * chunk * fs);
      this.responses.copyFrames(s, chunk, targets, b * chunk * n);
    });
    return {
      session: this.session,
      inputs: tf.tensor5d(inputs, [starts.length, chunk, h, w, c]),
      targets: tf.tensor3d(targets, [starts.length, chunk, n]),
    };
  }

  *[Symbol.iterator](): Iterator<SessionBatch> {
    for (const starts of this.epochBatches()) yield this.batchAt(starts);
  }
}

function movieFrames(movie: Movie): { frames: FrameSequence; frameShape: [number, number, number] } {
  const [, h, w, c] = movie.shape;
  return { frames: FrameSequence.of(movie.data, h * w * c), frameShape: [h, w, c] };
}

function handleNaN(responses: FrameSequence, policy: NanPolicy, what: string): boolean {
  if (!responses.hasNaN()) return false;
  if (policy === 'error') throw new DataError(`${what}: the responses contain NaN.`);
  console.warn(`${what}: NaNs in responses, skipping this dataloader.`);
  return true;
}

/**
 * A data loader over one movie and its responses (OpenRetina's `get_movie_dataloader`). Returns null (with a warning)
 * when the responses contain NaN, unless `nanPolicy` is `'error'`. The movie and the responses must have the same
 * number of frames.
 */
export function getMovieDataloader(movie: Movie, responses: Responses, options: MovieDataLoaderOptions): MovieDataLoader | null {
  if (responses.shape[0] !== movie.shape[0]) {
    throw new DataError(`The movie has ${movie.shape[0]} frames but the responses have ${responses.shape[0]}.`);
  }
  const { frames, frameShape } = movieFrames(movie);
  const resp = FrameSequence.of(responses.data, responses.shape[1]);
  if (handleNaN(resp, options.nanPolicy ?? 'skip', options.session ?? 'session')) return null;
  return new MovieDataLoader(frames, frameShape, resp, options);
}

/** OpenRetina's `_compute_test_batch_size`: keeps test batches about as large in memory as train batches. */
export function computeTestBatchSize(trainBatchSize: number, trainChunkSize: number, testChunkSize: number): number {
  if (testChunkSize <= trainChunkSize) return trainBatchSize;
  return Math.max(1, Math.floor((trainBatchSize * trainChunkSize) / testChunkSize));
}

/**
 * Validation clips drawn as OpenRetina draws them: `np.random.RandomState(seed).choice(numClips, numValClips,
 * replace=False)` (bit-identical: our MT19937 reproduces numpy's legacy generator).
 */
export function drawValidationClips(numClips: number, numValClips: number, seed = 42): number[] {
  if (numValClips > numClips) {
    throw new ConfigError(`Cannot draw ${numValClips} validation clips from ${numClips} clips.`);
  }
  return new MT19937(seed >>> 0).choiceWithoutReplacement(numClips, numValClips);
}

/** Train and validation frames after cutting validation clips out (OpenRetina's `generate_movie_splits`). */
export interface ClipSplit {
  /** The remaining clips, in their original order. */
  train: FrameSequence;
  /** The validation clips, in the given order. */
  validation: FrameSequence;
  trainClipIndices: number[];
}

/**
 * Splits a time-major array into clips of `clipLength` frames; validation = the selected clips in the given order,
 * train = the other clips in order. Frames beyond `numClips · clipLength` are dropped. Views, no copy.
 */
export function splitClips(
  data: Float32Array,
  frameSize: number,
  valClipIndices: readonly number[],
  numClips: number,
  clipLength: number,
): ClipSplit {
  const seen = new Set<number>();
  for (const i of valClipIndices) {
    if (!Number.isInteger(i) || i < 0 || i >= numClips) {
      throw new ConfigError(`Validation clip index ${i} is outside [0, ${numClips}).`);
    }
    if (seen.has(i)) throw new ConfigError(`Validation clip index ${i} is given twice.`);
    seen.add(i);
  }
  if (data.length < numClips * clipLength * frameSize) {
    throw new DataError(`${numClips} clips of ${clipLength} frames need ${numClips * clipLength} frames, got ${data.length / frameSize}.`);
  }
  const trainClipIndices: number[] = [];
  for (let i = 0; i < numClips; i++) if (!seen.has(i)) trainClipIndices.push(i);
  return {
    train: FrameSequence.fromClips(data, frameSize, clipLength, trainClipIndices),
    validation: FrameSequence.fromClips(data, frameSize, clipLength, valClipIndices),
    trainClipIndices,
  };
}

/** Options of {@link multipleMoviesDataloaders}; the defaults are OpenRetina's. */
export interface MultipleMoviesOptions {
  /** Default 50. */
  trainChunkSize?: number;
  /** Default 32. */
  batchSize?: number;
  /** Default 42. */
  seed?: number;
  /** Default 100. */
  clipLength?: number;
  /** Default 10. */
  numValClips?: number;
  /** Validation clips for every session; when set, `numValClips` is ignored. */
  valClipIndices?: readonly number[];
  /** Default true. */
  allowOverBoundaries?: boolean;
  /** Default `'skip'` (as OpenRetina: a session with NaN responses gets no loader, with a warning). */
  nanPolicy?: NanPolicy;
}

/** Loaders per fold (`train`, `validation`, and one key per test stimulus name), then per session. */
export type DataloaderDict = Record<string, Record<string, MovieDataLoader>>;

/**
 * Train, validation and test loaders for every session (OpenRetina's `multiple_movies_dataloaders`).
 * Per session: `numClips = floor(T_train / clipLength)` (later frames are dropped); validation clips drawn with
 * {@link drawValidationClips} (or `valClipIndices`); train loader: chunks of `trainChunkSize`, random shifts, shuffled,
 * drop_last; validation: one sample per clip; test: the whole movie as one sample (with `allowOverBoundaries`, else
 * clips), with batch size {@link computeTestBatchSize}. The shuffling stream of each session is seeded from `seed` and
 * the session name: the counts and ranges match OpenRetina, the exact permutations do not (torch's RNG is not
 * reproduced).
 */
export function multipleMoviesDataloaders(
  neuronDataDictionary: Readonly<Record<string, ResponseSplit>>,
  moviesDictionary: Readonly<Record<string, MovieSplit>>,
  options: MultipleMoviesOptions = {},
): DataloaderDict {
  const trainChunkSize = options.trainChunkSize ?? 50;
  const batchSize = options.batchSize ?? 32;
  const seed = options.seed ?? 42;
  const clipLength = options.clipLength ?? 100;
  const numValClips = options.numValClips ?? 10;
  const allow = options.allowOverBoundaries ?? true;
  const nanPolicy = options.nanPolicy ?? 'skip';
  const rk = Object.keys(neuronDataDictionary).sort();
  const mk = Object.keys(moviesDictionary).sort();
  if (rk.join('\0') !== mk.join('\0')) {
    throw new DataError(`The sessions of the responses [${rk.join(', ')}] and of the movies [${mk.join(', ')}] must match exactly.`);
  }
  const out: DataloaderDict = { train: {}, validation: {} };
  for (const session of rk) {
    const responses = neuronDataDictionary[session]!;
    const movies = moviesDictionary[session]!;
    const [tTrain, h, w, c] = movies.train.shape;
    const frameShape: [number, number, number] = [h, w, c];
    const fs = h * w * c;
    const n = responses.train.shape[1];
    const numClips = Math.floor(tTrain / clipLength);
    if (responses.train.shape[0] < numClips * clipLength) {
      throw new DataError(
        `${session}: the train responses have ${responses.train.shape[0]} frames, fewer than the ${numClips * clipLength} frames of the train movie's clips.`,
      );
    }
    const valIdx = options.valClipIndices ? [...options.valClipIndices] : drawValidationClips(numClips, numValClips, seed);
    const movieSplit = splitClips(movies.train.data, fs, valIdx, numClips, clipLength);
    const respSplit = splitClips(responses.train.data, n, valIdx, numClips, clipLength);
    const base = { batchSize, sceneLength: clipLength, allowOverBoundaries: allow, session };
    const folds: [string, SplitName, FrameSequence, FrameSequence, number][] = [
      ['train', 'train', movieSplit.train, respSplit.train, trainChunkSize],
      ['validation', 'validation', movieSplit.validation, respSplit.validation, clipLength],
    ];
    for (const [fold, split, m, r, chunk] of folds) {
      if (handleNaN(r, nanPolicy, `${session} (${fold})`)) continue;
      out[fold]![session] = new MovieDataLoader(m, frameShape, r, {
        ...base,
        split,
        chunkSize: chunk,
        seed: deriveSeed(seed, `${fold}/${session}`),
      });
    }
    for (const [name, movie] of Object.entries(movies.test)) {
      const resp = responses.test[name];
      if (resp === undefined) {
        throw new DataError(
          `${session}: test movie "${name}" has no responses (response test names: [${Object.keys(responses.test).join(', ')}]).`,
        );
      }
      const tTest = movie.shape[0];
      if (resp.shape[0] < tTest) {
        throw new DataError(`${session}: test "${name}" has ${tTest} movie frames but only ${resp.shape[0]} response frames.`);
      }
      const testChunk = allow ? tTest : clipLength;
      const r = FrameSequence.of(resp.data, n).head(tTest);
      if (handleNaN(r, nanPolicy, `${session} (${name})`)) continue;
      const byTrial = responses.testByTrial?.[name];
      out[name] ??= {};
      out[name][session] = new MovieDataLoader(FrameSequence.of(movie.data, fs), frameShape, r, {
        ...base,
        split: 'test',
        chunkSize: testChunk,
        batchSize: computeTestBatchSize(batchSize, trainChunkSize, testChunk),
        ...(byTrial !== undefined ? { testResponsesByTrial: byTrial } : {}),
      });
    }
  }
  return out;
}
