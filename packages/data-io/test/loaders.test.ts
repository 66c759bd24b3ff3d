import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it, vi } from 'vitest';
import {
  FrameSequence,
  LongCycler,
  MT19937,
  MovieSampler,
  ShortCycler,
  createMovieSplit,
  createResponseSplit,
  genShiftsWithBoundaries,
  getMovieDataloader,
  multipleMoviesDataloaders,
} from '../src/index.js';
import { cycle } from '../src/cyclers.js';
import { computeTestBatchSize, drawValidationClips, splitClips } from '../src/loaders/clip-splits.js';
import { codedMovie, codedResponses } from './helpers.js';

await tf.setBackend('cpu');

describe('sampler semantics', () => {
  it('shifts train chunks in [0, chunk) and clips them (allowOverBoundaries), then shuffles', () => {
    const starts = Array.from({ length: 13 }, (_, i) => i * 10); // T = 130, chunk 10
    const s = new MovieSampler(starts, {
      split: 'train',
      chunkSize: 10,
      movieLength: 130,
      sceneLength: 25,
      allowOverBoundaries: true,
      seed: 1,
    });
    const seen = new Set<number>();
    for (let e = 0; e < 50; e++) {
      const idx = s.epochIndices();
      expect(idx).toHaveLength(13);
      const sorted = [...idx].sort((a, b) => a - b);
      sorted.forEach((v, i) => {
        expect(v).toBeGreaterThanOrEqual(starts[i]!);
        expect(v).toBeLessThanOrEqual(Math.min(starts[i]! + 9, 120));
      });
      idx.forEach((v) => seen.add(v - (v % 10)));
    }
    expect(seen.size).toBe(13);
    // two epochs differ (new shifts and order)
    expect(s.epochIndices()).not.toEqual(s.epochIndices());
  });

  it('keeps chunks inside scenes without allowOverBoundaries (gen_shifts_with_boundaries)', () => {
    const bounds = [0, 30, 60, 90];
    const rng = new MT19937(3);
    for (let rep = 0; rep < 50; rep++) {
      const starts = [0, 10, 20, 30, 40, 50, 60, 70, 80];
      const out = genShiftsWithBoundaries(bounds, starts, 10, rng);
      out.forEach((v, i) => {
        const s = starts[i]!;
        const next = bounds.find((b) => b > s) ?? 90;
        expect(v >= s && v < s + 5).toBe(true); // shift in [0, chunk // 2)
        expect(v + 10).toBeLessThanOrEqual(next); // never crosses the scene bound
      });
    }
    // a start whose chunk already crosses its bound is moved back onto the bound
    expect(genShiftsWithBoundaries([0, 30, 60], [25], 10, rng)).toEqual([20]);
    // the last chunk never passes the final bound
    expect(genShiftsWithBoundaries([0, 30], [28], 10, rng)).toEqual([20]);
  });

  it('serves validation and test indices in order without shifts; equal scene and chunk means no shuffling', () => {
    const v = new MovieSampler([0, 25, 50], { split: 'validation', chunkSize: 25, movieLength: 75, sceneLength: 25 });
    expect(v.epochIndices()).toEqual([0, 25, 50]);
    const t = new MovieSampler([0, 5, 10], { split: 'train', chunkSize: 5, movieLength: 15, sceneLength: 5 });
    expect(t.epochIndices()).toEqual([0, 5, 10]);
  });
});

