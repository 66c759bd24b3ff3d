import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Movie, MovieSplit, ResponseSplit } from '@openretina/contracts';
import { DataError, FileFormatError } from '@openretina/contracts';
import { unzipSync, zipSync } from 'fflate';
import { createMovieSplit, createResponseSplit, normalizeTrainTestMovies } from '../containers.js';
import {
  type HoeflingResponseOptions,
  hoeflingMoviesFromPickle,
  hoeflingResponsesFromFields,
  HOEFLING_2024,
} from '../datasets/hoefling.js';
import { movieFromCTHW, responsesFromNT, trialResponsesFromTrialsNT } from '../layout.js';
import { type NdArray, type NdTree, toNumberArray } from '../ndarray.js';
import { parseNpz, readPickle, roundToFloat16, serializeNpy, toFloat32, toPlain } from '@openretina/formats';
import { resizeBilinearAntialias } from '../resize.js';
import { type ResolveOptions, resolveDataPath } from './cache.js';
import { writeFileAtomic } from '@openretina/formats/node';
import type { SessionData } from './generic-hdf5.js';
import { getDataset, loadH5IntoDict, openHdf5, readDataset } from './hdf5.js';

/** Reads one dataset of an HDF5 file (OpenRetina's `load_dataset_from_h5`). */
export async function readH5Array(path: string, dataset: string): Promise<NdArray> {
  const f = await openHdf5(path);
  try {
    const ds = getDataset(f, dataset);
    if (!ds) throw new DataError(`${path}: no dataset "${dataset}" (top-level keys: ${f.keys().join(', ')}).`);
    return readDataset(ds, `${path}/${dataset}`);
  } finally {
    f.close();
  }
}

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/** Finds the single file with one of `exts` in a folder (recursively), or returns `p` if it is a file. */
async function singleFile(p: string, exts: string[], what: string): Promise<string> {
  if (!(await isDir(p))) return p;
  const found: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else if (exts.some((x) => e.name.endsWith(x))) found.push(join(d, e.name));
    }
  };
  await walk(p);
  if (found.length !== 1) throw new DataError(`Expected one ${what} file (${exts.join(', ')}) in ${p}, found ${found.length}.`);
  return found[0]!;
}

async function readPickleFile(path: string): Promise<unknown> {
  const bytes = new Uint8Array(await readFile(path));
  if (path.endsWith('.zip')) {
    const files = unzipSync(bytes);
    const pkl = Object.keys(files).filter((n) => /\.(pkl|pickle)$/.test(n));
    if (pkl.length !== 1) throw new FileFormatError(`${path}: expected one pickle in the zip, found [${Object.keys(files).join(', ')}].`);
    return toPlain(readPickle(files[pkl[0]!]!, { source: `${path}:${pkl[0]}` }));
  }
  return toPlain(readPickle(bytes, { source: path }));
}

const f32 = (a: NdArray) => toFloat32(a.data as ArrayLike<number>);
const div = (d: Float32Array, s: number) => (s === 1 ? d : d.map((v) => v / s));

// ---------------------------------------------------------------- hoefling_2024

/** Options of {@link loadHoefling2024}. */
export interface Hoefling2024Options extends HoeflingResponseOptions {
  /** Stimulus pickle, zip or URL (default the low-res HuggingFace file). */
  stimuliPath?: string;
  /** Responses HDF5, zip or URL (default the full HuggingFace file). */
  responsesPath?: string;
  resolve?: ResolveOptions;
}

/**
 * Höfling et al. 2024: the stimulus pickle (`train` `(2, 16200, H, W)`, `test`, `random_sequences`, `movie_stats`) and
 * the responses HDF5 (one group per field), quality-filtered and upsampled as in OpenRetina's config. Use
 * `hoefling2024Dataloaders` on the result.
 */
