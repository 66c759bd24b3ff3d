import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Movie, MovieSplit, ResponseSplit } from '@openretina/contracts';
import { ConfigError, DataError } from '@openretina/contracts';
import {
  SRIDHAR_2025,
  SRIDHAR_2025_EXCLUDED_CELLS,
  SRIDHAR_2025_URLS,
  SRIDHAR_2025_WHITE_NOISE,
} from '../../../datasets/sridhar-2025/constants.js';
import type { SridharCrop } from '../../../datasets/sridhar-2025/crop.js';
import { SridharDataLoader } from '../../../datasets/sridhar-2025/data-loader.js';
import { parseSridharFixations } from '../../../datasets/sridhar-2025/fixations.js';
import { sridharFrameOverhead } from '../../../datasets/sridhar-2025/frame-overhead.js';
import { SridharMovieDataset } from '../../../datasets/sridhar-2025/movie-dataset.js';
import { SridharNoiseDataset } from '../../../datasets/sridhar-2025/noise-dataset.js';
import { sridharPlaceholderMovies } from '../../../datasets/sridhar-2025/placeholder-movies.js';
import { renderSridharMovie, type SridharRenderOptions } from '../../../datasets/sridhar-2025/render.js';
import { filterSridharTrials, sridharTrialSplit } from '../../../datasets/sridhar-2025/trial-split.js';
import { deriveSeed } from '../../../random/derive-seed.js';
import { type ResolveOptions, resolveDataPath } from '../../cache/resolve-data-path.js';
import { loadSridharFrames } from './frames.js';
import { npyNoiseTrialSource } from './noise-trial-source.js';
import { loadSridhar2025Responses } from './responses.js';
import { getSridharLocationsFromStas } from './stas.js';

/** Options of {@link loadSridhar2025}; defaults are OpenRetina's `sridhar_nm_2025` / `sridhar_wn_2025` configs. */
export interface Sridhar2025Options {
  /** Default `'natural_movie'`. */
  stimulus?: 'natural_movie' | 'white_noise';
  /** Temporal kernel sizes of the core, first layer first (default 30 for the natural movie, 15 for white noise). */
  numOfFrames?: number | readonly number[];
  /** Core layers (default the number of kernel sizes given, else 1). */
  numOfLayers?: number;
  temporalDilation?: number;
  hiddenTemporalDilation?: number | readonly number[];
  /** Target frames per sample (default 100). */
  timeChunkSize?: number;
  /** Default 16. */
  batchSize?: number;
  /** Seed of the trial split (default null → 1000, as OpenRetina). */
  seed?: number | null;
  /** Default 0.8. */
  trainFrac?: number;
  /** Merge the validation trials into train (validation stays as drawn). */
  finalTraining?: boolean;
  hardCoded?: readonly [readonly number[], readonly number[]];
  numOfTrialsToUse?: number | null;
  startUsingTrial?: number;
  /** Only this retina (default every retina of `files`). */
  retinaIndex?: string;
  /** Keep only this cell. */
  cellIndex?: number;
  /** Retina → cells to drop (default the config's lists, `SRIDHAR_2025_EXCLUDED_CELLS`); `null` keeps all cells. */
  excludedCells?: Readonly<Record<string, readonly number[]>> | null;
  /** Natural movie: stimulus seed whose trials are used (default 0). */
  stimulusSeed?: number;
  /** Retina → response pickle (default the config's four NM or three WN retinas). */
  files?: Readonly<Record<string, string>>;
  /** Use `bigCrops[retina]` (default true), else `crop`. */
  retinaSpecificCrops?: boolean;
  /** Default `[35, 35, 55, 55]` for every retina. */
  bigCrops?: Readonly<Record<string, SridharCrop>>;
  /** Default 0. */
  crop?: SridharCrop;
  subsample?: number;
  // natural movie
  fixationFiles?: Readonly<Record<string, string>>;
  /** Default `stimuli_padded_4`. */
  imgDirName?: string;
  frameFile?: string;
  /** Rendering (defaults: 200×150 crops with padding 50). */
  imgW?: number;
  imgH?: number;
  padding?: number;
  flipImgs?: boolean;
  /** Shuffle train and validation (default: train shuffled, validation not). */
  shuffle?: boolean;
  /** Seed of the natural-movie shuffling stream (default 42). */
  shuffleSeed?: number;
  /** First fixation line of the train trials (default 5100). */
  testFrames?: number;
  // white noise
  trainImagePath?: string | Readonly<Record<string, string>>;
  testImagePath?: string | Readonly<Record<string, string>>;
  useCache?: boolean;
  /** Default 1 (the configs). */
  cacheMaxsize?: number;
  extraFrame?: number;
  /** White noise: ChunkedSampler for train and validation (default true), else in order. */
  chunkedSampling?: boolean;
  // locations
  /** Read RF locations from the STAs (default true). */
  getLocations?: boolean;
  /** Default `stas`. */
  staDir?: string;
  /** Default true for the natural movie, false for white noise. */
  flipSta?: boolean;
  resolve?: ResolveOptions;
}

