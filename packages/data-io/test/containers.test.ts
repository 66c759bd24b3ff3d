import { describe, expect, it, vi } from 'vitest';
import { isOpenRetinaError } from '@openretina/contracts';
import {
  checkMatchingStimulus,
  computeDataInfo,
  createMovieSplit,
  createResponseSplit,
  movieFromCTHW,
  movieToCTHW,
  normalizeTrainTestMovies,
  responsesFromNT,
  responsesToNT,
  trialResponsesFromTrialsNT,
} from '../src/index.js';
import { codedMovie, codedResponses } from './helpers.js';

describe('layout conversion', () => {
  it('converts (C,T,H,W) <-> [T,H,W,C] and (N,T) <-> [T,N]', () => {
    const cthw = Float32Array.from({ length: 2 * 3 * 2 * 2 }, (_, i) => i);
    const m = movieFromCTHW(cthw, [2, 3, 2, 2]);
    expect(m.shape).toEqual([3, 2, 2, 2]);
    // element (c=1, t=2, y=1, x=0) = 1*12 + 2*4 + 1*2 + 0 = 22 → position ((2*2+1)*2+0)*2+1
    expect(m.data[((2 * 2 + 1) * 2 + 0) * 2 + 1]).toBe(22);
    expect(Array.from(movieToCTHW(m).data)).toEqual(Array.from(cthw));
    const r = responsesFromNT([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(r.shape).toEqual([3, 2]);
    expect(Array.from(r.data)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(responsesToNT(r).data)).toEqual([1, 2, 3, 4, 5, 6]);
    const tr = trialResponsesFromTrialsNT(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), [2, 2, 2]);
    expect(tr.shape).toEqual([2, 2, 2]);
    expect(Array.from(tr.data)).toEqual([1, 3, 2, 4, 5, 7, 6, 8]);
    expect(() => movieFromCTHW([1, 2, 3], [1, 1, 1, 2])).toThrow(/expected 2 values/);
  });
});

describe('containers', () => {
  it('validates movie splits', () => {
    const train = codedMovie(10, 3, 2, 2);
    const split = createMovieSplit({ train, test: codedMovie(4, 3, 2, 2), normMean: 0.5 });
    expect(Object.keys(split.test)).toEqual(['test']);
    expect(split.normMean).toBe(0.5);
    expect(() => createMovieSplit({ train })).toThrow(/exactly one of "test" and "testDict"/);
    expect(() => createMovieSplit({ train, test: codedMovie(4, 3, 2, 2), testDict: { a: codedMovie(4, 3, 2, 2) } })).toThrow(/exactly one/);
    expect(() => createMovieSplit({ train, test: codedMovie(4, 3, 2, 1) })).toThrow(/has 1 channels but the train movie has 2/);
    expect(() => createMovieSplit({ train, testDict: { b: codedMovie(4, 3, 3, 2) } })).toThrow(
      /"b" has frames of 3×3 but the train movie has 3×2/,
    );
    try {
      createMovieSplit({ train: { data: new Float32Array(5), shape: [1, 2, 3] as never }, test: train });
    } catch (e) {
      expect(isOpenRetinaError(e, 'OPENRETINA_SHAPE')).toBe(true);
    }
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    createMovieSplit({ train: codedMovie(1, 2, 2, 3), test: codedMovie(1, 2, 2, 3) });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('more channels (3) than frames (1)'));
    warn.mockRestore();
  });

  it('validates response splits and matching stimuli', () => {
    const r = createResponseSplit({
      train: codedResponses(10, 3),
      test: codedResponses(4, 3),
      testByTrial: { data: new Float32Array(2 * 4 * 3), shape: [2, 4, 3] },
      sessionKwargs: { celltypes: [1, 2, 3] },
    });
    expect(Object.keys(r.testByTrial!)).toEqual(['test']);
    expect(() => createResponseSplit({ train: codedResponses(10, 3), test: codedResponses(4, 2) })).toThrow(
      /2 neurons but the train responses have 3/,
    );
    expect(() =>
      createResponseSplit({
        train: codedResponses(10, 3),
        test: codedResponses(4, 3),
        testByTrialDict: { other: { data: new Float32Array(12), shape: [1, 4, 3] } },
      }),
    ).toThrow(/"other" have no matching test responses/);
    expect(() =>
      createResponseSplit({
        train: codedResponses(10, 3),
        test: codedResponses(4, 3),
        testByTrial: { data: new Float32Array(15), shape: [1, 5, 3] },
      }),
    ).toThrow(/expected \[trials, 4, 3\]/);
    const m = createMovieSplit({ train: codedMovie(10, 2, 2, 1), test: codedMovie(4, 2, 2, 1) });
    expect(() => checkMatchingStimulus(r, m)).not.toThrow();
    const m2 = createMovieSplit({ train: codedMovie(9, 2, 2, 1), test: codedMovie(4, 2, 2, 1) });
    expect(() => checkMatchingStimulus(r, m2, 's1')).toThrow(/s1: the train movie has 9 frames but the train responses have 10/);
    const m3 = createMovieSplit({ train: codedMovie(10, 2, 2, 1), testDict: { x: codedMovie(4, 2, 2, 1) } });
    expect(() => checkMatchingStimulus(r, m3)).toThrow(/test responses \[test\] do not match test movies \[x\]/);
  });

  it('normalises with the train mean and the unbiased std over all elements', () => {
    const train = { data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), shape: [2, 2, 1, 2] as const };
    const test = { data: Float32Array.from([4.5, 0]), shape: [1, 1, 1, 2] as const };
    const out = normalizeTrainTestMovies(train, test);
    const std = Math.sqrt(42 / 7); // sum of squared deviations from 4.5 = 42, ddof 1
    expect(out.normMean).toBeCloseTo(4.5, 12);
    expect(out.normStd).toBeCloseTo(std, 12);
    expect(out.train.data[0]).toBeCloseTo((1 - 4.5) / std, 6);
    expect(out.test.data[0]).toBeCloseTo(0, 6);
    expect(out.test.data[1]).toBeCloseTo(-4.5 / std, 6);
    const rec = normalizeTrainTestMovies(train, { a: test, b: test });
    expect(Object.keys(rec.test)).toEqual(['a', 'b']);
  });

  it('computes data info', () => {
    const responses = {
      s1: createResponseSplit({
        train: { data: Float32Array.from([1, 10, 3, 20]), shape: [2, 2] },
        test: codedResponses(2, 2),
        sessionKwargs: { celltypes: [4, 5] },
      }),
      s2: createResponseSplit({ train: codedResponses(4, 3), test: codedResponses(2, 3) }),
    };
    const movies = {
      s1: createMovieSplit({ train: codedMovie(2, 3, 4, 2), test: codedMovie(2, 3, 4, 2), normMean: 1, normStd: 2 }),
      s2: createMovieSplit({ train: codedMovie(4, 3, 4, 2), test: codedMovie(2, 3, 4, 2), normMean: 1.5, normStd: 2.5 }),
    };
    const info = computeDataInfo(responses, movies, { partialDataInfo: { stimulus_rate_hz: 30 } });
    expect(info.nNeuronsDict).toEqual({ s1: 2, s2: 3 });
    expect(Array.from(info.meanActivityDict.s1!)).toEqual([2, 15]);
    expect(info.inputShape).toEqual([2, 3, 4]);
    expect(info.stimMean).toBe(1);
    expect(info.stimStd).toBe(2);
    expect(info.sessionsKwargs!.s1).toEqual({ celltypes: [4, 5] });
    expect(info.extra).toEqual({ stimulus_rate_hz: 30 });
    const bad = { ...movies, s2: createMovieSplit({ train: codedMovie(4, 3, 4, 2), test: codedMovie(2, 3, 4, 2), normMean: 3 }) };
    expect(() => computeDataInfo(responses, bad)).toThrow(/means are not consistent/);
    const warns: string[] = [];
    const noStats = {
      s1: createMovieSplit({ train: codedMovie(2, 3, 4, 2), test: codedMovie(2, 3, 4, 2) }),
      s2: createMovieSplit({ train: codedMovie(4, 3, 4, 2), test: codedMovie(2, 3, 4, 2) }),
    };
    const info2 = computeDataInfo(responses, noStats, { warn: (m) => warns.push(m) });
    expect([info2.stimMean, info2.stimStd, warns.length]).toEqual([0, 1, 2]);
    const shapes = { ...noStats, s2: createMovieSplit({ train: codedMovie(4, 3, 5, 2), test: codedMovie(2, 3, 5, 2) }) };
    expect(() => computeDataInfo(responses, shapes, { warn: () => {} })).toThrow(/"s2" has \[2, 3, 5\]/);
    const single = computeDataInfo(responses, movies.s1);
    expect(single.inputShape).toEqual([2, 3, 4]);
  });
});
