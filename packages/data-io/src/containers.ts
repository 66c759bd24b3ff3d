import type {
  DataInfo,
  LazyMovie,
  LazyResponses,
  Movie,
  MovieSplit,
  ResponseSplit,
  Responses,
  TrialResponses,
} from '@openretina/contracts';
import { DataError, ShapeError, formatShape } from '@openretina/contracts';
import { makeMovie, makeResponses } from './layout.js';
import { framesOf, isLazy } from './lazy-data.js';

/** Options of {@link createMovieSplit}: exactly one of `test` and `testDict`. */
export interface MovieSplitInit<Train extends Movie | LazyMovie = Movie> {
  /** In memory, or read on demand. */
  train: Train;
  /** A single test movie; stored under the name `"test"`. */
  test?: Movie;
  /** Named test movies. */
  testDict?: Readonly<Record<string, Movie>>;
  stimId?: string;
  randomSequences?: { data: Int32Array; shape: readonly [number, number] };
  normMean?: number;
  normStd?: number;
}

/** Options of {@link createResponseSplit}: exactly one of `test` and `testDict`. */
export interface ResponseSplitInit<Train extends Responses | LazyResponses = Responses> {
  /** In memory, or read on demand. */
  train: Train;
  test?: Responses;
  testDict?: Readonly<Record<string, Responses>>;
  /** By-trial responses `[trials, T, N]` of the single test stimulus. */
  testByTrial?: TrialResponses;
  testByTrialDict?: Readonly<Record<string, TrialResponses>>;
  stimId?: string;
  sessionKwargs?: Readonly<Record<string, readonly unknown[]>>;
}

/** Checks that a reader's frames fit its shape `[T, ...frame]`. */
function checkLazy<T extends LazyMovie | LazyResponses>(what: string, x: T, rank: number): T {
  const frame = x.shape.slice(1).reduce((a, b) => a * b, 1);
  if (x.shape.length !== rank || x.reader.frames !== x.shape[0] || x.reader.frameSize !== frame) {
    throw new ShapeError(
      `${what}: a reader of ${x.reader.frames} frames of ${x.reader.frameSize} values does not fit the shape ${formatShape(x.shape)}.`,
    );
  }
  return x;
}

function pickTests<T>(what: string, test: T | undefined, testDict: Readonly<Record<string, T>> | undefined): Record<string, T> {
  const hasDict = testDict !== undefined && Object.keys(testDict).length > 0;
  if (hasDict === (test !== undefined)) {
    throw new DataError(
      `${what}: exactly one of "test" and "testDict" must be set, got ${test === undefined ? 'no test' : 'test'} and ${
        hasDict ? `testDict with keys [${Object.keys(testDict!).join(', ')}]` : 'no testDict'
      }.`,
    );
  }
  return hasDict ? { ...testDict } : { test: test! };
}

/**
 * Builds a validated {@link MovieSplit} (OpenRetina's `MoviesTrainTestSplit`): 4-D movies, the same channels and
 * frame size in train and every test movie.
 */
export function createMovieSplit<Train extends Movie | LazyMovie = Movie>(init: MovieSplitInit<Train>): MovieSplit<Train> {
  const test = pickTests('MovieSplit', init.test, init.testDict);
  const train = (isLazy(init.train) ? checkLazy('Movie', init.train, 4) : makeMovie(init.train.data, init.train.shape)) as Train;
  const [tT, h, w, c] = train.shape;
  const checkedTest: Record<string, Movie> = {};
  for (const [name, movie] of Object.entries(test)) {
    const m = makeMovie(movie.data, movie.shape);
    if (m.shape[3] !== c) {
      throw new ShapeError(
        `Test movie "${name}" has ${m.shape[3]} channels but the train movie has ${c} (shapes [T, H, W, C]: train ${formatShape(
          train.shape,
        )}, test ${formatShape(m.shape)}).`,
      );
    }
    if (m.shape[1] !== h || m.shape[2] !== w) {
      throw new ShapeError(
        `Test movie "${name}" has frames of ${m.shape[1]}×${m.shape[2]} but the train movie has ${h}×${w} (shapes [T, H, W, C]: train ${formatShape(
          train.shape,
        )}, test ${formatShape(m.shape)}).`,
      );
    }
    checkedTest[name] = m;
  }
  if (c > tT) {
    console.warn(`MovieSplit: the train movie has more channels (${c}) than frames (${tT}); check that it is [T, H, W, C].`);
  }
  if (init.randomSequences !== undefined) {
    const [r, k] = init.randomSequences.shape;
    if (init.randomSequences.data.length !== r * k) {
      throw new ShapeError(
        `randomSequences: expected ${r * k} values for shape ${formatShape(init.randomSequences.shape)}, got ${
          init.randomSequences.data.length
        }.`,
      );
    }
  }
  return {
    train,
    test: checkedTest,
    ...(init.stimId !== undefined ? { stimId: init.stimId } : {}),
    ...(init.randomSequences !== undefined ? { randomSequences: init.randomSequences } : {}),
    ...(init.normMean !== undefined ? { normMean: init.normMean } : {}),
    ...(init.normStd !== undefined ? { normStd: init.normStd } : {}),
  };
}

