import { readFileSync, writeFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { LazyMovie, LazyResponses, Movie, MovieSplit, ResponseSplit, Responses } from '@openretina/contracts';
import { DataError, FileFormatError, ShapeError, formatShape } from '@openretina/contracts';
import { createMovieSplit, createResponseSplit } from '../containers.js';
import { zeroHdf5ObjectTimes } from '../hdf5-object-times.js';
import { firstNaN, movieFromCTHW, responsesFromNT, responsesToNT, movieToCTHW } from '../layout.js';
import { toNumberArray } from '../ndarray.js';
import { toFloat32 } from '@openretina/formats';
import { produceFileAtomic } from '@openretina/formats/node';
import { concatFrameReaders, firstNaNOfResponses, h5MovieReader, h5ResponsesReader, npyMovieReader } from './frame-readers.js';
import { ReadPool } from './read-pool.js';
import { getDataset, loadH5wasm, openHdf5, readDataset } from './hdf5.js';
import { readNpyFile, writeMovieNpy } from './npy-fs.js';

/** Folder of the shared stimuli in the generic format. */
export const STIMULUS_FOLDER = 'stimuli';
/** Prefix of response datasets. */
export const RESPONSES_PREFIX = 'responses_';
/** Prefix of session-specific stimulus datasets. */
export const SESSION_STIMULUS_PREFIX = 'stimulus_';
/** Group holding per-neuron session metadata. */
export const SESSION_INFO_KEY = 'session_info';
/**
 * Default of {@link ReadHdf5DatasetOptions.lazyThresholdBytes}: datasets larger than this on disk (512 MiB) have their
 * train movies and responses read per clip on demand instead of all at load.
 */
export const DEFAULT_LAZY_THRESHOLD_BYTES = 512 * 2 ** 20;

/** Options of {@link readHdf5Dataset} (OpenRetina's `hdf5_reader` data_io config). */
export interface ReadHdf5DatasetOptions {
  /** Stimulus names used as test sets; all other stimuli are concatenated (sorted by name) into the train movie. */
  testNames: Iterable<string>;
  /** Expected `[C, H, W]` of every stimulus; when omitted the first stimulus sets it and all must agree. */
  stimulusSize?: readonly [number, number, number];
  /** Stimuli are normalised as `(x − normMean) / normStd` (defaults 0 and 1). */
  normMean?: number;
  normStd?: number;
  /** Accept NaN responses (default false: a {@link DataError} naming file and dataset). */
  allowNaN?: boolean;
  /** Called with warnings (a missing stimulus folder, a file without responses); default `console.warn`. */
  warn?: (message: string) => void;
  /**
   * Size on disk (bytes: the stimulus `.npy` files plus the session files) above which the train movies and train
   * responses are read per clip on demand ({@link LazyMovie} / {@link LazyResponses}: `.npy` reads at byte offsets,
   * h5wasm slices) instead of all at load, so that memory does not grow with the number of clips. Test stimuli and
   * responses are always read whole (their size does not grow with the clips). Default
   * {@link DEFAULT_LAZY_THRESHOLD_BYTES}; 0 makes every dataset lazy, `Infinity` none. The batches are the same.
   */
  lazyThresholdBytes?: number;
}

/** A dataset in memory: movies and responses per session. */
export interface SessionData {
  movies: Record<string, MovieSplit>;
  responses: Record<string, ResponseSplit>;
}

/** What {@link readHdf5Dataset} returns: the sessions (their train parts read on demand when the dataset is lazy). */
export interface Hdf5Dataset {
  movies: Record<string, MovieSplit<Movie | LazyMovie>>;
  responses: Record<string, ResponseSplit<Responses | LazyResponses>>;
  /** True when the train movies and responses are read on demand. */
  lazy: boolean;
  /** Closes the session files a lazy dataset keeps open (reads afterwards open them again); nothing for an eager one. */
  close(): void;
}

function isH5Name(name: string): boolean {
  return name.endsWith('.h5') || name.endsWith('.hdf5');
}

function checkStimulusShape(shape: number[], size: readonly [number, number, number] | undefined, where: string): void {
  if (shape.length !== 4) {
    throw new ShapeError(`${where}: expected a 4-D stimulus (C, T, H, W), got shape ${formatShape(shape)}.`);
  }
  if (size && (shape[0] !== size[0] || shape[2] !== size[1] || shape[3] !== size[2])) {
    throw new ShapeError(
      `${where}: stimulus (C, T, H, W) ${formatShape(shape)} does not match the stimulus size [C, H, W] ${formatShape(size)}.`,
    );
  }
}

function normalise(movie: Movie, mean: number, std: number): Movie {
  if (mean === 0 && std === 1) return movie;
  const out = new Float32Array(movie.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (movie.data[i]! - mean) / std;
  return { data: out, shape: movie.shape };
}

/** Bytes on disk of the dataset's stimulus `.npy` files and session files. */
async function datasetBytes(baseDir: string, stimuli: readonly string[], sessions: readonly string[]): Promise<number> {
  const sizes = await Promise.all([...stimuli, ...sessions.map((f) => join(baseDir, f))].map((p) => stat(p).then((s) => s.size)));
  return sizes.reduce((a, b) => a + b, 0);
}

function concatLazy<T extends LazyMovie | LazyResponses>(parts: T[]): T {
  if (parts.length === 1) return parts[0]!;
  const t = parts.reduce((a, m) => a + m.shape[0], 0);
  return { reader: concatFrameReaders(parts.map((p) => p.reader)), shape: [t, ...parts[0]!.shape.slice(1)] } as unknown as T;
}

function concatMovies(movies: Movie[]): Movie {
  if (movies.length === 1) return movies[0]!;
  const [, h, w, c] = movies[0]!.shape;
  const t = movies.reduce((a, m) => a + m.shape[0], 0);
  const out = new Float32Array(t * h * w * c);
  let off = 0;
  for (const m of movies) {
    out.set(m.data, off);
    off += m.data.length;
  }
  return { data: out, shape: [t, h, w, c] };
}

function concatResponses(rs: Responses[]): Responses {
  if (rs.length === 1) return rs[0]!;
  const n = rs[0]!.shape[1];
  const t = rs.reduce((a, r) => a + r.shape[0], 0);
  const out = new Float32Array(t * n);
  let off = 0;
  for (const r of rs) {
    out.set(r.data, off);
    off += r.data.length;
  }
  return { data: out, shape: [t, n] };
}

/**
 * Reads a dataset in OpenRetina's generic HDF5 format (spec 6.5): `stimuli/<name>.npy` `(C, T, H, W)` and one
 * `<session>.h5|.hdf5` per session with `responses_<name>` `(N, T)`, optional `stimulus_<name>` overrides and an
 * optional `session_info/` group. Stimuli are normalised; non-test stimuli and their responses are concatenated along
 * time in sorted-name order. Sessions are returned in sorted order; files without responses are skipped with a
 * warning. Movies come out channels-last `[T, H, W, C]`, responses `[T, N]`. Above `lazyThresholdBytes` on disk the
 * train movies and responses are read per clip on demand (the same values; see {@link ReadHdf5DatasetOptions}).
 */
export async function readHdf5Dataset(baseDir: string, options: ReadHdf5DatasetOptions): Promise<Hdf5Dataset> {
  const st = await stat(baseDir).catch(() => undefined);
  if (!st?.isDirectory()) throw new DataError(`${baseDir} is not a directory.`);
  const testNames = new Set(options.testNames);
  const mean = options.normMean ?? 0;
  const std = options.normStd ?? 1;
  let size = options.stimulusSize;
  const warn = options.warn ?? ((m: string) => console.warn(m));

  // global stimuli
  const globalStimuli = new Map<string, { path: string; movie?: Movie }>();
  const stimDir = join(baseDir, STIMULUS_FOLDER);
  const stimFiles = await readdir(stimDir).catch(() => undefined);
  if (stimFiles === undefined) warn(`readHdf5Dataset: no stimulus folder ${stimDir}.`);
  for (const f of (stimFiles ?? []).filter((x) => x.endsWith('.npy')).sort()) {
    globalStimuli.set(f.slice(0, -4), { path: join(stimDir, f) });
  }
  const loadGlobal = async (name: string): Promise<Movie | undefined> => {
    const entry = globalStimuli.get(name);
    if (!entry) return undefined;
    if (!entry.movie) {
      const arr = await readNpyFile(entry.path);
      checkStimulusShape(arr.shape, size, entry.path);
      size ??= [arr.shape[0]!, arr.shape[2]!, arr.shape[3]!];
      entry.movie = normalise(movieFromCTHW(arr.data, arr.shape), mean, std);
    }
    return entry.movie;
  };
  const trainCache = new Map<string, Movie | LazyMovie>();

  const files = (await readdir(baseDir)).filter(isH5Name).sort();
  const threshold = options.lazyThresholdBytes ?? DEFAULT_LAZY_THRESHOLD_BYTES;
  const lazy =
    (await datasetBytes(
      baseDir,
      [...globalStimuli.values()].map((e) => e.path),
      files,
    )) > threshold;
  const h5 = lazy ? await loadH5wasm() : undefined;
  const pool = h5 ? new ReadPool(h5) : undefined;
  const result: Hdf5Dataset = { movies: {}, responses: {}, lazy, close: () => pool?.close() };
  const lazyGlobal = new Map<string, LazyMovie>();
  const loadGlobalLazy = (reads: ReadPool, name: string): LazyMovie | undefined => {
    const entry = globalStimuli.get(name);
    if (!entry) return undefined;
    let movie = lazyGlobal.get(name);
    if (!movie) {
      const { reader, shape } = npyMovieReader(reads, entry.path, { mean, std });
      checkStimulusShape([shape[3], shape[0], shape[1], shape[2]], size, entry.path);
      size ??= [shape[3], shape[1], shape[2]];
      movie = { reader, shape };
      lazyGlobal.set(name, movie);
    }
    return movie;
  };
  try {
    for (const file of files) {
      const path = join(baseDir, file);
      const session = basename(file, extname(file));
      const f = await openHdf5(path);
      try {
        const keys = f.keys();
        const names = keys
          .filter((k) => k.startsWith(RESPONSES_PREFIX))
          .map((k) => k.slice(RESPONSES_PREFIX.length))
          .sort();
        if (names.length === 0) {
          warn(`readHdf5Dataset: no responses in ${path} (keys: ${keys.join(', ')}); skipping it.`);
          continue;
        }
        const trainMovies: (Movie | LazyMovie)[] = [];
        const trainResponses: (Responses | LazyResponses)[] = [];
        const testMovies: Record<string, Movie> = {};
        const testResponses: Record<string, Responses> = {};
        let sessionSpecific = false;
        let nNeurons: number | undefined;
        for (const name of names) {
          const where = `${path}/${RESPONSES_PREFIX}${name}`;
          const isTest = testNames.has(name);
          // train parts of a large dataset are read per clip on demand; test parts stay whole
          const onDemand = pool !== undefined && !isTest;
          // stimulus: session override, else global
          let movie: Movie | LazyMovie | undefined;
          const overrideName = `${SESSION_STIMULUS_PREFIX}${name}`;
          const override = getDataset(f, overrideName);
          if (override && onDemand) {
            const shape = override.shape ?? [];
            checkStimulusShape(shape, size, `${path}/${overrideName}`);
            const cthw = shape as [number, number, number, number];
            size ??= [cthw[0], cthw[2], cthw[3]];
            movie = { reader: h5MovieReader(pool, path, overrideName, cthw, { mean, std }), shape: [cthw[1], cthw[2], cthw[3], cthw[0]] };
            sessionSpecific = true;
          } else if (override) {
            const arr = readDataset(override, `${path}/${overrideName}`);
            checkStimulusShape(arr.shape, size, `${path}/${overrideName}`);
            size ??= [arr.shape[0]!, arr.shape[2]!, arr.shape[3]!];
            movie = normalise(movieFromCTHW(arr.data as ArrayLike<number>, arr.shape), mean, std);
            sessionSpecific = true;
          } else {
            movie = onDemand ? loadGlobalLazy(pool, name) : await loadGlobal(name);
          }
          if (!movie) {
            throw new DataError(
              `${path}: responses "${RESPONSES_PREFIX}${name}" have no stimulus: neither ${join(stimDir, `${name}.npy`)} nor a dataset "${SESSION_STIMULUS_PREFIX}${name}" in the file exists.`,
            );
          }
          const ds = getDataset(f, `${RESPONSES_PREFIX}${name}`);
          if (!ds) throw new FileFormatError(`${where} is not a dataset.`);
          let shape: number[];
          let resp: Responses | LazyResponses;
          if (onDemand) {
            shape = ds.shape ?? [];
            if (shape.length !== 2) throw new ShapeError(`${where}: expected 2-D responses (N, T), got shape ${formatShape(shape)}.`);
            const reader = h5ResponsesReader(pool, path, `${RESPONSES_PREFIX}${name}`, [shape[0]!, shape[1]!]);
            // the same check as the eager path, scanned in blocks of frames
            const nan = options.allowNaN ? undefined : firstNaNOfResponses(reader);
            if (nan) throw new DataError(`${where}: NaN in the responses (neuron ${nan.neuron}, frame ${nan.frame}).`);
            resp = { reader, shape: [shape[1]!, shape[0]!] };
          } else {
            const arr = readDataset(ds, where);
            shape = arr.shape;
            if (shape.length !== 2) throw new ShapeError(`${where}: expected 2-D responses (N, T), got shape ${formatShape(shape)}.`);
            const data = toFloat32(arr.data as ArrayLike<number>);
            const nan = options.allowNaN ? -1 : firstNaN(data);
            if (nan >= 0) {
              const t = shape[1]!;
              throw new DataError(`${where}: NaN in the responses (neuron ${Math.floor(nan / t)}, frame ${nan % t}).`);
            }
            resp = responsesFromNT(data, shape);
          }
          if (shape[1] !== movie.shape[0]) {
            throw new ShapeError(
              `${where}: responses (N, T) ${formatShape(shape)} have ${shape[1]} frames but stimulus "${name}" has ${movie.shape[0]}.`,
            );
          }
          if (nNeurons !== undefined && shape[0] !== nNeurons) {
            throw new ShapeError(`${where}: ${shape[0]} neurons, but other responses of this session have ${nNeurons}.`);
          }
          nNeurons = shape[0];
          if (isTest) {
            testMovies[name] = movie as Movie;
            testResponses[name] = resp as Responses;
          } else {
            trainMovies.push(movie);
            trainResponses.push(resp);
          }
        }
        if (trainMovies.length === 0) throw new DataError(`${path}: no train stimuli (all of [${names.join(', ')}] are test names).`);
        if (Object.keys(testMovies).length === 0) {
          throw new DataError(
            `${path}: none of the test names [${[...testNames].join(', ')}] has responses in this session (stimuli: [${names.join(', ')}]).`,
          );
        }
        const trainNames = names.filter((n) => !testNames.has(n)).join('\0');
        const concatTrain = (): Movie | LazyMovie => (pool ? concatLazy(trainMovies as LazyMovie[]) : concatMovies(trainMovies as Movie[]));
        let train: Movie | LazyMovie;
        if (sessionSpecific) train = concatTrain();
        else {
          train = trainCache.get(trainNames) ?? concatTrain();
          trainCache.set(trainNames, train);
        }
        const sessionKwargs: Record<string, unknown[]> = {};
        const info = f.get(SESSION_INFO_KEY) as { type?: string; keys?: () => string[] } | null;
        if (info && info.type === 'Group') {
          for (const k of info.keys!()) {
            const d = getDataset(f, `${SESSION_INFO_KEY}/${k}`);
            if (!d) continue;
            const a = readDataset(d, `${path}/${SESSION_INFO_KEY}/${k}`);
            sessionKwargs[k] =
              typeof (a.data as ArrayLike<unknown>)[0] === 'string' ? Array.from(a.data as ArrayLike<unknown>) : toNumberArray(a.data);
          }
        }
        result.movies[session] = createMovieSplit({ train, testDict: testMovies, normMean: mean, normStd: std });
        result.responses[session] = createResponseSplit({
          train: pool ? concatLazy(trainResponses as LazyResponses[]) : concatResponses(trainResponses as Responses[]),
          testDict: testResponses,
          sessionKwargs,
        });
      } finally {
        f.close();
      }
    }
  } catch (error) {
    // a failed load keeps no session file open
    pool?.close();
    throw error;
  }
  return result;
}

/** One session to write with {@link writeHdf5Session}. */
export interface SessionToWrite {
  /** Responses `[T, N]` per stimulus name (written as `responses_<name>` `(N, T)` float32). */
  responses: Readonly<Record<string, Responses>>;
  /** Session-specific stimuli (written as `stimulus_<name>` `(C, T, H, W)` float32). */
  stimuli?: Readonly<Record<string, Movie>>;
  /** Per-neuron metadata written under `session_info/` (integers as int64, other numbers as float64, strings). */
  sessionInfo?: Readonly<Record<string, ArrayLike<number> | readonly string[]>>;
}

/** Writes one session file of the generic format atomically (temp file + rename), with zeroed object times (same data, same bytes). */
export async function writeHdf5Session(path: string, session: SessionToWrite): Promise<void> {
  const h5 = await loadH5wasm();
  await produceFileAtomic(path, (tmp) => {
    const f = new h5.File(tmp, 'w');
    try {
      for (const name of Object.keys(session.responses).sort()) {
        const nt = responsesToNT(session.responses[name]!);
        f.create_dataset({ name: `${RESPONSES_PREFIX}${name}`, data: nt.data, shape: nt.shape, dtype: '<f4' });
      }
      for (const [name, movie] of Object.entries(session.stimuli ?? {})) {
        const cthw = movieToCTHW(movie);
        f.create_dataset({ name: `${SESSION_STIMULUS_PREFIX}${name}`, data: cthw.data, shape: cthw.shape, dtype: '<f4' });
      }
      const info = session.sessionInfo;
      if (info && Object.keys(info).length > 0) {
        const g = f.create_group(SESSION_INFO_KEY);
        for (const [k, values] of Object.entries(info)) {
          const arr = Array.from(values as ArrayLike<number | string>);
          if (arr.some((v) => typeof v === 'string')) {
            g.create_dataset({ name: k, data: arr.map(String) });
          } else if ((arr as number[]).every((v) => Number.isInteger(v))) {
            g.create_dataset({ name: k, data: BigInt64Array.from(arr as number[], (v) => BigInt(v)), shape: [arr.length] });
          } else {
            g.create_dataset({ name: k, data: Float64Array.from(arr as number[]), shape: [arr.length] });
          }
        }
      }
    } finally {
      f.close();
    }
    // the same data gives the same bytes: HDF5's per-object timestamps are zeroed
    const bytes = readFileSync(tmp);
    zeroHdf5ObjectTimes(bytes);
    writeFileSync(tmp, bytes);
  });
}

/** A whole dataset to write with {@link writeHdf5Dataset}. */
export interface DatasetToWrite {
  /** Shared stimuli (written as `stimuli/<name>.npy` `(C, T, H, W)` float32). */
  stimuli: Readonly<Record<string, Movie>>;
  sessions: Readonly<Record<string, SessionToWrite>>;
  /** File extension of session files (default `.hdf5`, as `create-data`). */
  extension?: '.h5' | '.hdf5';
}

/** Writes a dataset in the generic HDF5 format, readable by OpenRetina's `hdf5_reader` and {@link readHdf5Dataset}. */
export async function writeHdf5Dataset(dir: string, dataset: DatasetToWrite): Promise<void> {
  for (const [name, movie] of Object.entries(dataset.stimuli)) await writeMovieNpy(join(dir, STIMULUS_FOLDER, `${name}.npy`), movie);
  for (const [session, data] of Object.entries(dataset.sessions)) {
    await writeHdf5Session(join(dir, `${session}${dataset.extension ?? '.hdf5'}`), data);
  }
}