export async function loadHoefling2024(
  options: Hoefling2024Options = {},
): Promise<{ movies: MovieSplit; responses: Record<string, ResponseSplit> }> {
  const stimPath = await singleFile(
    await resolveDataPath(options.stimuliPath ?? HOEFLING_2024.lowResStimuli, options.resolve),
    ['.pkl', '.pickle', '.zip'],
    'stimulus pickle',
  );
  const movies = hoeflingMoviesFromPickle(await readPickleFile(stimPath), stimPath);
  const respPath = await singleFile(
    await resolveDataPath(options.responsesPath ?? HOEFLING_2024.responses, options.resolve),
    ['.h5', '.hdf5'],
    'responses HDF5',
  );
  if (respPath.endsWith('.zip'))
    throw new DataError(`${respPath}: extract the responses zip first (or pass its URL to download and extract it).`);
  const tree = await loadH5IntoDict(respPath);
  const fields: Record<string, NdTree> = {};
  for (const [k, v] of Object.entries(tree)) if (typeof v === 'object' && v !== null && !('shape' in v)) fields[k] = v as NdTree;
  return { movies, responses: hoeflingResponsesFromFields(fields, options) };
}

// ---------------------------------------------------------------- karamanlis_2024

/** Options of {@link loadKaramanlis2024}. */
export interface Karamanlis2024Options {
  stimType?: 'fixationmovie' | 'frozencheckerflicker' | 'gratingflicker' | 'imagesequence';
  /** Only sessions whose folder name contains this (default `mouse`). */
  specie?: 'mouse' | 'marmoset';
  /** Responses are divided by this (default 1). */
  frNormalization?: number;
  /** Output `[H, W]` of the rendered movie (default [60, 80]). */
  downsampledSize?: readonly [number, number];
  /** Screen `[H, W]` the fixations refer to (default [600, 800]). */
  screenSize?: readonly [number, number];
  /** Z-score with the train statistics (default true). */
  normalizeStimuli?: boolean;
  /** Write the rendered movie next to the `.mat` as `…_extracted_stimuli_H_W.npz` (default true), as OpenRetina. */
  writeCache?: boolean;
  resolve?: ResolveOptions;
}

/**
 * Places fixated images on a screen (a port of `returnFixMovie.m` as OpenRetina ports it): frame f shows image
 * `fixations[f][0]` (1-based) shifted by `(x, y) = fixations[f][1..2]`; zeros outside. `images` is `(n, x, y)` as
 * stored in the `.mat` file. Returns frames `[F, Ny, Nx]`. (An index of −1 at the lower edge wraps to the last image
 * row/column, as in the Python port.)
 */
export function renderFixationMovie(screen: readonly [number, number], images: NdArray, fixations: number[][]): Float32Array {
  const [ny, nx] = screen;
  const [, imX, imY] = images.shape as [number, number, number];
  const data = images.data as ArrayLike<number>;
  const out = new Float32Array(fixations.length * ny * nx);
  fixations.forEach(([img, trX, trY], f) => {
    const k = img! - 1;
    const x0 = Math.max(Math.floor(nx / 2) - trX!, 0);
    const x1 = Math.min(imX + Math.floor(nx / 2) - trX!, nx);
    const y0 = Math.max(Math.floor(ny / 2) - trY!, 0);
    const y1 = Math.min(imY + Math.floor(ny / 2) - trY!, ny);
    for (let s = 0; s < ny; s++) {
      if (s + 1 < y0 || s + 1 > y1) continue;
      let iy = trY! - Math.floor(ny / 2) + s;
      if (iy < 0) iy += imY;
      for (let t = 0; t < nx; t++) {
        if (t + 1 < x0 || t + 1 > x1) continue;
        let ix = trX! - Math.floor(nx / 2) + t;
        if (ix < 0) ix += imX;
        out[(f * ny + s) * nx + t] = data[(k * imX + ix) * imY + iy]!;
      }
    }
  });
  return out;
}