describe('movie data loaders', () => {
  it('yields channels-last batches from views and counts batches like torch (drop_last for train only)', () => {
    const movie = codedMovie(130, 2, 3, 2);
    const resp = codedResponses(130, 4);
    const train = getMovieDataloader(movie, resp, { split: 'train', chunkSize: 10, batchSize: 4, sceneLength: 25, seed: 3 })!;
    expect(train.sampler.length).toBe(13);
    expect(train.length).toBe(3); // floor(13 / 4)
    const batches = [...train];
    expect(batches).toHaveLength(3);
    for (const b of batches) {
      expect(b.inputs.shape).toEqual([4, 10, 2, 3, 2]);
      expect(b.targets.shape).toEqual([4, 10, 4]);
      const x = b.inputs.arraySync() as number[][][][][];
      const y = b.targets.arraySync() as number[][][];
      for (let i = 0; i < 4; i++) {
        const start = Math.round(y[i]![0]![0]!);
        for (let f = 0; f < 10; f++) {
          expect(y[i]![f]![1]).toBeCloseTo(start + f + 0.01, 4);
          expect(x[i]![f]![1]![2]![1]).toBe((start + f) * 1000 + 100 + 20 + 1);
        }
      }
      tf.dispose([b.inputs, b.targets]);
    }
    const noDrop = getMovieDataloader(movie, resp, { split: 'train', chunkSize: 10, batchSize: 4, sceneLength: 25, dropLast: false })!;
    expect(noDrop.length).toBe(4);
    const sizes = [...noDrop].map((b) => {
      tf.dispose([b.inputs, b.targets]);
      return b.inputs.shape[0];
    });
    expect(sizes).toEqual([4, 4, 4, 1]);
    const val = getMovieDataloader(movie, resp, { split: 'validation', chunkSize: 25, batchSize: 4, sceneLength: 25 })!;
    expect(val.sampler.indices).toEqual([0, 25, 50, 75, 100]);
    expect(val.length).toBe(2); // no drop_last outside train
    const test = getMovieDataloader(movie, resp, { split: 'test', chunkSize: 130, batchSize: 4, sceneLength: 25 })!;
    expect(test.sampler.indices).toEqual([0]);
    const [tb] = [...test];
    expect(tb!.inputs.shape).toEqual([1, 130, 2, 3, 2]);
    tf.dispose([tb!.inputs, tb!.targets]);
    expect(Array.from(test.meanResponse)).toEqual([64.5, 64.51, 64.52, 64.53].map((v) => Math.fround(v)));
  });

  it('skips NaN responses with a warning (or throws on request) and checks options', () => {
    const movie = codedMovie(20, 1, 1, 1);
    const resp = codedResponses(20, 2);
    resp.data[5] = NaN;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(getMovieDataloader(movie, resp, { split: 'train', chunkSize: 5, batchSize: 2, sceneLength: 10, session: 's9' })).toBeNull();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('s9: NaNs in responses'));
    // with a warn callback the warning goes there and nothing is printed
    warn.mockClear();
    const seen: string[] = [];
    const opts = { split: 'train', chunkSize: 5, batchSize: 2, sceneLength: 10, session: 's8', warn: (m: string) => seen.push(m) } as const;
    expect(getMovieDataloader(movie, resp, opts)).toBeNull();
    expect(seen).toEqual([expect.stringContaining('s8: NaNs in responses')]);
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
    expect(() =>
      getMovieDataloader(movie, resp, { split: 'train', chunkSize: 5, batchSize: 2, sceneLength: 10, nanPolicy: 'error' }),
    ).toThrow(/responses contain NaN/);
    const ok = codedResponses(20, 2);
    expect(() =>
      getMovieDataloader(movie, ok, { split: 'train', chunkSize: 12, batchSize: 2, sceneLength: 10, allowOverBoundaries: false }),
    ).toThrow(/must not exceed the scene length/);
    expect(() => getMovieDataloader(movie, codedResponses(19, 2), { split: 'train', chunkSize: 5, batchSize: 2, sceneLength: 10 })).toThrow(
      /20 frames but the responses have 19/,
    );
  });

  it('keeps tf memory flat over epochs', () => {
    const movie = codedMovie(200, 4, 4, 2);
    const loader = getMovieDataloader(movie, codedResponses(200, 3), { split: 'train', chunkSize: 10, batchSize: 3, sceneLength: 50 })!;
    const before = tf.memory();
    for (let epoch = 0; epoch < 3; epoch++) {
      for (const b of loader) tf.dispose([b.inputs, b.targets]);
      expect(tf.memory().numTensors).toBe(before.numTensors);
      expect(tf.memory().numBytes).toBe(before.numBytes);
    }
  });

  it('splits clips into views: validation in the given order, train in original order, tail dropped', () => {
    const data = Float32Array.from({ length: 23 }, (_, i) => i); // frame size 1, 23 frames, clip 5 → 4 clips
    const s = splitClips(data, 1, [2, 0], 4, 5);
    expect(Array.from(s.validation.toArray())).toEqual([10, 11, 12, 13, 14, 0, 1, 2, 3, 4]);
    expect(Array.from(s.train.toArray())).toEqual([5, 6, 7, 8, 9, 15, 16, 17, 18, 19]);
    expect(s.train.toArray().buffer).not.toBe(data.buffer);
    const dst = new Float32Array(4);
    s.train.copyFrames(3, 4, dst); // crosses the clip 1 / clip 3 seam
    expect(Array.from(dst)).toEqual([8, 9, 15, 16]);
    expect(() => splitClips(data, 1, [4], 4, 5)).toThrow(/outside \[0, 4\)/);
    expect(() => splitClips(data, 1, [1, 1], 4, 5)).toThrow(/given twice/);
    expect(new FrameSequence([data.subarray(0, 4), data.subarray(10, 12)], 2).frames).toBe(3);
  });
});