/**
 * Builds a validated {@link ResponseSplit} (OpenRetina's `ResponsesTrainTestSplit`): 2-D responses with the same
 * number of neurons everywhere; by-trial responses only for known test names and with matching T and N;
 * session metadata arrays of length N.
 */
export function createResponseSplit<Train extends Responses | LazyResponses = Responses>(
  init: ResponseSplitInit<Train>,
): ResponseSplit<Train> {
  const test = pickTests('ResponseSplit', init.test, init.testDict);
  const train = (isLazy(init.train) ? checkLazy('Responses', init.train, 2) : makeResponses(init.train.data, init.train.shape)) as Train;
  const n = train.shape[1];
  const checkedTest: Record<string, Responses> = {};
  for (const [name, r] of Object.entries(test)) {
    const m = makeResponses(r.data, r.shape);
    if (m.shape[1] !== n) {
      throw new ShapeError(
        `Test responses "${name}" have ${m.shape[1]} neurons but the train responses have ${n} (shapes [T, N]: train ${formatShape(
          train.shape,
        )}, test ${formatShape(m.shape)}).`,
      );
    }
    checkedTest[name] = m;
  }
  const byTrial: Record<string, TrialResponses> = { ...(init.testByTrialDict ?? {}) };
  if (init.testByTrial !== undefined) {
    const names = Object.keys(checkedTest);
    if (names.length > 1) {
      throw new DataError(
        `ResponseSplit: "testByTrial" is ambiguous with several test stimuli ([${names.join(', ')}]); use "testByTrialDict".`,
      );
    }
    byTrial[names[0]!] ??= init.testByTrial;
  }
  for (const [name, tr] of Object.entries(byTrial)) {
    const avg = checkedTest[name];
    if (avg === undefined) {
      throw new DataError(
        `By-trial responses "${name}" have no matching test responses (test names: [${Object.keys(checkedTest).join(', ')}]).`,
      );
    }
    const [trials, t, nn] = tr.shape;
    if (tr.data.length !== trials * t * nn || t !== avg.shape[0] || nn !== n) {
      throw new ShapeError(
        `By-trial responses "${name}": expected [trials, ${avg.shape[0]}, ${n}] with matching data length, got shape ${formatShape(
          tr.shape,
        )} and ${tr.data.length} values.`,
      );
    }
  }
  if (init.sessionKwargs !== undefined) {
    for (const [key, values] of Object.entries(init.sessionKwargs)) {
      if (!Array.isArray(values) && !ArrayBuffer.isView(values)) {
        throw new DataError(`sessionKwargs["${key}"] must be an array, got ${typeof values}.`);
      }
    }
  }
  if (n > train.shape[0]) {
    console.warn(`ResponseSplit: more neurons (${n}) than frames (${train.shape[0]}); check that responses are [T, N].`);
  }
  return {
    train,
    test: checkedTest,
    ...(Object.keys(byTrial).length > 0 ? { testByTrial: byTrial } : {}),
    ...(init.stimId !== undefined ? { stimId: init.stimId } : {}),
    ...(init.sessionKwargs !== undefined ? { sessionKwargs: init.sessionKwargs } : {}),
  };
}

/** Number of neurons of a session. */
export function nNeurons(responses: ResponseSplit<Responses | LazyResponses>): number {
  return responses.train.shape[1];
}

