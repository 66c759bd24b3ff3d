import * as tf from '@tensorflow/tfjs-core';
import type { Movie, Responses, SessionBatch, TrialResponses } from '@openretina/contracts';
import { ConfigError, DataError, formatShape } from '@openretina/contracts';
import { FrameSequence } from '../frames.js';
import { batchArray } from './batch-arrays.js';
import { MovieSampler, type SplitName } from './movie-sampler.js';

/*
 * A data loader over one movie and one session's responses (OpenRetina's \`MovieDataSet\` + \`DataLoader\`): batches of
 * chunks as tensors, and the NaN check that decides whether a session gets a loader at all.
 */

/** What to do when a session's responses contain NaN. OpenRetina skips the session with a warning. */
export type NanPolicy = 'skip' | 'error';

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
  /** Called with warnings (a session skipped for NaN responses); default `console.warn`. */
  warn?: (message: string) => void;
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
    const inputs = batchArray(0, starts.length * chunk * fs);
    const targets = batchArray(1, starts.length * chunk * n);
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

/** A movie's frames as a sequence, and the shape of one frame. */
export function movieFrames(movie: Movie): { frames: FrameSequence; frameShape: [number, number, number] } {
  const [, h, w, c] = movie.shape;
  return { frames: FrameSequence.of(movie.data, h * w * c), frameShape: [h, w, c] };
}

/** True when the responses hold NaN and the session is to be skipped (throws under the \`error\` policy). */
export function handleNaN(
  responses: FrameSequence,
  policy: NanPolicy,
  what: string,
  warn: (message: string) => void = (m) => console.warn(m),
): boolean {
  if (!responses.hasNaN()) return false;
  if (policy === 'error') throw new DataError(`${what}: the responses contain NaN.`);
  warn(`${what}: NaNs in responses, skipping this dataloader.`);
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
  if (handleNaN(resp, options.nanPolicy ?? 'skip', options.session ?? 'session', options.warn)) return null;
  return new MovieDataLoader(frames, frameShape, resp, options);
}