function rows(a: NdArray): number[][] {
  const v = toNumberArray(a.data).map((x) => Math.trunc(x));
  const cols = a.shape[a.shape.length - 1]!;
  const out: number[][] = [];
  for (let i = 0; i < v.length; i += cols) out.push(v.slice(i, i + cols));
  return out;
}

function renderAndResize(
  screen: readonly [number, number],
  size: readonly [number, number],
  images: NdArray,
  fix: number[][],
): Float32Array {
  const frames = renderFixationMovie(screen, images, fix);
  const [ny, nx] = screen;
  const [oh, ow] = size;
  const out = new Float32Array(fix.length * oh * ow);
  for (let f = 0; f < fix.length; f++)
    out.set(resizeBilinearAntialias(frames.subarray(f * ny * nx, (f + 1) * ny * nx), ny, nx, oh, ow), f * oh * ow);
  return out;
}

async function listSessions(base: string, specie: string): Promise<string[]> {
  const entries = await readdir(base, { withFileTypes: true });
  return entries
    .filter((e) => (e.isDirectory() || e.name.endsWith('.zip')) && e.name.includes(specie))
    .map((e) => e.name)
    .sort();
}

/**
 * Karamanlis et al. 2024 (MEA, fixation movies): per session folder, `*<stimType>_data.mat` (HDF5) with `runningbin`
 * `(blocks, time, N)` → train, `frozenbin` `(trials, time, N)` → test (mean) and by-trial; stimuli rendered from
 * `runningImages`/`frozenImages` and the fixations, resized (bilinear, antialiased) and z-scored; a cached
 * `…_extracted_stimuli_H_W.npz` is used when present.
 */
export async function loadKaramanlis2024(basePath: string, options: Karamanlis2024Options = {}): Promise<SessionData> {
  const stimType = options.stimType ?? 'fixationmovie';
  const specie = options.specie ?? 'mouse';
  const fr = options.frNormalization ?? 1;
  const size = options.downsampledSize ?? [60, 80];
  const screen = options.screenSize ?? [600, 800];
  const base = await resolveDataPath(basePath, options.resolve);
  const sessions = await listSessions(base, specie);
  if (sessions.length === 0) throw new DataError(`No session folders containing "${specie}" in ${base}.`);
  const result: SessionData = { movies: {}, responses: {} };
  for (const s of sessions) {
    let dir = join(base, s);
    if (s.endsWith('.zip')) {
      const { unzipAndCleanup } = await import('./cache.js');
      dir = await unzipAndCleanup(dir);
    }
    const session = basename(dir);
    const files = await readdir(dir);
    const mat = files.filter((f) => f.endsWith(`${stimType}_data.mat`));
    if (mat.length === 0) {
      console.warn(`loadKaramanlis2024: no *${stimType}_data.mat in ${dir}; skipping.`);
      continue;
    }
    if (mat.length > 1) throw new DataError(`Several *${stimType}_data.mat files in ${dir}: ${mat.join(', ')}.`);
    const matPath = join(dir, mat[0]!);
    // responses
    const frozen = await readH5Array(matPath, 'frozenbin');
    const running = await readH5Array(matPath, 'runningbin');
    const [trials, tTest, n] = frozen.shape as [number, number, number];
    const [blocks, tBlock, n2] = running.shape as [number, number, number];
    if (n2 !== n) throw new DataError(`${matPath}: runningbin has ${n2} neurons, frozenbin ${n}.`);
    const byTrial = div(f32(frozen), fr);
    const test = new Float32Array(tTest * n);
    for (let r = 0; r < trials; r++) for (let i = 0; i < tTest * n; i++) test[i] = test[i]! + byTrial[r * tTest * n + i]! / trials;
    result.responses[session] = createResponseSplit({
      train: { data: div(f32(running), fr), shape: [blocks * tBlock, n] },
      test: { data: test, shape: [tTest, n] },
      testByTrial: { data: byTrial, shape: [trials, tTest, n] },
      stimId: stimType,
    });
    // stimuli
    const npzName = `${mat[0]!.slice(0, -4)}_extracted_stimuli_${size[0]}_${size[1]}.npz`;
    let trainM: Movie;
    let testM: Movie;
    if (files.includes(npzName)) {
      const z = parseNpz(new Uint8Array(await readFile(join(dir, npzName))), join(dir, npzName));
      if (!z.train_data || !z.test_data) throw new FileFormatError(`${npzName}: missing train_data or test_data.`);
      trainM = movieFromCTHW(toFloat32(z.train_data.data), z.train_data.shape);
      testM = movieFromCTHW(toFloat32(z.test_data.data), z.test_data.shape);
    } else {
      const trainImages = await readH5Array(matPath, 'runningImages');
      const testImages = await readH5Array(matPath, 'frozenImages');
      const frozenFix = rows(await readH5Array(matPath, 'frozenfixations'));
      const runningFixAll = await readH5Array(matPath, 'runningfixations');
      const perBlock = runningFixAll.shape[1]!;
      const runningRows = rows(runningFixAll);
      const testData = renderAndResize(screen, size, testImages, frozenFix);
      const parts: Float32Array[] = [];
      for (let b = 0; b < runningRows.length / perBlock; b++)
        parts.push(renderAndResize(screen, size, trainImages, runningRows.slice(b * perBlock, (b + 1) * perBlock)));
      const trainData = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
      let off = 0;
      for (const p of parts) {
        trainData.set(p, off);
        off += p.length;
      }
      trainM = { data: trainData, shape: [trainData.length / (size[0] * size[1]), size[0], size[1], 1] };
      testM = { data: testData, shape: [frozenFix.length, size[0], size[1], 1] };
      if (options.writeCache ?? true) {
        const npz = zipSync({
          'train_data.npy': serializeNpy(trainM.data, [1, trainM.shape[0], size[0], size[1]]),
          'test_data.npy': serializeNpy(testM.data, [1, testM.shape[0], size[0], size[1]]),
        });
        await writeFileAtomic(join(dir, npzName), npz);
      }
    }
    result.movies[session] = moviesWithNorm(trainM, testM, options.normalizeStimuli ?? true, stimType);
  }
  return result;
}