/**
 * Checks that responses and movies belong together (OpenRetina's `check_matching_stimulus`): the same number of
 * train frames, the same test names with the same lengths, and the same `stimId` when both are set.
 */
export function checkMatchingStimulus(
  responses: ResponseSplit<Responses | LazyResponses>,
  movies: MovieSplit<Movie | LazyMovie>,
  session = 'session',
): void {
  if (responses.train.shape[0] !== movies.train.shape[0]) {
    throw new DataError(
      `${session}: the train movie has ${movies.train.shape[0]} frames but the train responses have ${responses.train.shape[0]}.`,
    );
  }
  const rk = Object.keys(responses.test).sort();
  const mk = Object.keys(movies.test).sort();
  if (rk.join('\0') !== mk.join('\0')) {
    throw new DataError(`${session}: test responses [${rk.join(', ')}] do not match test movies [${mk.join(', ')}].`);
  }
  for (const k of rk) {
    const rt = responses.test[k]!.shape[0];
    const mt = movies.test[k]!.shape[0];
    if (rt !== mt) throw new DataError(`${session}: test "${k}" has ${mt} movie frames but ${rt} response frames.`);
  }
  if (responses.stimId !== undefined && movies.stimId !== undefined && responses.stimId !== movies.stimId) {
    throw new DataError(`${session}: stimulus id of responses ("${responses.stimId}") and movies ("${movies.stimId}") differ.`);
  }
}

function meanStd(data: Float32Array): { mean: number; std: number } {
  const n = data.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += data[i]!;
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = data[i]! - mean;
    ss += d * d;
  }
  return { mean, std: Math.sqrt(ss / (n - 1)) };
}

