import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, describe, expect, it } from 'vitest';
import {
  hoefling2024Dataloaders,
  loadGoldin2022,
  loadHoefling2024,
  loadKaramanlis2024,
  loadMaheswaranathan2023,
  multipleMoviesDataloaders,
} from '../src/node.js';
import { interp } from '../src/interp.js';
import { resizeBilinearAntialias } from '../src/resize.js';
import { parseNpy, parseNpz } from '@openretina/formats';
import { FIXTURES } from './helpers.js';

await tf.setBackend('cpu');
const D = `${FIXTURES}datasets/`;
const tmp = mkdtempSync(join(tmpdir(), 'dataio-ds-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
/** [T, N] → (N, T) */
const toNT = (d: Float32Array, t: number, n: number) => Float64Array.from({ length: t * n }, (_, k) => d[(k % t) * n + Math.floor(k / t)]!);

describe('pickle and helpers', () => {
  it('np.interp semantics (clamped ends) and PIL-style antialiased resize', () => {
    expect(Array.from(interp([-1, 0, 0.5, 1, 2, 3], [0, 1, 2], [10, 20, 40]))).toEqual([10, 10, 15, 20, 40, 40]);
    const img = Float32Array.from({ length: 16 }, (_, i) => i);
    const half = resizeBilinearAntialias(img, 4, 4, 2, 2);
    // 2× downscale, triangle filter of support 2 truncated at the border and renormalised (PIL / torchvision antialias):
    // output 0 averages inputs 0..2 with weights .75, .75, .25; output 1 inputs 1..3 with .25, .75, .75
    const m0 = (0 * 0.75 + 1 * 0.75 + 2 * 0.25) / 1.75;
    const m1 = (1 * 0.25 + 2 * 0.75 + 3 * 0.75) / 1.75;
    expect(half[0]).toBeCloseTo(4 * m0 + m0, 5);
    expect(half[3]).toBeCloseTo(4 * m1 + m1, 5);
    expect(Array.from(resizeBilinearAntialias(img, 4, 4, 4, 4))).toEqual(Array.from(img));
  });
});

describe('hoefling_2024', () => {
  it('reads the zipped stimulus pickle and the responses HDF5; filtering, upsampling and test splits match numpy', async () => {
    const { movies, responses } = await loadHoefling2024({
      stimuliPath: `${D}hoefling_2024/stimuli_tiny.zip`,
      responsesPath: `${D}hoefling_2024/responses_tiny.h5`,
      numClips: 4,
      clipLength: 3,
      triggerDuration: 2 / 30,
    });
    expect(movies.train.shape).toEqual([12, 4, 3, 2]);
    expect(movies.test.test!.shape).toEqual([15, 4, 3, 2]);
    expect(movies.randomSequences!.shape).toEqual([4, 3]);
    expect(movies.normMean).toBeCloseTo(36.979, 10);
    expect(movies.normStd).toBeCloseTo(36.985, 10);
    const expected = parseNpz(new Uint8Array(readFileSync(`${D}hoefling_2024/expected.npz`)));
    expect(Object.keys(responses)).toEqual(['field_a', 'field_b']);
    for (const f of ['field_a', 'field_b']) {
      const r = responses[f]!;
      const keep = Array.from(expected[`${f}_keep`]!.data as BigInt64Array, Number);
      const n = keep.filter(Boolean).length;
      expect(r.train.shape).toEqual([12, n]);
      expect(maxDiff(toNT(r.train.data, 12, n), expected[`${f}_train`]!.data as Float64Array)).toBeLessThan(1e-5);
      expect(maxDiff(toNT(r.test.test!.data, 15, n), expected[`${f}_test`]!.data as Float64Array)).toBeLessThan(1e-5);
      const bt = r.testByTrial!.test!;
      expect(bt.shape).toEqual([3, 15, n]);
      const exp = expected[`${f}_by_trial`]!.data as Float64Array; // (trials, N, T)
      for (let k = 0; k < 3; k++)
        expect(
          maxDiff(toNT(bt.data.subarray(k * 15 * n, (k + 1) * 15 * n), 15, n), exp.subarray(k * n * 15, (k + 1) * n * 15)),
        ).toBeLessThan(1e-5);
      expect(r.sessionKwargs!.group_assignment).toEqual([1, 12]);
    }
    expect(responses.field_a!.sessionKwargs!.eye).toEqual(['left']);
    expect(responses.field_a!.sessionKwargs!.scan_sequence_idx).toEqual([2]);
  });

  it('builds session loaders: presentation order, validation clips, left-eye flip', async () => {
    const { movies, responses } = await loadHoefling2024({
      stimuliPath: `${D}hoefling_2024/stimuli_tiny.zip`,
      responsesPath: `${D}hoefling_2024/responses_tiny.h5`,
      numClips: 4,
      clipLength: 3,
      triggerDuration: 2 / 30,
    });
    const dl = hoefling2024Dataloaders(responses, movies, {
      validationClipIndices: [1],
      numClips: 4,
      clipLength: 3,
      trainChunkSize: 2,
      batchSize: 2,
    });
    const rs = movies.randomSequences!;
    const [, h, w, c] = movies.train.shape;
    const fs = h * w * c;
    for (const session of ['field_a', 'field_b']) {
      const seq = responses[session]!.sessionKwargs!.scan_sequence_idx![0] as number;
      const order = [0, 1, 2, 3].map((k) => rs.data[k * 3 + seq]!).filter((k) => k !== 1);
      const train = dl.train![session]!;
      expect(train.movie.frames).toBe(9);
      expect(train.sampler.length).toBe(5); // arange(0, 9, 2)
      const left = session === 'field_a';
      const frames = train.movie.toArray();
      // frame 0 of the session's train movie = frame 0 of the first presented non-validation clip (flipped for left eyes)
      const src = movies.train.data.subarray(order[0]! * 3 * fs, order[0]! * 3 * fs + fs);
      const x0 = 0;
      const srcX = left ? w - 1 : 0;
      expect(frames[x0 * c]).toBe(src[srcX * c]);
      // validation responses = the responses at the position where clip 1 was shown
      const pos = [0, 1, 2, 3].findIndex((k) => rs.data[k * 3 + seq] === 1);
      const vr = dl.validation![session]!.responses.toArray();
      const n = responses[session]!.train.shape[1];
      expect(Array.from(vr)).toEqual(Array.from(responses[session]!.train.data.subarray(pos * 3 * n, (pos + 1) * 3 * n)));
      expect(dl.test![session]!.chunkSize).toBe(15);
      for (const b of dl.train![session]!) tf.dispose([b.inputs, b.targets]);
    }
  });
});

describe('karamanlis_2024', () => {
  it('renders fixation movies from the .mat (v7.3/HDF5 with user block), caches them as .npz and reads responses', async () => {
    const base = join(tmp, 'karamanlis');
    cpSync(`${D}karamanlis_2024/sessions`, base, { recursive: true });
    const ds = await loadKaramanlis2024(base, { screenSize: [12, 16], downsampledSize: [6, 8] });
    expect(Object.keys(ds.responses)).toEqual(['mouse_s1']);
    const r = ds.responses.mouse_s1!;
    expect(r.train.shape).toEqual([6, 5]);
    expect(r.testByTrial!.test!.shape).toEqual([4, 2, 5]);
    const m = ds.movies.mouse_s1!;
    expect(m.train.shape).toEqual([6, 6, 8, 1]);
    expect(m.test.test!.shape).toEqual([2, 6, 8, 1]);
    expect(m.normStd).toBeGreaterThan(0);
    expect(readdirSync(join(base, 'mouse_s1')).sort()).toEqual([
      'x_fixationmovie_data.mat',
      'x_fixationmovie_data_extracted_stimuli_6_8.npz',
    ]);
    const again = await loadKaramanlis2024(base, { screenSize: [12, 16], downsampledSize: [6, 8] });
    expect(maxDiff(again.movies.mouse_s1!.train.data, m.train.data)).toBe(0);
    await expect(loadKaramanlis2024(base, { specie: 'marmoset' })).rejects.toThrow(/No session folders containing "marmoset"/);
  });
});

describe('maheswaranathan_2023 and goldin_2022', () => {
  it('reads the Baccus-lab HDF5 layout', async () => {
    const ds = await loadMaheswaranathan2023(`${D}maheswaranathan_2023/neural_code_data`, { responseType: 'firing_rate_10ms' });
    const r = ds.responses['15-10-07']!;
    expect(r.train.shape).toEqual([40, 3]);
    expect(r.test.test!.shape).toEqual([11, 3]);
    expect(r.testByTrial!.test!.shape).toEqual([2, 11, 3]);
    expect(ds.movies['15-10-07']!.train.shape).toEqual([40, 5, 5, 1]);
    expect(ds.movies['15-10-07']!.test.test!.shape).toEqual([10, 5, 5, 1]);
    const per = await loadMaheswaranathan2023(`${D}maheswaranathan_2023/neural_code_data`, {
      responseType: 'firing_rate_20ms',
      frNormalization: 2,
    });
    expect(per.responses['15-10-07']!.testByTrial!.test!.shape).toEqual([2, 11, 3]);
    // the test response is one bin longer than the test movie: the loaders use its first 10 frames
    const dl = multipleMoviesDataloaders(ds.responses, ds.movies, { clipLength: 10, numValClips: 1, trainChunkSize: 5, batchSize: 2 });
    expect(dl.test!['15-10-07']!.chunkSize).toBe(10);
  });

  it('reads the Marre-lab HDF5 layout, divides by 0.3 and checks the repeat mean', async () => {
    const ds = await loadGoldin2022(`${D}goldin_2022`);
    expect(Object.keys(ds.responses)).toEqual(['mouse_s1']);
    const r = ds.responses.mouse_s1!;
    expect(r.train.shape).toEqual([12, 4]);
    expect(r.testByTrial!.test!.shape).toEqual([5, 3, 4]);
    expect(ds.movies.mouse_s1!.train.shape).toEqual([12, 6, 6, 1]);
    const ax = await loadGoldin2022(`${D}goldin_2022`, { specie: 'axolotl' });
    expect(ax.responses.axolotl_s2!.testByTrial).toBeUndefined();
    const dl = multipleMoviesDataloaders(ds.responses, ds.movies, {
      clipLength: 1,
      trainChunkSize: 1,
      numValClips: 4,
      batchSize: 2,
      allowOverBoundaries: false,
    });
    expect(dl.train!.mouse_s1!.sampler.length).toBe(8);
    expect(dl.validation!.mouse_s1!.sampler.length).toBe(4);
  });

  it('reads pickles with the safe reader of @openretina/formats; a broken one is an error naming the file', async () => {
    const { loadSridhar2025Responses } = await import('../src/node.js');
    writeFileSync(join(tmp, 'x.pkl'), new Uint8Array([1, 2, 3]));
    await expect(loadSridhar2025Responses(tmp, { files: { '01': 'x.pkl' } })).rejects.toThrow(/x\.pkl: unknown opcode 0x01/);
  });
});

describe('sridhar_2025', () => {
  it('reads response pickles: cell exclusion, seed trials, repeat mean, by-trial', async () => {
    const { loadSridhar2025Responses } = await import('../src/node.js');
    const base = `${D}sridhar_2025/natural_movie`;
    const files = { '01': 'responses/cell_responses_01_fixation_movie.pkl' };
    const r = (await loadSridhar2025Responses(base, { files, excludedCells: { '01': [1, 3] } }))['01']!;
    // seed 0 → trials [0, 2] for train and test repeats
    expect(r.train.shape).toEqual([2 * 4, 3]);
    expect(r.test.test!.shape).toEqual([6, 3]);
    expect(r.testByTrial!.test!.shape).toEqual([2, 6, 3]);
    expect(r.sessionKwargs!.cell_indices).toEqual([0, 2, 4]);
    expect(r.sessionKwargs!.num_trials).toEqual([2]);
    const bt = r.testByTrial!.test!.data;
    for (let j = 0; j < 6 * 3; j++) expect(r.test.test!.data[j]).toBeCloseTo((bt[j]! + bt[18 + j]!) / 2, 6);
    const other = (await loadSridhar2025Responses(base, { files, stimulusSeed: 5 }))['01']!;
    expect(other.train.shape).toEqual([3 * 4, 5]);
    expect(other.testByTrial!.test!.shape).toEqual([4, 6, 5]); // first 10 repeats for retina 01 (only 4 here)
    const single = (await loadSridhar2025Responses(base, { files, cellIndex: 4 }))['01']!;
    expect(single.train.shape[1]).toBe(1);
  });

  it('renders fixation crops like the Python loader (float16 frames, flip, transpose, crops)', async () => {
    const { loadSridharFrames, parseSridharFixations, renderSridharMovie } = await import('../src/node.js');
    const base = `${D}sridhar_2025/natural_movie`;
    const frames = await loadSridharFrames(`${base}/stimuli_padded_4`);
    expect([frames.count, frames.fullW, frames.fullH]).toEqual([3, 12, 10]);
    const fix = parseSridharFixations(readFileSync(`${base}/fixations/fixations_tiny.txt`, 'utf8'));
    expect(fix[1]).toEqual({ imgIndex: 1, centerX: 5, centerY: 4, flip: 1 });
    const movie = renderSridharMovie(frames, fix, { imgW: 8, imgH: 6, padding: 1, crop: [1, 1, 2, 2] });
    expect(movie.shape).toEqual([10, 4, 4, 1]);
    const expected = parseNpy(new Uint8Array(readFileSync(`${base}/expected_frames.npy`)));
    expect(expected.shape).toEqual([10, 4, 4]);
    expect(maxDiff(movie.data, expected.data as Float32Array)).toBe(0);
  });
});

describe('sridhar_2025 time chunks', () => {
  it('computes the frame overhead and serves chunks with aligned targets', async () => {
    const {
      loadSridhar2025Responses,
      loadSridharFrames,
      parseSridharFixations,
      renderSridharMovie,
      sridharFrameOverhead,
      SridharMovieDataset,
    } = await import('../src/node.js');
    expect(sridharFrameOverhead({ numOfFrames: 21, hiddenFrames: [11, 11], hiddenTemporalDilation: 2 })).toBe(20 + 20 + 20);
    expect(sridharFrameOverhead({ numOfFrames: 5, temporalDilation: 2 })).toBe(8);
    const base = `${D}sridhar_2025/natural_movie`;
    const r = (await loadSridhar2025Responses(base, { files: { '01': 'responses/cell_responses_01_fixation_movie.pkl' } }))['01']!;
    const frames = await loadSridharFrames(`${base}/stimuli_padded_4`);
    const fix = parseSridharFixations(readFileSync(`${base}/fixations/fixations_tiny.txt`, 'utf8'));
    const render = { imgW: 8, imgH: 6, padding: 1, crop: [1, 1, 2, 2] as const };
    const resp = { train: r.train, test: r.test.test!, framesPerTrial: r.sessionKwargs!.frames_per_trial![0] as number };
    const train = new SridharMovieDataset(frames, fix, resp, {
      ...render,
      split: 'train',
      trialIndices: [1],
      timeChunkSize: 2,
      frameOverhead: 1,
      testFrames: 2,
    });
    expect(train.length).toBe(1);
    const s = train.get(0);
    expect(s.inputs.shape).toEqual([3, 4, 4, 1]);
    expect(Array.from(s.inputs.data)).toEqual(Array.from(renderSridharMovie(frames, fix.slice(6, 9), render).data));
    expect(Array.from(s.targets.data)).toEqual(Array.from(r.train.data.subarray(5 * 5, 7 * 5)));
    const test = new SridharMovieDataset(frames, fix, resp, { ...render, split: 'test', timeChunkSize: 2, frameOverhead: 1 });
    expect(test.length).toBe(2);
    const t1 = test.get(1);
    expect(Array.from(t1.inputs.data)).toEqual(Array.from(renderSridharMovie(frames, fix.slice(2, 5), render).data));
    expect(Array.from(t1.targets.data)).toEqual(Array.from(r.test.test!.data.subarray(3 * 5, 5 * 5)));
    expect(() => test.get(2)).toThrow(/outside \[0, 2\)/);
  });
});