function moviesWithNorm(train: Movie, test: Movie, normalize: boolean, stimId: string): MovieSplit {
  if (!normalize) return createMovieSplit({ train, test, stimId });
  const n = normalizeTrainTestMovies(train, test);
  return createMovieSplit({ train: n.train, test: n.test, stimId, normMean: n.normMean, normStd: n.normStd });
}

/** `(T, H, W)` frames (any numeric type) as a one-channel movie. */
function framesToMovie(a: NdArray): Movie {
  if (a.shape.length !== 3) throw new DataError(`Expected (T, H, W) frames, got shape [${a.shape.join(', ')}].`);
  return { data: f32(a), shape: [a.shape[0]!, a.shape[1]!, a.shape[2]!, 1] };
}

// ---------------------------------------------------------------- maheswaranathan_2023

/** Options of {@link loadMaheswaranathan2023}. */
export interface Maheswaranathan2023Options {
  /** Default `firing_rate_20ms` (the loader default; OpenRetina's config uses 10 ms). */
  responseType?: 'firing_rate_5ms' | 'firing_rate_10ms' | 'firing_rate_20ms';
  stimType?: 'naturalscene' | 'whitenoise';
  frNormalization?: number;
  normalizeStimuli?: boolean;
  resolve?: ResolveOptions;
}

/** HuggingFace location of the Maheswaranathan 2023 data. */
export const MAHESWARANATHAN_2023_URL =
  'https://huggingface.co/datasets/open-retina/open-retina/resolve/main/baccus_lab/maheswaranathan_2023/neural_code_data.zip';

