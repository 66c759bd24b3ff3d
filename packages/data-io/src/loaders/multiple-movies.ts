import type { LazyMovie, LazyResponses, Movie, MovieSplit, ResponseSplit, Responses } from '@openretina/contracts';
import { DataError } from '@openretina/contracts';
import { FrameSequence } from '../frames.js';
import { frameSource } from '../lazy-data.js';
import { deriveSeed } from '../random/derive-seed.js';
import { computeTestBatchSize, drawValidationClips, splitClips } from './clip-splits.js';
import { handleNaN, MovieDataLoader, type NanPolicy } from './movie-dataloader.js';
import type { SplitName } from './movie-sampler.js';

/*
 * OpenRetina's \`multiple_movies_dataloaders\`: the train, validation and test loaders of every session of a
 * multi-session movie dataset.
 */

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
  /** Called with warnings (a session skipped for NaN responses); default `console.warn`. */
  warn?: (message: string) => void;
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
  neuronDataDictionary: Readonly<Record<string, ResponseSplit<Responses | LazyResponses>>>,
  moviesDictionary: Readonly<Record<string, MovieSplit<Movie | LazyMovie>>>,
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
    const movieSplit = splitClips(frameSource(movies.train), fs, valIdx, numClips, clipLength);
    const respSplit = splitClips(frameSource(responses.train), n, valIdx, numClips, clipLength);
    const base = { batchSize, sceneLength: clipLength, allowOverBoundaries: allow, session };
    const folds: [string, SplitName, FrameSequence, FrameSequence, number][] = [
      ['train', 'train', movieSplit.train, respSplit.train, trainChunkSize],
      ['validation', 'validation', movieSplit.validation, respSplit.validation, clipLength],
    ];
    for (const [fold, split, m, r, chunk] of folds) {
      if (handleNaN(r, nanPolicy, `${session} (${fold})`, options.warn)) continue;
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
      if (handleNaN(r, nanPolicy, `${session} (${name})`, options.warn)) continue;
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
