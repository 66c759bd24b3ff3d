import { join } from 'node:path';
import type { ResponseSplit } from '@openretina/contracts';
import { DataError } from '@openretina/contracts';
import { toFloat32 } from '@openretina/formats';
import { createResponseSplit } from '../../../containers.js';
import { SRIDHAR_2025 } from '../../../datasets/sridhar-2025/constants.js';
import type { NdArray } from '../../../ndarray.js';
import { type ResolveOptions, resolveDataPath } from '../../cache/resolve-data-path.js';
import { readPickleFile } from '../dataset-files.js';

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
  const src = toFloat32(a.data as ArrayLike<number>);
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
      const src = toFloat32(test.data as ArrayLike<number>);
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