/**
 * Maheswaranathan et al. 2023 (salamander MEA): `<base>/ganglion_cell_data/<session>/<stimType>.h5` with
 * `/train/stimulus (T, H, W)`, `/test/stimulus`, `/train|test/response/<type> (N, T)` and test repeats either as
 * `/test/repeats/<type> (repeats, N, T)` or per cell `/test/repeats/cell<k> (repeats, T)` (only the per-cell branch is
 * divided by `frNormalization`, as in OpenRetina). Test responses may be one bin longer than the test movie.
 */
export async function loadMaheswaranathan2023(
  basePath: string = MAHESWARANATHAN_2023_URL,
  options: Maheswaranathan2023Options = {},
): Promise<SessionData> {
  const rt = options.responseType ?? 'firing_rate_20ms';
  const stimType = options.stimType ?? 'naturalscene';
  const fr = options.frNormalization ?? 1;
  const base = await resolveDataPath(basePath, options.resolve);
  const root = join(base, 'ganglion_cell_data');
  if (!(await isDir(root))) throw new DataError(`${root} does not exist (expected <neural_code_data>/ganglion_cell_data/<session>/).`);
  const result: SessionData = { movies: {}, responses: {} };
  for (const e of (await readdir(root, { withFileTypes: true }))
    .filter((x) => x.isDirectory())
    .sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const dir = join(root, e.name);
    for (const file of (await readdir(dir)).filter((x) => x.endsWith(`${stimType}.h5`)).sort()) {
      const path = join(dir, file);
      const train = await readH5Array(path, `/train/response/${rt}`);
      const test = await readH5Array(path, `/test/response/${rt}`);
      if (train.shape[0] !== test.shape[0])
        throw new DataError(`${path}: train responses have ${train.shape[0]} neurons, test ${test.shape[0]}.`);
      const n = train.shape[0]!;
      // repeats
      const f = await openHdf5(path);
      let byTrial: { data: Float32Array; shape: [number, number, number] } | undefined;
      try {
        const direct = getDataset(f, `test/repeats/${rt}`);
        if (direct) {
          const a = readDataset(direct, `${path}/test/repeats/${rt}`);
          byTrial = { data: f32(a), shape: a.shape as [number, number, number] };
        } else {
          const g = f.get('test/repeats') as { keys?: () => string[] } | null;
          const cells = (g?.keys?.() ?? [])
            .filter((k) => k.includes('cell'))
            .sort((a, b) => Number(a.split('cell').pop()) - Number(b.split('cell').pop()));
          if (cells.length > 0) {
            const arrays = cells.map((k) => readDataset(getDataset(f, `test/repeats/${k}`)!, `${path}/test/repeats/${k}`));
            const [reps, t] = arrays[0]!.shape as [number, number];
            const d = new Float32Array(reps * cells.length * t);
            arrays.forEach((a, ci) => {
              const v = f32(a);
              for (let r = 0; r < reps; r++) for (let j = 0; j < t; j++) d[(r * cells.length + ci) * t + j] = v[r * t + j]! / fr;
            });
            byTrial = { data: d, shape: [reps, cells.length, t] };
          }
        }
      } finally {
        f.close();
      }
      const trainStim = framesToMovie(await readH5Array(path, '/train/stimulus'));
      const testStim = framesToMovie(await readH5Array(path, '/test/stimulus'));
      result.movies[e.name] = moviesWithNorm(trainStim, testStim, options.normalizeStimuli ?? true, stimType);
      result.responses[e.name] = createResponseSplit({
        train: responsesFromNT(div(f32(train), fr), train.shape),
        test: responsesFromNT(div(f32(test), fr), test.shape),
        ...(byTrial && byTrial.shape[1] === n ? { testByTrial: trialResponsesFromTrialsNT(byTrial.data, byTrial.shape) } : {}),
        stimId: stimType,
      });
    }
  }
  return result;
}

// ---------------------------------------------------------------- goldin_2022