function zscore(movie: Movie, mean: number, std: number): Movie {
  const out = new Float32Array(movie.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (movie.data[i]! - mean) / std;
  return { data: out, shape: movie.shape };
}

/** Result of {@link normalizeTrainTestMovies}. */
export interface NormalizedMovies<TTest> {
  train: Movie;
  test: TTest;
  normMean: number;
  normStd: number;
}

/**
 * Z-scores train and test movies with the mean and the unbiased (ddof = 1) standard deviation of all elements of the
 * **train** movie (all channels jointly), as OpenRetina's `normalize_train_test_movies`. Statistics are accumulated in
 * float64. Accepts one test movie or a record of them.
 */
export function normalizeTrainTestMovies(train: Movie, test: Movie): NormalizedMovies<Movie>;
export function normalizeTrainTestMovies(train: Movie, test: Readonly<Record<string, Movie>>): NormalizedMovies<Record<string, Movie>>;
export function normalizeTrainTestMovies(
  train: Movie,
  test: Movie | Readonly<Record<string, Movie>>,
): NormalizedMovies<Movie | Record<string, Movie>> {
  if (train.data.length < 2) throw new DataError(`Cannot normalise a train movie with ${train.data.length} values.`);
  const { mean, std } = meanStd(train.data);
  const isMovie = (x: unknown): x is Movie =>
    typeof x === 'object' && x !== null && 'data' in x && 'shape' in x && (x as Movie).data instanceof Float32Array;
  const testOut = isMovie(test)
    ? zscore(test, mean, std)
    : Object.fromEntries(Object.entries(test).map(([k, m]) => [k, zscore(m, mean, std)]));
  return { train: zscore(train, mean, std), test: testOut, normMean: mean, normStd: std };
}

/**
 * A {@link MovieSplit} of one train and one test movie, z-scored with {@link normalizeTrainTestMovies} (statistics
 * recorded as `normMean` / `normStd`) or left as they are: what OpenRetina's dataset readers build per session.
 */
export function normalizedMovieSplit(train: Movie, test: Movie, normalize: boolean, stimId: string): MovieSplit {
  if (!normalize) return createMovieSplit({ train, test, stimId });
  const n = normalizeTrainTestMovies(train, test);
  return createMovieSplit({ train: n.train, test: n.test, stimId, normMean: n.normMean, normStd: n.normStd });
}

/** Options of {@link computeDataInfo}. */
export interface ComputeDataInfoOptions {
  /** Extra entries (e.g. from a config: rates, stimulus class); stored under `extra`. */
  partialDataInfo?: Readonly<Record<string, unknown>>;
  /** Called with warnings (default `console.warn`). */
  warn?: (message: string) => void;
}

function isMovieSplit(x: unknown): x is MovieSplit<Movie | LazyMovie> {
  return (
    typeof x === 'object' &&
    x !== null &&
    'train' in x &&
    'test' in x &&
    typeof (x as MovieSplit).train?.shape === 'object' &&
    ((x as { train: { data?: unknown } }).train.data instanceof Float32Array || isLazy((x as MovieSplit<Movie | LazyMovie>).train))
  );
}

/**
 * What a model needs to know about its data (OpenRetina's `compute_data_info`): neurons per session, mean train
 * activity per neuron, input shape `[C, H, W]`, per-session metadata and the stimulus normalisation. With several
 * movie splits the normalisation statistics must agree within an absolute tolerance of 1, and the input shapes must be
 * equal; missing statistics default to mean 0 and std 1 (with a warning).
 */
export function computeDataInfo(
  responsesDict: Readonly<Record<string, ResponseSplit<Responses | LazyResponses>>>,
  movies: Readonly<Record<string, MovieSplit<Movie | LazyMovie>>> | MovieSplit<Movie | LazyMovie>,
  options: ComputeDataInfoOptions = {},
): DataInfo {
  const warn = options.warn ?? ((m: string) => console.warn(m));
  const nNeuronsDict: Record<string, number> = {};
  const meanActivityDict: Record<string, Float32Array> = {};
  const sessionsKwargs: Record<string, Readonly<Record<string, readonly unknown[]>>> = {};
  for (const [session, r] of Object.entries(responsesDict)) {
    nNeuronsDict[session] = r.train.shape[1];
    // frame by frame in float64, in memory or read on demand in blocks
    meanActivityDict[session] = r.train.shape[1] === 0 ? new Float32Array(0) : framesOf(r.train).meanPerValue();
    sessionsKwargs[session] = r.sessionKwargs ?? {};
  }
  let stimMean: number | undefined;
  let stimStd: number | undefined;
  let inputShape: [number, number, number];
  if (isMovieSplit(movies)) {
    stimMean = movies.normMean;
    stimStd = movies.normStd;
    inputShape = [movies.train.shape[3], movies.train.shape[1], movies.train.shape[2]];
  } else {
    const splits = Object.entries(movies);
    if (splits.length === 0) throw new DataError('computeDataInfo: no movies given.');
    const agree = (kind: string, values: number[]): number | undefined => {
      if (values.length === 0) return undefined;
      if (values.some((v) => Math.abs(v - values[0]!) > 1)) {
        throw new DataError(`Normalisation ${kind}s are not consistent across stimuli: [${values.join(', ')}].`);
      }
      return values[0];
    };
    stimMean = agree(
      'mean',
      splits.flatMap(([, m]) => (m.normMean === undefined ? [] : [m.normMean])),
    );
    stimStd = agree(
      'std',
      splits.flatMap(([, m]) => (m.normStd === undefined ? [] : [m.normStd])),
    );
    if (stimMean === undefined) {
      stimMean = 0;
      warn('computeDataInfo: no stimulus mean set, using 0.');
    }
    if (stimStd === undefined) {
      stimStd = 1;
      warn('computeDataInfo: no stimulus std set, using 1.');
    }
    const shapes = splits.map(([k, m]) => [k, [m.train.shape[3], m.train.shape[1], m.train.shape[2]]] as const);
    const first = shapes[0]![1];
    for (const [k, s] of shapes) {
      if (s[0] !== first[0] || s[1] !== first[1] || s[2] !== first[2]) {
        throw new ShapeError(
          `Input shapes [C, H, W] are not consistent across sessions: "${shapes[0]![0]}" has ${formatShape(first)}, "${k}" has ${formatShape(s)}.`,
        );
      }
    }
    inputShape = [first[0], first[1], first[2]];
  }
  return {
    nNeuronsDict,
    meanActivityDict,
    inputShape,
    sessionsKwargs,
    ...(stimMean !== undefined ? { stimMean } : {}),
    ...(stimStd !== undefined ? { stimStd } : {}),
    ...(options.partialDataInfo !== undefined ? { extra: { ...options.partialDataInfo } } : {}),
  };
}
