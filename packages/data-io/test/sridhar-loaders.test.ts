import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChunkedSampler,
  SRIDHAR_2025_EXCLUDED_CELLS,
  SridharNoiseDataset,
  buildSridharMoviesFromResponses,
  computeDataInfo,
  filterSridharTrials,
  loadSridhar2025,
  loadSridhar2025Responses,
  locationFromSta,
  type SridharDataLoader,
  sridharTrialSplit,
} from '../src/node.js';
import { Pcg64 } from '../src/random/pcg64.js';
import { parseNpy, parseNpz } from '@openretina/formats';
import { FIXTURES } from './helpers.js';
import { type TestServer, startServer } from './server.js';
import { writePickle } from './sridhar-pickle-writer.js';

await tf.setBackend('cpu');
const FX = `${FIXTURES}sridhar_2025_loader/`;
const meta = JSON.parse(readFileSync(`${FX}expected.json`, 'utf8'));
const expected = parseNpz(new Uint8Array(readFileSync(`${FX}expected.npz`)));
const exp = (k: string) => {
  const a = expected[k];
  if (!a) throw new Error(`no ${k} in expected.npz`);
  return a as { data: Float32Array; shape: number[] };
};
const tmp = mkdtempSync(join(tmpdir(), 'dataio-sridhar-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The fixation lines of make_sridhar_loader_fixtures.py (OpenRetina needs 5100 test lines before the train trials). */
const fixationLine = (k: number) => `${(2 * k) % 3} 0 0 ${3 + ((3 * k) % 5)}.0 ${2 + ((7 * k) % 5)} ${k % 2}\n`;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** All batches of one epoch, concatenated (and disposed). */
function drain(loader: SridharDataLoader): { x: Float32Array; y: Float32Array; xShape: number[]; batches: number[] } {
  const xs: Float32Array[] = [];
  const ys: Float32Array[] = [];
  const batches: number[] = [];
  let xShape: number[] = [];
  for (const b of loader) {
    xs.push(b.inputs.dataSync() as Float32Array);
    ys.push(b.targets.dataSync() as Float32Array);
    batches.push(b.inputs.shape[0]);
    xShape = b.inputs.shape.slice(1);
    expect(b.session).toBe(loader.session);
    tf.dispose([b.inputs, b.targets]);
  }
  const cat = (p: Float32Array[]) => {
    const out = new Float32Array(p.reduce((s, a) => s + a.length, 0));
    let o = 0;
    for (const a of p) {
      out.set(a, o);
      o += a.length;
    }
    return out;
  };
  return { x: cat(xs), y: cat(ys), xShape, batches };
}

describe('sridhar_2025 sampling (numpy-exact)', () => {
  it('PCG64 seeded like np.random.default_rng', () => {
    const g = new Pcg64(8);
    expect(g.rawState.state.toString()).toBe(meta.pcg64_8.state);
    expect(g.rawState.inc.toString()).toBe(meta.pcg64_8.inc);
    expect([g.nextUint64(), g.nextUint64(), g.nextUint64()].map(String)).toEqual(meta.pcg64_8.raw);
  });

  it('ChunkedSampler gives OpenRetina’s epoch orders (shuffles within trials, then the trial order)', () => {
    for (const c of meta.chunked as { n: number; chunk: number; seed: number; epochs: number[][] }[]) {
      const s = new ChunkedSampler(c.n, c.chunk, c.seed);
      for (const e of c.epochs) expect(s.epochIndices()).toEqual(e);
    }
  });

  it('trial-wise split equals get_trial_wise_validation_split (linked trials kept together)', () => {
    for (const c of meta.trial_splits as { n: number; seed: number | null; frac: number; train: number[]; validation: number[] }[]) {
      const s = sridharTrialSplit(c.n, { seed: c.seed, trainFrac: c.frac });
      expect(s).toEqual({ train: c.train, validation: c.validation });
      const tr = new Set(s.train);
      for (const [a, b] of [
        [0, 9],
        [10, 19],
      ])
        if (a! < c.n && b! < c.n) expect(tr.has(a!)).toBe(tr.has(b!));
    }
    const fin = sridharTrialSplit(10, { finalTraining: true });
    expect(fin.train).toEqual([2, 6, 5, 1, 4, 9, 0, 8, 7, 3]);
    expect(fin.validation).toEqual([7, 3]);
    expect(sridharTrialSplit(10, { hardCoded: [[1, 2], [3]] })).toEqual({ train: [1, 2], validation: [3] });
    expect(
      filterSridharTrials(10, { train: [2, 6, 5, 1, 4, 9, 0, 8], validation: [7, 3] }, { numOfTrialsToUse: 5, startingTrial: 2 }),
    ).toEqual({
      train: [2, 6, 5, 4],
      validation: [3],
    });
  });

  it('RF location = argmax of the temporal variance of the flipped / cropped STA', () => {
    const sta = parseNpy(new Uint8Array(readFileSync(`${FX}sta.npy`)));
    for (const c of meta.sta_locations as { flip: boolean; crop: number | [number, number, number, number]; loc: [number, number] }[]) {
      expect(locationFromSta(sta as { data: Float32Array; shape: number[] }, { flipSta: c.flip, crop: c.crop })).toEqual(c.loc);
    }
  });

  it('excluded cells are the config lists', () => {
    const nm = SRIDHAR_2025_EXCLUDED_CELLS.naturalMovie;
    const wn = SRIDHAR_2025_EXCLUDED_CELLS.whiteNoise;
    expect(Object.fromEntries(Object.entries(nm).map(([k, v]) => [k, v.length]))).toEqual({ '01': 135, '02': 113, '03': 0, '04': 30 });
    expect(Object.fromEntries(Object.entries(wn).map(([k, v]) => [k, v.length]))).toEqual({ '01': 137, '02': 113, '04': 30 });
    expect([nm['01']![0], nm['01']!.at(-1), nm['02']!.at(-1), nm['04']!.at(-1)]).toEqual([1, 365, 181, 108]);
    expect(wn['01']!.filter((c) => !nm['01']!.includes(c))).toEqual([12, 168]);
  });
});

describe('sridhar_2025 white noise (OpenRetina white_noise_loader parity)', () => {
  const dir = join(tmp, 'wn');
  const options = {
    stimulus: 'white_noise' as const,
    files: { '01': 'responses/cell_responses_01_wn.pkl' },
    bigCrops: { '01': [1, 2, 1, 2] as const },
    excludedCells: { '01': [1] },
    batchSize: 4,
    numOfFrames: [2],
    timeChunkSize: 3,
    extraFrame: 1,
  };
  beforeAll(() => cpSync(`${FX}wn`, dir, { recursive: true }));

  it('splits, locations, chunked train epochs, validation and test batches equal OpenRetina’s', async () => {
    const before = tf.memory().numTensors;
    const d = await loadSridhar2025(dir, options);
    const m = meta.wn;
    expect(d.trialSplits['01']).toEqual({ train: m.train_trials, validation: m.validation_trials });
    expect(d.locations['01']).toEqual(m.locations);
    expect(d.frameOverhead).toBe(1);
    const train = d.dataloaders.train['01']!;
    expect(train.dataset.chunksPerTrial).toBe(m.chunks_per_trial);
    expect([train.dataset.length, d.dataloaders.validation['01']!.dataset.length, d.dataloaders.test['01']!.dataset.length]).toEqual([
      m.lengths.train,
      m.lengths.validation,
      m.lengths.test,
    ]);
    expect(train.length).toBe(6);
    const e1 = drain(train);
    const ds = train.dataset as SridharNoiseDataset;
    expect(ds.filesRead).toBe(8); // one read per trial and epoch with a one-trial cache
    const e2 = drain(train);
    expect(e1.xShape).toEqual([4, 5, 6, 1]);
    const tx = exp('wn_train_x');
    const half = tx.data.length / 2;
    expect(maxDiff(e1.x, tx.data.subarray(0, half))).toBe(0);
    expect(maxDiff(e2.x, tx.data.subarray(half))).toBe(0);
    const ty = exp('wn_train_y');
    expect(maxDiff([...e1.y, ...e2.y], ty.data)).toBe(0);
    const val = drain(d.dataloaders.validation['01']!);
    expect(maxDiff(val.x, exp('wn_val_x').data)).toBe(0);
    expect(maxDiff(val.y, exp('wn_val_y').data)).toBe(0);
    const test = d.dataloaders.test['01']!;
    const t = drain(test);
    expect(maxDiff(t.x, exp('wn_test_x').data)).toBe(0);
    expect(maxDiff(t.y, exp('wn_test_y').data)).toBeLessThan(1e-6); // repeat means: numpy sums float32 pairwise
    expect(maxDiff(d.testMovie('01').data, exp('wn_test_movie').data)).toBe(0);
    // by-trial: OpenRetina's NoiseDataset has (trials, N, T); ours [trials, T, N]
    const bt = exp('wn_test_by_trial');
    const [reps, n, tt] = bt.shape as [number, number, number];
    expect(test.testResponsesByTrial!.shape).toEqual([reps, tt, n]);
    const ours = test.testResponsesByTrial!.data;
    for (let r = 0; r < reps; r++)
      for (let i = 0; i < n; i++) for (let j = 0; j < tt; j++) expect(ours[(r * tt + j) * n + i]).toBe(bt.data[(r * n + i) * tt + j]);
    // placeholders feed computeDataInfo
    const info = computeDataInfo(d.responses, d.movies, { warn: () => {} });
    expect(info.inputShape).toEqual([1, 5, 6]);
    expect(info.nNeuronsDict).toEqual({ '01': 4 });
    expect(d.movies['01']!.train.shape).toEqual([120, 5, 6, 1]);
    expect(d.movies['01']!.stimId).toBe('sridhar_wn_2025_01');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('noise dataset: cache drops the most recently inserted trial, clear errors', async () => {
    const frames = (i: number) => ({ data: Float32Array.from({ length: 2 * 2 * 6 }, (_, k) => i * 100 + k), shape: [2, 2, 6] });
    const reads: number[] = [];
    const source = {
      trial: (i: number) => {
        reads.push(i);
        return frames(i);
      },
      test: () => frames(99),
    };
    const resp = {
      train: { data: new Float32Array(4 * 6 * 2), shape: [24, 2] as const },
      test: { data: new Float32Array(12), shape: [6, 2] as const },
      framesPerTrial: 6,
    };
    const ds = new SridharNoiseDataset(source, resp, {
      split: 'train',
      trialIndices: [0, 1, 2, 3],
      timeChunkSize: 2,
      frameOverhead: 1,
      crop: 0,
      cacheMaxsize: 2,
    });
    expect(ds.chunksPerTrial).toBe(2);
    for (const i of [0, 2, 4, 0, 6]) ds.get(i);
    // trials 0, 1 cached; trial 2 evicts 1 (the last inserted), trial 0 is a hit, trial 3 evicts 2
    expect(reads).toEqual([0, 1, 2, 3]);
    expect(ds.cachedTrials).toEqual([0, 3]);
    const s = ds.get(1);
    expect(s.inputs.shape).toEqual([3, 2, 2, 1]);
    // (h, w, n) → time-major: frame t of pixel (y, x) is k = (y·2 + x)·6 + t
    expect(Array.from(s.inputs.data.subarray(0, 4))).toEqual([2, 8, 14, 20]);
    expect(() => ds.get(8)).toThrow(/outside \[0, 8\)/);
    expect(() => new SridharNoiseDataset(source, resp, { split: 'train', trialIndices: [4], frameOverhead: 1, timeChunkSize: 2 })).toThrow(
      /Trial 4 is outside the 4 trials/,
    );
    rmSync(join(dir, 'non_repeating_stimuli_1', 'trial_003'), { recursive: true, force: true });
    const d = await loadSridhar2025(dir, { ...options, getLocations: false });
    const loader = d.dataloaders.validation['01']!; // trials [7, 3]
    expect(() => {
      for (const b of loader) tf.dispose([b.inputs, b.targets]);
    }).toThrow(/trial_003\/all_images\.npy/);
  });
});

describe('sridhar_2025 natural movie (OpenRetina frame_movie_loader parity)', () => {
  const dir = join(tmp, 'nm');
  const options = {
    files: { '01': 'responses/cell_responses_01_fixation_movie.pkl', '02': 'responses/cell_responses_02_fixation_movie.pkl' },
    fixationFiles: { '01': 'fixations/fix.txt', '02': 'fixations/fix.txt' },
    bigCrops: { '01': [1, 1, 2, 2] as const, '02': 1 },
    excludedCells: { '01': [2], '02': [] },
    batchSize: 3,
    numOfFrames: [2, 2],
    timeChunkSize: 3,
    imgW: 8,
    imgH: 6,
    padding: 1,
  };
  beforeAll(() => {
    cpSync(`${FX}nm`, dir, { recursive: true });
    mkdirSync(join(dir, 'fixations'), { recursive: true });
    const lines: string[] = [];
    for (let k = 0; k < 5100 + 10 * 12; k++) lines.push(fixationLine(k));
    writeFileSync(join(dir, 'fixations', 'fix.txt'), lines.join(''), { flag: 'w' });
  });

  it('splits, locations, samples, validation and test batches equal OpenRetina’s', async () => {
    const before = tf.memory().numTensors;
    const d = await loadSridhar2025(dir, options);
    expect(d.frameOverhead).toBe(2);
    for (const r of ['01', '02']) {
      const m = meta.nm[r];
      expect(d.trialSplits[r]).toEqual({ train: m.train_trials, validation: m.validation_trials });
      expect(d.locations[r]).toEqual(m.locations);
      const train = d.dataloaders.train[r]!;
      expect([train.dataset.length, d.dataloaders.validation[r]!.dataset.length, d.dataloaders.test[r]!.dataset.length]).toEqual([
        m.lengths.train,
        m.lengths.validation,
        m.lengths.test,
      ]);
      // train samples in index order (OpenRetina shuffles them with torch's generator)
      const ix = exp(`nm${r}_train_items_x`);
      const iy = exp(`nm${r}_train_items_y`);
      const per = ix.data.length / train.dataset.length;
      const perY = iy.data.length / train.dataset.length;
      for (let i = 0; i < train.dataset.length; i++) {
        const s = train.dataset.get(i);
        expect(maxDiff(s.inputs.data, ix.data.subarray(i * per, (i + 1) * per))).toBe(0);
        expect(maxDiff(s.targets.data, iy.data.subarray(i * perY, (i + 1) * perY))).toBe(0);
      }
      // one shuffled epoch serves every sample once; the next epoch is another order
      const e1 = drain(train);
      expect(e1.batches.reduce((a, b) => a + b, 0)).toBe(train.dataset.length);
      expect(e1.batches.at(-1)).toBe(train.dataset.length % 3 || 3);
      const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0);
      expect(sum(e1.y)).toBeCloseTo(sum(iy.data), 3);
      const val = drain(d.dataloaders.validation[r]!);
      expect(maxDiff(val.x, exp(`nm${r}_val_x`).data)).toBe(0);
      expect(maxDiff(val.y, exp(`nm${r}_val_y`).data)).toBe(0);
      const test = d.dataloaders.test[r]!;
      const t = drain(test);
      expect(maxDiff(t.x, exp(`nm${r}_test_x`).data)).toBe(0);
      expect(maxDiff(t.y, exp(`nm${r}_test_y`).data)).toBeLessThan(1e-6); // repeat means (float32 in numpy)
      expect(maxDiff(d.testMovie(r).data, exp(`nm${r}_test_movie`).data)).toBe(0);
      // by-trial: MarmosetMovieDataset has (trials, T, N), as ours
      const bt = exp(`nm${r}_test_by_trial`);
      expect(test.testResponsesByTrial!.shape).toEqual(bt.shape);
      expect(maxDiff(test.testResponsesByTrial!.data, bt.data)).toBe(0);
    }
    const fin = await loadSridhar2025(dir, { ...options, retinaIndex: '01', finalTraining: true, getLocations: false });
    expect(fin.trialSplits['01']!.train).toEqual(meta.nm.final_training_01);
    expect(fin.dataloaders.train['01']!.dataset.length).toBe(20);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('containers: response_splits_from_pickles and build_movies_from_responses', async () => {
    const d = await loadSridhar2025(dir, { ...options, getLocations: false });
    const movies = await buildSridharMoviesFromResponses(dir, options.files, { height: 4, width: 4, stimIdPrefix: 'sridhar_nm_2025' });
    for (const r of ['01', '02']) {
      const c = meta.containers[r];
      const resp = d.responses[r]!;
      expect([resp.train.shape[1], resp.train.shape[0]]).toEqual(c.train_shape);
      expect([resp.test.test!.shape[1], resp.test.test!.shape[0]]).toEqual(c.test_shape);
      const [reps, n, t] = c.by_trial_shape;
      expect(resp.testByTrial!.test!.shape).toEqual([reps, t, n]);
      expect(resp.sessionKwargs).toEqual({
        stimulus_seed: [c.session_kwargs.stimulus_seed],
        frames_per_trial: [c.session_kwargs.frames_per_trial],
        num_trials: [c.session_kwargs.num_trials],
        cell_indices: c.session_kwargs.cell_indices,
      });
      const testNT = exp(`split${r}_test`).data;
      for (let i = 0; i < n; i++) for (let j = 0; j < t; j++) expect(resp.test.test!.data[j * n + i]).toBeCloseTo(testNT[i * t + j]!, 6);
      const info = computeDataInfo({ [r]: resp }, d.movies[r]!);
      expect(maxDiff(info.meanActivityDict[r]!, exp(`split${r}_mean`).data)).toBeLessThan(1e-6);
      expect(info.inputShape).toEqual(r === '01' ? [1, 4, 4] : [1, 4, 6]);
      const [, tt, h, w] = c.movie_train_shape;
      expect(movies[r]!.train.shape).toEqual([tt, h, w, 1]);
      expect(movies[r]!.test.test!.shape[0]).toBe(c.movie_test_shape[1]);
      expect(movies[r]!.stimId).toBe(c.stim_id);
      expect(d.movies[r]!.train.shape[0]).toBe(tt);
    }
  });

  it('errors name what is missing', async () => {
    await expect(loadSridhar2025(dir, { ...options, numOfFrames: [2], numOfLayers: 2 })).rejects.toThrow(/one kernel size per layer/);
    await expect(loadSridhar2025(dir, { ...options, getLocations: true, excludedCells: { '01': [], '02': [] } })).rejects.toThrow(
      /No STA for cell 2 of retina 01/,
    );
    expect(() => new ChunkedSampler(3, 0)).toThrow(/chunkSize/);
  });
});

describe('sridhar_2025 responses from pickles written here', () => {
  it('retina 01 without the stimulus seed keeps its first 10 test repeats; placeholders get the right lengths', async () => {
    const base = join(tmp, 'pk');
    mkdirSync(join(base, 'responses'), { recursive: true });
    const arr = (shape: number[], off: number) => ({
      data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, k) => off + k),
      shape,
    });
    for (const r of ['01', '02']) {
      const obj = new Map<string | number, Parameters<typeof writePickle>[0]>([
        ['train_responses', arr([3, 4, 5], 0)],
        ['test_responses', arr([3, 2, 12], 1000)],
        ['seeds', [2022, 2023]],
        [
          'trial_separation',
          new Map([
            [2022, [0, 1, 2]],
            [2023, [3, 4]],
          ]),
        ],
      ]);
      writeFileSync(join(base, 'responses', `${r}.pkl`), writePickle(obj));
    }
    const files = { '01': 'responses/01.pkl', '02': 'responses/02.pkl' };
    const r = await loadSridhar2025Responses(base, { files, excludedCells: { '01': [1] } });
    expect(r['01']!.testByTrial!.test!.shape).toEqual([10, 2, 2]);
    expect(r['02']!.testByTrial!.test!.shape).toEqual([12, 2, 3]);
    // test (N=3, T=2, repeats=12) value 1000 + (n·2 + t)·12 + q; cell 1 excluded → cells 0 and 2
    expect(r['01']!.test.test!.data[1]).toBeCloseTo(1000 + 4 * 12 + 4.5, 4);
    expect(r['02']!.test.test!.data[0]).toBeCloseTo(1000 + 5.5, 4);
    expect(r['01']!.train.shape).toEqual([20, 2]);
    const withSeed = await loadSridhar2025Responses(base, { files, stimulusSeed: 2023 });
    expect(withSeed['01']!.train.shape).toEqual([8, 3]);
    expect(withSeed['01']!.testByTrial!.test!.shape).toEqual([2, 2, 3]);
    const movies = await buildSridharMoviesFromResponses(base, files, { stimulusSeed: 2023, height: 3, width: 2 });
    expect(movies['01']!.train.shape).toEqual([8, 3, 2, 1]);
    expect(movies['02']!.test.test!.shape).toEqual([2, 3, 2, 1]);
    expect(movies['01']!.stimId).toBe('sridhar_2025_01');
  });
});

describe('sridhar_2025 remote', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => server.close());

  it('downloads the HuggingFace folder through the cache and loads it', async () => {
    const src = `${FX}wn`;
    const walk = (d: string): string[] =>
      readdirSync(d).flatMap((e) => (statSync(join(d, e)).isDirectory() ? walk(join(d, e)) : [join(d, e)]));
    for (const f of walk(src)) {
      server.files.set(
        `/datasets/open-retina/open-retina/resolve/main/gollisch_lab/sridhar_2025/marmoset/whitenoise/${relative(src, f)}`,
        new Uint8Array(readFileSync(f)),
      );
    }
    const cacheDir = join(tmp, 'cache');
    const url = `${server.url}/datasets/open-retina/open-retina/tree/main/gollisch_lab/sridhar_2025/marmoset/whitenoise`;
    const opts = {
      stimulus: 'white_noise' as const,
      files: { '01': 'responses/cell_responses_01_wn.pkl' },
      bigCrops: { '01': [1, 2, 1, 2] as const },
      excludedCells: { '01': [1] },
      batchSize: 4,
      numOfFrames: 2,
      timeChunkSize: 3,
      extraFrame: 1,
      resolve: { hfEndpoint: server.url, cacheDir },
    };
    const d = await loadSridhar2025(url, opts);
    expect(d.locations['01']).toEqual(meta.wn.locations);
    const v = drain(d.dataloaders.validation['01']!);
    expect(maxDiff(v.x, exp('wn_val_x').data)).toBe(0);
    const n = server.requests.length;
    await loadSridhar2025(url, opts); // cached: no request
    expect(server.requests.length).toBe(n);
  });
});