/** Options of {@link loadGoldin2022}. */
export interface Goldin2022Options {
  specie?: 'mouse' | 'axolotl';
  /** Responses are divided by this (default 0.3: counts over 300 ms → rate). */
  frNormalization?: number;
  normalizeStimuli?: boolean;
  resolve?: ResolveOptions;
}

/** HuggingFace location of the Goldin 2022 data. */
export const GOLDIN_2022_URL = 'https://huggingface.co/datasets/open-retina/open-retina/tree/main/marre_lab/goldin_2022';

/**
 * Goldin et al. 2022 (flashed images; one "frame" per image): per session `<name>.h5` (name containing the species)
 * with `/train|test/stimulus (n, H, W)`, `/train|test/response/binned (N, n)` and `/test/repeats/cell_<k>
 * (repeats, n_test)`; responses divided by `frNormalization`. Checks that the test responses are the mean of the
 * repeats. Use `multipleMoviesDataloaders` with clip 1, chunk 1, 640 validation clips, batch 16, no boundary crossing.
 */
export async function loadGoldin2022(basePath: string = GOLDIN_2022_URL, options: Goldin2022Options = {}): Promise<SessionData> {
  const specie = options.specie ?? 'mouse';
  const fr = options.frNormalization ?? 0.3;
  const base = await resolveDataPath(basePath, options.resolve);
  const result: SessionData = { movies: {}, responses: {} };
  for (const file of (await readdir(base)).filter((x) => x.includes(specie) && x.endsWith('.h5')).sort()) {
    const path = join(base, file);
    const session = file.slice(0, -3);
    const train = await readH5Array(path, '/train/response/binned');
    const test = await readH5Array(path, '/test/response/binned');
    if (train.shape[0] !== test.shape[0])
      throw new DataError(`${path}: train responses have ${train.shape[0]} neurons, test ${test.shape[0]}.`);
    const n = train.shape[0]!;
    const testNT = div(f32(test), fr);
    let byTrial: ReturnType<typeof trialResponsesFromTrialsNT> | undefined;
    const f = await openHdf5(path);
    try {
      const g = f.get('test/repeats') as { keys?: () => string[] } | null;
      const cells = (g?.keys?.() ?? [])
        .filter((k) => k.includes('cell'))
        .sort((a, b) => Number(a.split('cell').pop()!.replace('_', '')) - Number(b.split('cell').pop()!.replace('_', '')));
      if (cells.length > 0) {
        const arrays = cells.map((k) => readDataset(getDataset(f, `test/repeats/${k}`)!, `${path}/test/repeats/${k}`));
        const [reps, t] = arrays[0]!.shape as [number, number];
        const d = new Float32Array(reps * cells.length * t);
        arrays.forEach((a, ci) => {
          const v = f32(a);
          for (let r = 0; r < reps; r++) for (let j = 0; j < t; j++) d[(r * cells.length + ci) * t + j] = v[r * t + j]! / fr;
        });
        byTrial = trialResponsesFromTrialsNT(d, [reps, cells.length, t]);
        // test must equal the mean over repeats
        for (let j = 0; j < t; j++) {
          for (let i = 0; i < n; i++) {
            let m = 0;
            for (let r = 0; r < reps; r++) m += byTrial.data[(r * t + j) * n + i]!;
            m /= reps;
            const avg = testNT[i * t + j]!;
            if (Math.abs(m - avg) > 1e-8 + 1e-5 * Math.abs(avg))
              throw new DataError(`${path}: the test responses are not the mean of the repeats (neuron ${i}, image ${j}: ${avg} vs ${m}).`);
          }
        }
      }
    } finally {
      f.close();
    }
    result.responses[session] = createResponseSplit({
      train: responsesFromNT(div(f32(train), fr), train.shape),
      test: responsesFromNT(testNT, test.shape),
      ...(byTrial ? { testByTrial: byTrial } : {}),
      stimId: 'naturalscene',
    });
    const trainStim = framesToMovie(await readH5Array(path, '/train/stimulus'));
    const testStim = framesToMovie(await readH5Array(path, '/test/stimulus'));
    result.movies[session] = moviesWithNorm(trainStim, testStim, options.normalizeStimuli ?? true, 'naturalscene');
  }
  if (Object.keys(result.movies).length === 0) throw new DataError(`No ${specie} sessions (*.h5 containing "${specie}") in ${base}.`);
  return result;
}

