import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Movie } from '@openretina/contracts';
import { DataError, FileFormatError } from '@openretina/contracts';
import { parseNpz, serializeNpy } from '@openretina/formats';
import { writeFileAtomic } from '@openretina/formats/node';
import { zipSync } from 'fflate';
import { createResponseSplit, normalizedMovieSplit } from '../../containers.js';
import { renderFixationMovie } from '../../datasets/karamanlis-2024.js';
import { movieFromCTHW } from '../../layout.js';
import { type NdArray, floatValues, toNumberArray } from '../../ndarray.js';
import { resizeBilinearAntialias } from '../../resize.js';
import { type ResolveOptions, resolveDataPath } from '../cache/resolve-data-path.js';
import { unzipAndCleanup } from '../cache/unzip.js';
import type { SessionData } from '../generic-hdf5.js';
import { loadDatasetFromH5 } from '../load-dataset-from-h5.js';

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
  /** Told about sessions without a `*<stimType>_data.mat` (skipped, as OpenRetina does with a warning). */
  onWarning?: (message: string) => void;
  resolve?: ResolveOptions;
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
    if (s.endsWith('.zip')) dir = await unzipAndCleanup(dir);
    const session = basename(dir);
    const files = await readdir(dir);
    const mat = files.filter((f) => f.endsWith(`${stimType}_data.mat`));
    if (mat.length === 0) {
      options.onWarning?.(`loadKaramanlis2024: no *${stimType}_data.mat in ${dir}; skipping.`);
      continue;
    }
    if (mat.length > 1) throw new DataError(`Several *${stimType}_data.mat files in ${dir}: ${mat.join(', ')}.`);
    const matPath = join(dir, mat[0]!);
    // responses
    const frozen = await loadDatasetFromH5(matPath, 'frozenbin');
    const running = await loadDatasetFromH5(matPath, 'runningbin');
    const [trials, tTest, n] = frozen.shape as [number, number, number];
    const [blocks, tBlock, n2] = running.shape as [number, number, number];
    if (n2 !== n) throw new DataError(`${matPath}: runningbin has ${n2} neurons, frozenbin ${n}.`);
    const byTrial = floatValues(frozen, fr);
    const test = new Float32Array(tTest * n);
    for (let r = 0; r < trials; r++) for (let i = 0; i < tTest * n; i++) test[i] = test[i]! + byTrial[r * tTest * n + i]! / trials;
    result.responses[session] = createResponseSplit({
      train: { data: floatValues(running, fr), shape: [blocks * tBlock, n] },
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
      trainM = movieFromCTHW(z.train_data.data, z.train_data.shape);
      testM = movieFromCTHW(z.test_data.data, z.test_data.shape);
    } else {
      const trainImages = await loadDatasetFromH5(matPath, 'runningImages');
      const testImages = await loadDatasetFromH5(matPath, 'frozenImages');
      const frozenFix = rows(await loadDatasetFromH5(matPath, 'frozenfixations'));
      const runningFixAll = await loadDatasetFromH5(matPath, 'runningfixations');
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
    result.movies[session] = normalizedMovieSplit(trainM, testM, options.normalizeStimuli ?? true, stimType);
  }
  return result;
}