describe('multipleMoviesDataloaders', () => {
  const clip = 10;
  const makeSession = (tTrain: number, n: number, tests: Record<string, number>) => ({
    movies: createMovieSplit({
      train: codedMovie(tTrain, 2, 2, 1),
      testDict: Object.fromEntries(Object.entries(tests).map(([k, t]) => [k, codedMovie(t, 2, 2, 1)])),
    }),
    responses: createResponseSplit({
      train: codedResponses(tTrain, n),
      testDict: Object.fromEntries(Object.entries(tests).map(([k, t]) => [k, codedResponses(t, n)])),
    }),
  });

  it('builds train/validation/test loaders with the spec formulas', () => {
    const a = makeSession(205, 3, { test: 40, other: 8 }); // 20 clips, 5 frames dropped
    const b = makeSession(150, 2, { test: 40, other: 8 }); // 15 clips
    const dl = multipleMoviesDataloaders(
      { a: a.responses, b: b.responses },
      { a: a.movies, b: b.movies },
      { trainChunkSize: 5, batchSize: 4, clipLength: clip, numValClips: 3, seed: 42 },
    );
    expect(Object.keys(dl).sort()).toEqual(['other', 'test', 'train', 'validation']);
    const valA = drawValidationClips(20, 3, 42);
    // train: (20 - 3) clips · 10 frames / chunk 5 = 34 samples → floor(34/4) = 8 batches
    expect(dl.train!.a!.movie.frames).toBe(170);
    expect(dl.train!.a!.sampler.length).toBe(34);
    expect(dl.train!.a!.length).toBe(8);
    expect(dl.train!.b!.sampler.length).toBe(24);
    expect(dl.train!.b!.length).toBe(6);
    // validation: one sample per clip, in the drawn order
    expect(dl.validation!.a!.sampler.indices).toEqual([0, 10, 20]);
    expect(dl.validation!.a!.length).toBe(1);
    const [vb] = [...dl.validation!.a!];
    const firstFrames = (vb!.targets.arraySync() as number[][][]).map((s) => Math.round(s[0]![0]!));
    expect(firstFrames).toEqual(valA.map((c) => c * clip));
    tf.dispose([vb!.inputs, vb!.targets]);
    // test: the whole movie as one sample; batch size scaled down
    expect(dl.test!.a!.chunkSize).toBe(40);
    expect(dl.test!.a!.batchSize).toBe(computeTestBatchSize(4, 5, 40));
    expect(computeTestBatchSize(32, 50, 750)).toBe(2);
    expect(computeTestBatchSize(32, 50, 50)).toBe(32);
    expect(dl.other!.b!.chunkSize).toBe(8);
    expect(dl.other!.b!.batchSize).toBe(Math.floor((4 * 5) / 8));
    // every train frame of a (outside the validation clips) is covered by the shifted chunks over epochs
    const covered = new Set<number>();
    for (let e = 0; e < 30; e++) {
      for (const batch of dl.train!.a!) {
        for (const s of batch.targets.arraySync() as number[][][]) for (const f of s) covered.add(Math.round(f[0]!));
        tf.dispose([batch.inputs, batch.targets]);
      }
    }
    const expected = new Set<number>();
    for (let c = 0; c < 20; c++) if (!valA.includes(c)) for (let f = 0; f < clip; f++) expected.add(c * clip + f);
    expect([...covered].every((f) => expected.has(f))).toBe(true);
    expect(covered.size).toBe(expected.size);
  });

  it('uses given validation clips, keeps clips with allowOverBoundaries false and checks the sessions', () => {
    const a = makeSession(100, 2, { test: 30 });
    const dl = multipleMoviesDataloaders(
      { a: a.responses },
      { a: a.movies },
      { trainChunkSize: 4, batchSize: 2, clipLength: clip, valClipIndices: [9, 3], allowOverBoundaries: false },
    );
    expect(dl.validation!.a!.sampler.indices).toEqual([0, 10]);
    expect(dl.train!.a!.movie.frames).toBe(80);
    expect(dl.test!.a!.chunkSize).toBe(clip);
    expect(dl.test!.a!.sampler.indices).toEqual([0, 10, 20]);
    for (let e = 0; e < 5; e++) {
      for (const s of dl.train!.a!.sampler.epochIndices()) expect(Math.floor(s / clip)).toBe(Math.floor((s + 3) / clip));
    }
    expect(() => multipleMoviesDataloaders({ a: a.responses }, { b: a.movies })).toThrow(/must match exactly/);
  });
});