// ---------------------------------------------------------------- sridhar_2025

/** Options of {@link loadSridhar2025Responses}. */
export interface Sridhar2025ResponseOptions {
  /** Session → response pickle, relative to the base path (default the four natural-movie retinas). */
  files?: Readonly<Record<string, string>>;
  /** Stimulus seed whose trials are used when the pickle lists `seeds` (default 0). */
  stimulusSeed?: number;
  /** Session → cell indices to drop. */
  excludedCells?: Readonly<Record<string, readonly number[]>>;
  /** Keep only this cell. */
  cellIndex?: number;
  resolve?: ResolveOptions;
}

function take3(a: NdArray, neurons: number[], trials: number[] | undefined): { data: Float32Array; shape: [number, number, number] } {
  const [, t, k] = a.shape as [number, number, number];
  const src = f32(a);
  const tr = trials ?? Array.from({ length: k }, (_, i) => i);
  const out = new Float32Array(neurons.length * t * tr.length);
  neurons.forEach((nn, i) => {
    for (let j = 0; j < t; j++) tr.forEach((q, m) => (out[(i * t + j) * tr.length + m] = src[(nn * t + j) * k + q]!));
  });
  return { data: out, shape: [neurons.length, t, tr.length] };
}

/**
 * Sridhar et al. 2025 response pickles (`train_responses (N, frames_per_trial, trials)`, `test_responses (N, T, repeats)`,
 * optional `seeds` / `trial_separation`) as OpenRetina's `response_splits_from_pickles`: cells excluded (or one kept),
 * trials of the stimulus seed selected (retina "01" without that seed: the first 10 test repeats), test = mean over
 * repeats, by-trial `[repeats, T, N]`. The train responses are concatenated trial after trial (`[trials·frames, N]`);
 * OpenRetina's reshape interleaves trials frame by frame, which only matters for order, not for the mean activity that
 * this container feeds. Session kwargs: `stimulus_seed`, `frames_per_trial`, `num_trials` (one-element arrays) and
 * `cell_indices`.
 */