/** The result of {@link loadSridhar2025}. */
export interface Sridhar2025Data {
  /** `train`, `validation`, `test` → retina → loader of `SessionBatch`es. */
  dataloaders: {
    train: Record<string, SridharDataLoader>;
    validation: Record<string, SridharDataLoader>;
    test: Record<string, SridharDataLoader>;
  };
  /** OpenRetina's `response_splits_from_pickles` (for `computeDataInfo`). */
  responses: Record<string, ResponseSplit>;
  /** Placeholder movies with the right lengths and frame size (for `computeDataInfo`). */
  movies: Record<string, MovieSplit>;
  trialSplits: Record<string, { train: number[]; validation: number[] }>;
  /** RF locations `[row, col]` per cell (empty without `getLocations`). */
  locations: Record<string, [number, number][]>;
  frameOverhead: number;
  /** The whole test stimulus of a retina `[T, h, w, 1]` (OpenRetina's test `dataset.movies`). */
  testMovie(retina: string): Movie;
}

function overheadFor(o: Sridhar2025Options, wn: boolean): number {
  const frames = typeof o.numOfFrames === 'number' ? [o.numOfFrames] : [...(o.numOfFrames ?? [wn ? 15 : 30])];
  if (frames.length === 0) throw new ConfigError('numOfFrames must not be empty.');
  const layers = o.numOfLayers ?? (typeof o.numOfFrames === 'number' || o.numOfFrames === undefined ? 1 : frames.length);
  const first = frames[0]!;
  const td = o.temporalDilation ?? 1;
  if (layers <= 1) return (first - 1) * td;
  const hd = o.hiddenTemporalDilation ?? 1;
  const hidDil = typeof hd === 'number' ? new Array<number>(layers - 1).fill(hd) : [...hd];
  if (!wn) {
    if (frames.length === 1)
      throw new ConfigError(`The natural-movie loader needs one kernel size per layer (${layers}), got [${frames.join(', ')}].`);
    return sridharFrameOverhead({
      numOfFrames: first,
      temporalDilation: td,
      hiddenFrames: frames.slice(1),
      hiddenTemporalDilation: hidDil,
      numOfLayers: layers,
    });
  }
  // NoiseDataset: without hidden sizes it uses (first,) once; pairs are zipped to the shorter list
  const hidden = frames.length > 1 ? frames.slice(1) : [first];
  let reach = 0;
  for (let i = 0; i < Math.min(hidden.length, hidDil.length); i++) reach += (hidden[i]! - 1) * hidDil[i]!;
  return (first - 1) * td + reach;
}

const pick = <T>(v: T | Readonly<Record<string, T>>, key: string, what: string): T => {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const r = (v as Readonly<Record<string, T>>)[key];
    if (r === undefined) throw new ConfigError(`No ${what} for retina "${key}".`);
    return r;
  }
  return v as T;
};

/**
 * Sridhar et al. 2025 (marmoset MEA, natural movie or white noise; OpenRetina's `frame_movie_loader` and
 * `white_noise_loader` plus the `data_io` containers). Reads the response pickles (cells excluded, stimulus-seed
 * trials, test repeats averaged), splits the trials into train and validation ({@link sridharTrialSplit}, then
 * {@link filterSridharTrials}), and builds per-retina loaders of time chunks: natural movie = fixation crops of the
 * frames in `stimuli_padded_4` (`SridharMovieDataset`), white noise = cropped `trial_XXX/all_images.npy` files read on
 * demand ({@link SridharNoiseDataset}, {@link ChunkedSampler} order). Batches are `SessionBatch`es: inputs
 * `[B, chunk + overhead, h, w, 1]`, targets `[B, chunk, N]`. `basePath` is a local folder or the HuggingFace folder
 * (downloaded through the cache; default {@link SRIDHAR_2025_URLS}).
 */