describe('cyclers', () => {
  const loader = (name: string, n: number) => ({
    length: n,
    *[Symbol.iterator]() {
      for (let i = 0; i < n; i++) yield `${name}${i}`;
    },
  });

  it('ShortCycler yields every batch exactly once in sorted session order', () => {
    const c = new ShortCycler({ b: loader('b', 2), a: loader('a', 3) });
    expect(c.length).toBe(5);
    expect([...c]).toEqual([
      ['a', 'a0'],
      ['a', 'a1'],
      ['a', 'a2'],
      ['b', 'b0'],
      ['b', 'b1'],
    ]);
  });

  it('LongCycler goes round-robin for n_sessions × max_batches steps, restarting short loaders', () => {
    const c = new LongCycler({ a: loader('a', 3), b: loader('b', 1), c: loader('c', 2) }, { seed: 1 });
    expect(c.length).toBe(9);
    const out = [...c];
    expect(out).toHaveLength(9);
    const order = out.slice(0, 3).map(([k]) => k);
    expect([...order].sort()).toEqual(['a', 'b', 'c']);
    for (let i = 0; i < 9; i++) expect(out[i]![0]).toBe(order[i % 3]);
    expect(out.filter(([k]) => k === 'a').map(([, v]) => v)).toEqual(['a0', 'a1', 'a2']);
    expect(out.filter(([k]) => k === 'b').map(([, v]) => v)).toEqual(['b0', 'b0', 'b0']);
    expect(out.filter(([k]) => k === 'c').map(([, v]) => v)).toEqual(['c0', 'c1', 'c0']);
    const orders = new Set<string>();
    for (let e = 0; e < 20; e++)
      orders.add(
        [...c]
          .slice(0, 3)
          .map(([k]) => k)
          .join(''),
      );
    expect(orders.size).toBeGreaterThan(1);
    const fixed = new LongCycler({ b: loader('b', 1), a: loader('a', 2) }, { shuffle: false });
    expect([...fixed].map(([k]) => k)).toEqual(['a', 'b', 'a', 'b']);
    expect(() => [...new LongCycler({ a: loader('a', 1), e: loader('e', 0) })]).toThrow(/yielded nothing/);
    const it = cycle([1, 2]);
    expect([it.next().value, it.next().value, it.next().value]).toEqual([1, 2, 1]);
  });

  it('cycles real loaders of several sessions', () => {
    const m = codedMovie(60, 1, 2, 1);
    const l1 = getMovieDataloader(m, codedResponses(60, 2), {
      split: 'train',
      chunkSize: 10,
      batchSize: 2,
      sceneLength: 20,
      session: 's1',
    })!;
    const l2 = getMovieDataloader(codedMovie(40, 1, 2, 1), codedResponses(40, 2), {
      split: 'train',
      chunkSize: 10,
      batchSize: 2,
      sceneLength: 20,
      session: 's2',
    })!;
    const c = new LongCycler({ s1: l1, s2: l2 });
    let steps = 0;
    for (const [k, b] of c) {
      expect(b.session).toBe(k);
      tf.dispose([b.inputs, b.targets]);
      steps++;
    }
    expect(steps).toBe(2 * 3);
  });
});