export async function loadSridhar2025Responses(
  basePath: string,
  options: Sridhar2025ResponseOptions = {},
): Promise<Record<string, ResponseSplit>> {
  const { SRIDHAR_2025 } = await import('../datasets/sridhar.js');
  const base = await resolveDataPath(basePath, options.resolve);
  const files = options.files ?? SRIDHAR_2025.naturalMovieResponseFiles;
  const seed = options.stimulusSeed ?? 0;
  const out: Record<string, ResponseSplit> = {};
  for (const session of Object.keys(files).sort()) {
    const path = join(base, files[session]!);
    const obj = (await readPickleFile(path)) as Record<string, unknown>;
    const train = obj.train_responses as NdArray;
    const test = obj.test_responses as NdArray;
    if (train?.shape?.length !== 3) throw new DataError(`${path}: expected train_responses (N, frames_per_trial, trials).`);
    const total = train.shape[0]!;
    let neurons = Array.from({ length: total }, (_, i) => i);
    if (options.cellIndex !== undefined) neurons = [options.cellIndex];
    else if (options.excludedCells?.[session]) {
      const ex = new Set(options.excludedCells[session]);
      neurons = neurons.filter((i) => !ex.has(i));
    }
    let trainTrials: number[] | undefined;
    let testTrials: number[] | undefined;
    const seeds = Array.isArray(obj.seeds) ? (obj.seeds as unknown[]).map(Number) : undefined;
    if (seeds) {
      if (seeds.includes(seed)) {
        const sep = obj.trial_separation as Record<string, unknown>;
        const trials = (sep[String(seed)] as unknown[]).map(Number);
        trainTrials = trials;
        testTrials = trials;
      } else if (session === '01') {
        testTrials = Array.from({ length: Math.min(10, test.shape[2] ?? 0) }, (_, i) => i);
      }
    }
    const tr = take3(train, neurons, trainTrials);
    const [n, fpt, nTrials] = tr.shape;
    const trainTN = new Float32Array(nTrials * fpt * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < fpt; j++)
        for (let q = 0; q < nTrials; q++) trainTN[(q * fpt + j) * n + i] = tr.data[(i * fpt + j) * nTrials + q]!;
    const kw: Record<string, unknown[]> = { stimulus_seed: [seed], frames_per_trial: [fpt], num_trials: [nTrials], cell_indices: neurons };
    if (test.shape.length === 3) {
      const te = take3(test, neurons, testTrials);
      const [, t, reps] = te.shape;
      const byTrial = new Float32Array(reps * t * n);
      const avg = new Float32Array(t * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < t; j++) {
          let s = 0;
          for (let q = 0; q < reps; q++) {
            const v = te.data[(i * t + j) * reps + q]!;
            byTrial[(q * t + j) * n + i] = v;
            s += v;
          }
          avg[j * n + i] = s / reps;
        }
      }
      out[session] = createResponseSplit({
        train: { data: trainTN, shape: [nTrials * fpt, n] },
        test: { data: avg, shape: [t, n] },
        testByTrial: { data: byTrial, shape: [reps, t, n] },
        stimId: `sridhar_${session}`,
        sessionKwargs: kw,
      });
    } else {
      const t2 = test.shape[1]!;
      const src = f32(test);
      const avg = new Float32Array(t2 * n);
      neurons.forEach((nn, i) => {
        for (let j = 0; j < t2; j++) avg[j * n + i] = src[nn * t2 + j]!;
      });
      out[session] = createResponseSplit({
        train: { data: trainTN, shape: [nTrials * fpt, n] },
        test: { data: avg, shape: [t2, n] },
        stimId: `sridhar_${session}`,
        sessionKwargs: kw,
      });
    }
  }
  return out;
}

/**
 * Loads the natural-movie frames `*<frameFile>*.npy` of a folder (sorted by name) as OpenRetina's `load_frames`:
 * each `(W, H)` frame divided by 255 and stored in float16 precision.
 */
export async function loadSridharFrames(
  dir: string,
  options: { frameFile?: string; resolve?: ResolveOptions } = {},
): Promise<import('../datasets/sridhar.js').SridharFrames> {
  const { readNpyFile } = await import('./npy-fs.js');
  const local = await resolveDataPath(dir, options.resolve);
  const names = (await readdir(local)).filter((x) => x.includes(options.frameFile ?? '_img_')).sort();
  if (names.length === 0) throw new DataError(`No frames (*${options.frameFile ?? '_img_'}*) in ${local}.`);
  let fullW = 0;
  let fullH = 0;
  let data = new Float32Array(0);
  for (let i = 0; i < names.length; i++) {
    const a = await readNpyFile(join(local, names[i]!));
    if (i === 0) {
      [fullW, fullH] = a.shape as [number, number];
      data = new Float32Array(names.length * fullW * fullH);
    } else if (a.shape[0] !== fullW || a.shape[1] !== fullH) {
      throw new DataError(`${names[i]}: frame shape [${a.shape.join(', ')}] differs from [${fullW}, ${fullH}].`);
    }
    const v = toFloat32(a.data);
    const off = i * fullW * fullH;
    for (let j = 0; j < v.length; j++) data[off + j] = roundToFloat16(v[j]! / 255);
  }
  return { data, count: names.length, fullW, fullH };
}
