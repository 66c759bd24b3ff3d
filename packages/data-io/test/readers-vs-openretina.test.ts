// Our dataset readers against OpenRetina's own readers, run by fixtures/data-io/make_reader_fixtures.py on tiny files
// in the published formats (inputs and OpenRetina's outputs are in fixtures/data-io/readers/).
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Movie, ResponseSplit, Responses, TrialResponses } from '@openretina/contracts';
import { parseNpz } from '@openretina/formats';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createResponseSplit,
  hoefling2024Dataloaders,
  loadGoldin2022,
  loadHoefling2024,
  loadKaramanlis2024,
  loadMaheswaranathan2023,
  movieToCTHW,
  responsesFromNT,
  responsesToNT,
  trialResponsesFromTrialsNT,
} from '../src/node.js';
import { FIXTURES } from './helpers.js';

await tf.setBackend('cpu');
const R = `${FIXTURES}readers/`;
const tmp = mkdtempSync(join(tmpdir(), 'dataio-readers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Arrays = Record<string, { data: ArrayLike<number | bigint>; shape: number[] }>;
interface NormMeta {
  norm_mean: number;
  norm_std: number;
  stim_id?: string;
  by_trial?: boolean;
}
interface HoeflingMeta {
  movies: NormMeta;
  responses: Record<
    string,
    {
      eye: string;
      scan_sequence_idx: number;
      group_assignment: number[];
      roi_ids: number[];
      stim_id: string;
      train_shape: number[];
      test_shape: number[];
      test_by_trial_shape: number[];
    }
  >;
  loaders: {
    validation_clip_indices: number[];
    sessions: Record<string, [string, number, number]>;
    folds: Record<string, Record<string, { start_indices: number[]; chunk_size: number; batch_size: number; batches?: number }>>;
  };
}
interface SessionsMeta {
  downsampled_size: [number, number];
  fr_normalization: number;
  response_type: 'firing_rate_5ms' | 'firing_rate_10ms' | 'firing_rate_20ms';
  sessions: Record<string, NormMeta>;
  species: Record<string, Record<string, NormMeta>>;
}
function fixture<M>(dataset: string): { arrays: Arrays; meta: M } {
  return {
    arrays: parseNpz(new Uint8Array(readFileSync(`${R}${dataset}/expected.npz`))) as Arrays,
    meta: JSON.parse(readFileSync(`${R}${dataset}/expected.json`, 'utf8')) as M,
  };
}
function get(arrays: Arrays, key: string): { data: Float64Array; shape: number[] } {
  const a = arrays[key];
  if (!a) throw new Error(`no ${key} in expected.npz`);
  return { data: Float64Array.from(a.data as ArrayLike<number>, Number), shape: a.shape };
}

/** Largest |ours − theirs| relative to the largest |theirs| (float32 against OpenRetina's float64). */
function relDiff(ours: ArrayLike<number>, theirs: ArrayLike<number>): number {
  expect(ours.length).toBe(theirs.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < theirs.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i]! - theirs[i]!));
    scale = Math.max(scale, Math.abs(theirs[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}
const TOL = 1e-5;

/** `[T, N]` → OpenRetina's `(N, T)`. */
const nt = (r: Responses) => responsesToNT(r).data;
/** `[trials, T, N]` → `(trials, N, T)`. */
function trialsNT(r: TrialResponses): Float32Array {
  const [k, t, n] = r.shape;
  const out = new Float32Array(r.data.length);
  for (let q = 0; q < k; q++)
    for (let j = 0; j < t; j++) for (let i = 0; i < n; i++) out[(q * n + i) * t + j] = r.data[(q * t + j) * n + i]!;
  return out;
}
const cthw = (m: Movie) => movieToCTHW(m).data;

function expectSplit(r: ResponseSplit, arrays: Arrays, prefix: string, byTrial = true): void {
  const train = get(arrays, `${prefix}_train`);
  expect([r.train.shape[1], r.train.shape[0]]).toEqual(train.shape);
  expect(relDiff(nt(r.train), train.data)).toBeLessThan(TOL);
  const test = get(arrays, `${prefix}_test`);
  expect([r.test.test!.shape[1], r.test.test!.shape[0]]).toEqual(test.shape);
  expect(relDiff(nt(r.test.test!), test.data)).toBeLessThan(TOL);
  if (!byTrial) {
    expect(r.testByTrial).toBeUndefined();
    return;
  }
  const bt = get(arrays, `${prefix}_by_trial`);
  const ours = r.testByTrial!.test!;
  expect([ours.shape[0], ours.shape[2], ours.shape[1]]).toEqual(bt.shape);
  expect(relDiff(trialsNT(ours), bt.data)).toBeLessThan(TOL);
}

function expectMovies(
  movies: { train: Movie; test: Record<string, Movie>; normMean?: number; normStd?: number },
  arrays: Arrays,
  prefix: string,
  meta: { norm_mean: number; norm_std: number },
): void {
  const train = get(arrays, `${prefix}_movie_train`);
  expect(movieToCTHW(movies.train).shape).toEqual(train.shape);
  expect(relDiff(cthw(movies.train), train.data)).toBeLessThan(TOL);
  const test = get(arrays, `${prefix}_movie_test`);
  expect(relDiff(cthw(movies.test.test!), test.data)).toBeLessThan(TOL);
  expect(Math.abs(movies.normMean! - meta.norm_mean)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(meta.norm_mean)));
  expect(Math.abs(movies.normStd! - meta.norm_std) / meta.norm_std).toBeLessThan(1e-6);
}

describe('Höfling 2024 against OpenRetina (movies_from_pickle, load_h5_into_dict + filter_responses + make_final_responses)', () => {
  const { arrays, meta } = fixture<HoeflingMeta>('hoefling_2024');
  const load = () =>
    loadHoefling2024({
      stimuliPath: `${R}hoefling_2024/input/stimuli_tiny.pkl`,
      responsesPath: `${R}hoefling_2024/input/responses_tiny.h5`,
    });

  it('reads the stimulus pickle as OpenRetina does', async () => {
    const { movies } = await load();
    expect(relDiff(cthw(movies.train), get(arrays, 'movies_train').data)).toBe(0);
    expect(relDiff(cthw(movies.test.test!), get(arrays, 'movies_test').data)).toBe(0);
    expect(Array.from(movies.randomSequences!.data)).toEqual(Array.from(get(arrays, 'movies_random_sequences').data));
    expect(movies.normMean).toBe(meta.movies.norm_mean);
    expect(movies.normStd).toBe(meta.movies.norm_std);
  });

  it('filters, upsamples and splits the responses as OpenRetina does (sampled bins and per-neuron sums)', async () => {
    const { responses } = await load();
    expect(Object.keys(responses).sort()).toEqual(Object.keys(meta.responses).sort());
    for (const [name, m] of Object.entries(meta.responses)) {
      const r = responses[name]!;
      expect(r.sessionKwargs!.eye).toEqual([m.eye]);
      expect(r.sessionKwargs!.scan_sequence_idx).toEqual([m.scan_sequence_idx]);
      expect(r.sessionKwargs!.group_assignment).toEqual(m.group_assignment);
      expect(r.sessionKwargs!.roi_ids).toEqual(m.roi_ids);
      expect(r.stimId).toBe(m.stim_id);
      // (N, T) rows of ours, compared on the stored bins and over every bin through the sums
      const check = (prefix: string, rows: Float64Array[], shape: number[]) => {
        expect(shape).toEqual(prefix === 'by_trial' ? m.test_by_trial_shape : prefix === 'train' ? m.train_shape : m.test_shape);
        const cols = Array.from(get(arrays, `${name}_${prefix}_cols`).data);
        const sampled = get(arrays, `${name}_${prefix}_sampled`).data;
        const inner = shape.length === 3 ? shape[2]! : 1;
        const ours = rows.flatMap((row) => cols.flatMap((c) => Array.from(row.subarray(c * inner, (c + 1) * inner))));
        expect(relDiff(ours, sampled)).toBeLessThan(TOL);
        const sums = rows.map((row) => row.reduce((a, b) => a + b, 0));
        const sumsq = rows.map((row) => row.reduce((a, b) => a + b * b, 0));
        expect(relDiff(sums, get(arrays, `${name}_${prefix}_sum`).data)).toBeLessThan(1e-6);
        expect(relDiff(sumsq, get(arrays, `${name}_${prefix}_sumsq`).data)).toBeLessThan(1e-6);
      };
      const rowsOf = (data: Float32Array, t: number, n: number) =>
        Array.from({ length: n }, (_, i) => Float64Array.from({ length: t }, (_, j) => data[j * n + i]!));
      const [tTrain, n] = r.train.shape;
      check('train', rowsOf(r.train.data, tTrain, n), [n, tTrain]);
      const tTest = r.test.test!.shape[0];
      check('test', rowsOf(r.test.test!.data, tTest, n), [n, tTest]);
      // OpenRetina keeps Höfling's by-trial responses as (neurons, time, trials)
      const bt = r.testByTrial!.test!;
      const byTrialRows = Array.from({ length: n }, (_, i) => {
        const row = new Float64Array(tTest * 3);
        for (let j = 0; j < tTest; j++) for (let q = 0; q < 3; q++) row[j * 3 + q] = bt.data[(q * tTest + j) * n + i]!;
        return row;
      });
      check('by_trial', byTrialRows, [n, tTest, 3]);
    }
  });

  it('builds natmov_dataloaders_v2 movies, responses and batches (random sequences, validation clips, left eyes)', async () => {
    const { movies } = await load();
    const lm = meta.loaders;
    const responses: Record<string, ResponseSplit> = {};
    for (const [name, [eye, seq]] of Object.entries(lm.sessions)) {
      const train = get(arrays, `loader_input_${name}_train`);
      const test = get(arrays, `loader_input_${name}_test`);
      const bt = get(arrays, `loader_input_${name}_by_trial`);
      responses[name] = createResponseSplit({
        train: responsesFromNT(train.data, train.shape),
        test: responsesFromNT(test.data, test.shape),
        testByTrial: trialResponsesFromTrialsNT(bt.data, bt.shape),
        stimId: 'natural',
        sessionKwargs: { eye: [eye], scan_sequence_idx: [seq] },
      });
    }
    const dl = hoefling2024Dataloaders(responses, movies, {
      validationClipIndices: lm.validation_clip_indices,
      numClips: 6,
      clipLength: 4,
      trainChunkSize: 2,
      batchSize: 2,
    });
    for (const [fold, sessions] of Object.entries(lm.folds)) {
      for (const [name, info] of Object.entries(sessions)) {
        const loader = dl[fold]![name]!;
        const [h, w, c] = loader.frameShape;
        const frames = loader.movie.toArray();
        const movie = { data: frames, shape: [frames.length / (h * w * c), h, w, c] as [number, number, number, number] };
        expect(relDiff(cthw(movie), get(arrays, `loader_${fold}_${name}_movie`).data)).toBe(0);
        const resp = loader.responses.toArray().subarray(0, loader.movie.frames * loader.nNeurons);
        expect(relDiff(resp, get(arrays, `loader_${fold}_${name}_responses`).data)).toBe(0);
        expect(loader.sampler.indices).toEqual(info.start_indices);
        expect(loader.chunkSize).toBe(info.chunk_size);
        expect(loader.batchSize).toBe(info.batch_size);
        if (fold === 'train') continue;
        const xs: number[] = [];
        const ys: number[] = [];
        let batches = 0;
        for (const b of loader) {
          const [bb, t] = b.inputs.shape;
          const x = b.inputs.dataSync() as Float32Array;
          for (let k = 0; k < bb!; k++)
            xs.push(...cthw({ data: x.subarray(k * t! * h * w * c, (k + 1) * t! * h * w * c), shape: [t!, h, w, c] }));
          ys.push(...(b.targets.dataSync() as Float32Array));
          tf.dispose([b.inputs, b.targets]);
          batches++;
        }
        expect(batches).toBe(info.batches);
        expect(relDiff(xs, get(arrays, `loader_${fold}_${name}_x`).data)).toBe(0);
        expect(relDiff(ys, get(arrays, `loader_${fold}_${name}_y`).data)).toBe(0);
      }
    }
  });
});

describe('Karamanlis 2024 against OpenRetina (load_all_responses, load_all_stimuli)', () => {
  const { arrays, meta } = fixture<SessionsMeta>('karamanlis_2024');
  const size = meta.downsampled_size;

  it('renders the fixation movies from the .mat files and reads the responses as OpenRetina does', async () => {
    const base = join(tmp, 'karamanlis');
    cpSync(`${R}karamanlis_2024/input/sessions`, base, { recursive: true });
    const ds = await loadKaramanlis2024(base, { downsampledSize: size, frNormalization: meta.fr_normalization });
    expect(Object.keys(ds.responses).sort()).toEqual(Object.keys(meta.sessions).sort());
    for (const [session, m] of Object.entries(meta.sessions)) {
      expectSplit(ds.responses[session]!, arrays, session);
      expectMovies(ds.movies[session]!, arrays, session, m);
      expect(ds.movies[session]!.stimId).toBe(m.stim_id);
    }
  });

  it('reads the rendered-stimulus caches OpenRetina writes', async () => {
    const base = join(tmp, 'karamanlis-cached');
    cpSync(`${R}karamanlis_2024/input/sessions`, base, { recursive: true });
    for (const cache of readdirSync(`${R}karamanlis_2024/openretina_cache`)) {
      const session = cache.split('_fixationmovie')[0]!;
      cpSync(`${R}karamanlis_2024/openretina_cache/${cache}`, join(base, session, cache));
    }
    const ds = await loadKaramanlis2024(base, { downsampledSize: size, frNormalization: meta.fr_normalization, writeCache: false });
    for (const [session, m] of Object.entries(meta.sessions)) expectMovies(ds.movies[session]!, arrays, session, m);
  });
});

describe('Maheswaranathan 2023 against OpenRetina (load_all_responses, load_all_stimuli)', () => {
  const { arrays, meta } = fixture<SessionsMeta>('maheswaranathan_2023');
  it('reads both repeat layouts (per response type, per cell) and the stimuli as OpenRetina does', async () => {
    const ds = await loadMaheswaranathan2023(`${R}maheswaranathan_2023/input/neural_code_data`, {
      responseType: meta.response_type,
      frNormalization: meta.fr_normalization,
    });
    expect(Object.keys(ds.responses).sort()).toEqual(Object.keys(meta.sessions).sort());
    for (const [session, m] of Object.entries(meta.sessions)) {
      expectSplit(ds.responses[session]!, arrays, session);
      expectMovies(ds.movies[session]!, arrays, session, m);
    }
  });
});

describe('Goldin 2022 against OpenRetina (load_all_responses, load_all_stimuli)', () => {
  const { arrays, meta } = fixture<SessionsMeta>('goldin_2022');
  it('reads each species, with and without test repeats, as OpenRetina does', async () => {
    for (const [specie, sessions] of Object.entries(meta.species)) {
      const ds = await loadGoldin2022(`${R}goldin_2022/input`, {
        specie: specie as 'mouse' | 'axolotl',
        frNormalization: meta.fr_normalization,
      });
      expect(Object.keys(ds.responses).sort()).toEqual(Object.keys(sessions).sort());
      for (const [session, m] of Object.entries(sessions)) {
        expectSplit(ds.responses[session]!, arrays, session, m.by_trial ?? true);
        expectMovies(ds.movies[session]!, arrays, session, m);
      }
    }
  });
});