export async function loadSridhar2025(basePath?: string, options: Sridhar2025Options = {}): Promise<Sridhar2025Data> {
  const wn = options.stimulus === 'white_noise';
  const base = await resolveDataPath(basePath ?? (wn ? SRIDHAR_2025_URLS.whiteNoise : SRIDHAR_2025_URLS.naturalMovie), options.resolve);
  const allFiles = options.files ?? (wn ? SRIDHAR_2025_WHITE_NOISE.responseFiles : SRIDHAR_2025.naturalMovieResponseFiles);
  const retinas = options.retinaIndex !== undefined ? [options.retinaIndex] : Object.keys(allFiles).sort();
  const files: Record<string, string> = {};
  for (const r of retinas) files[r] = pick(allFiles, r, 'response file');
  const excluded =
    options.excludedCells === undefined
      ? wn
        ? SRIDHAR_2025_EXCLUDED_CELLS.whiteNoise
        : SRIDHAR_2025_EXCLUDED_CELLS.naturalMovie
      : options.excludedCells;
  const responses = await loadSridhar2025Responses(base, {
    files,
    ...(wn ? {} : { stimulusSeed: options.stimulusSeed ?? 0 }),
    ...(excluded ? { excludedCells: excluded } : {}),
    ...(options.cellIndex !== undefined ? { cellIndex: options.cellIndex } : {}),
  });
  const overhead = overheadFor(options, wn);
  const chunk = options.timeChunkSize ?? 100;
  const batchSize = options.batchSize ?? 16;
  const subsample = options.subsample ?? 1;
  const render: SridharRenderOptions = {
    imgW: options.imgW ?? SRIDHAR_2025.render.imgW,
    imgH: options.imgH ?? SRIDHAR_2025.render.imgH,
    padding: options.padding ?? SRIDHAR_2025.render.padding,
    subsample,
  };
  const frames = wn
    ? undefined
    : await loadSridharFrames(join(base, options.imgDirName ?? 'stimuli_padded_4'), { frameFile: options.frameFile ?? '_img_' });
  const out: Sridhar2025Data['dataloaders'] = { train: {}, validation: {}, test: {} };
  const trialSplits: Sridhar2025Data['trialSplits'] = {};
  const locations: Sridhar2025Data['locations'] = {};
  const testMovies: Record<string, () => Movie> = {};
  const frameShapes: Record<string, [number, number]> = {};
  for (const retina of retinas) {
    const r = responses[retina]!;
    const kw = r.sessionKwargs!;
    const fpt = kw.frames_per_trial![0] as number;
    const nTrials = kw.num_trials![0] as number;
    const cells = kw.cell_indices as number[];
    const split = sridharTrialSplit(nTrials, {
      trainFrac: options.trainFrac ?? 0.8,
      seed: options.seed ?? null,
      finalTraining: options.finalTraining ?? false,
      ...(options.hardCoded ? { hardCoded: options.hardCoded } : {}),
    });
    const ids = filterSridharTrials(nTrials, split, {
      numOfTrialsToUse: options.numOfTrialsToUse ?? null,
      startingTrial: options.startUsingTrial ?? 0,
    });
    trialSplits[retina] = ids;
    const crop: SridharCrop =
      (options.retinaSpecificCrops ?? true) ? (options.bigCrops?.[retina] ?? SRIDHAR_2025.render.bigCrops) : (options.crop ?? 0);
    if (options.getLocations ?? true) {
      locations[retina] = await getSridharLocationsFromStas(join(base, options.staDir ?? 'stas'), retina, cells, {
        crop,
        flipSta: options.flipSta ?? !wn,
      });
    }
    const test = r.test.test!;
    const resp = { train: r.train, test, framesPerTrial: fpt };
    const byTrial = r.testByTrial?.test;
    const testExtras = { testResponses: test, ...(byTrial ? { testResponsesByTrial: byTrial } : {}) };
    const shuffleSeed = options.shuffleSeed ?? 42;
    if (wn) {
      const trainDir = join(base, pick(options.trainImagePath ?? SRIDHAR_2025_WHITE_NOISE.trainImagePath, retina, 'train image path'));
      const testDir = join(base, pick(options.testImagePath ?? SRIDHAR_2025_WHITE_NOISE.testImagePath, retina, 'test image path'));
      const source = npyNoiseTrialSource(trainDir, testDir);
      const common = {
        timeChunkSize: chunk,
        frameOverhead: overhead,
        extraFrame: options.extraFrame ?? 0,
        crop,
        subsample,
        useCache: options.useCache ?? true,
      };
      const sampling = (options.chunkedSampling ?? true) ? 'chunked' : 'sequential';
      for (const [fold, trials] of [
        ['train', ids.train],
        ['validation', ids.validation],
      ] as const) {
        const ds = new SridharNoiseDataset(source, resp, {
          ...common,
          split: 'train',
          trialIndices: trials,
          cacheMaxsize: options.cacheMaxsize ?? 1,
        });
        out[fold][retina] = new SridharDataLoader(ds, { batchSize, sampling, session: retina });
      }
      const testDs = new SridharNoiseDataset(source, resp, { ...common, split: 'test', cacheMaxsize: 20 });
      out.test[retina] = new SridharDataLoader(testDs, { batchSize, sampling: 'sequential', session: retina, ...testExtras });
      const tm = testDs.testMovie();
      frameShapes[retina] = [tm.shape[1], tm.shape[2]];
      testMovies[retina] = () => testDs.testMovie();
    } else {
      const fixText = await readFile(
        join(base, pick(options.fixationFiles ?? SRIDHAR_2025.naturalMovieFixationFiles, retina, 'fixation file')),
        'utf8',
      );
      const fixations = parseSridharFixations(fixText, { flipImgs: options.flipImgs ?? false });
      const nm = {
        ...render,
        crop: typeof crop === 'number' ? ([crop, crop, crop, crop] as const) : crop,
        timeChunkSize: chunk,
        frameOverhead: overhead,
        testFrames: options.testFrames ?? SRIDHAR_2025.testDataFrames,
      };
      for (const [fold, trials, shuffled] of [
        ['train', ids.train, options.shuffle ?? true],
        ['validation', ids.validation, options.shuffle ?? false],
      ] as const) {
        const ds = new SridharMovieDataset(frames!, fixations, resp, { ...nm, split: 'train', trialIndices: trials });
        out[fold][retina] = new SridharDataLoader(ds, {
          batchSize,
          sampling: shuffled ? 'shuffle' : 'sequential',
          seed: deriveSeed(shuffleSeed, `${fold}/${retina}`),
          session: retina,
        });
      }
      const testDs = new SridharMovieDataset(frames!, fixations, resp, { ...nm, split: 'test' });
      out.test[retina] = new SridharDataLoader(testDs, { batchSize, sampling: 'sequential', session: retina, ...testExtras });
      frameShapes[retina] = [testDs.frameShape[0], testDs.frameShape[1]];
      testMovies[retina] = () => {
        if (fixations.length < test.shape[0])
          throw new DataError(`Retina ${retina}: the fixation file has ${fixations.length} lines, the test movie needs ${test.shape[0]}.`);
        return renderSridharMovie(frames!, fixations.slice(0, test.shape[0]), nm);
      };
    }
  }
  const movies: Record<string, MovieSplit> = {};
  for (const retina of retinas) {
    const [h, w] = frameShapes[retina]!;
    Object.assign(
      movies,
      sridharPlaceholderMovies(
        { [retina]: responses[retina]! },
        { height: h, width: w, stimIdPrefix: wn ? 'sridhar_wn_2025' : 'sridhar_nm_2025' },
      ),
    );
  }
  return {
    dataloaders: out,
    responses,
    movies,
    trialSplits,
    locations,
    frameOverhead: overhead,
    testMovie: (retina) => {
      const f = testMovies[retina];
      if (!f) throw new DataError(`No retina "${retina}" (loaded: [${retinas.join(', ')}]).`);
      return f();
    },
  };
}
