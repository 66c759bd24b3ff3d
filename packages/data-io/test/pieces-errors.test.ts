// Bad input to the OpenRetina pieces gives typed errors naming what was expected, and nothing leaks.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { type ErrorCode, isOpenRetinaError, type SessionBatch } from '@openretina/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import {
  computeDataloaderStatistics,
  frameFingerprints,
  h5Structure,
  h5ToFolders,
  hoeflingChirpDataloaders,
  type HoeflingUpsampledField,
  movingBarStack,
  prepareStimulus,
  trimMovingBar,
  upsampleHoeflingResponses,
} from '../src/node.js';
import { pythonFloatRepr } from '../src/node/python-repr.js';

await tf.setBackend('cpu');
const tmp = mkdtempSync(join(tmpdir(), 'dataio-pieces-errors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function expectError(fn: () => unknown, code: ErrorCode, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(isOpenRetinaError(caught, code), String(caught)).toBe(true);
  expect(String((caught as Error).message)).toMatch(message);
}

describe('artificial stimuli: bad input', () => {
  it('refuses frames that are not (T, H, W, C), bad steps, short moving bars and uneven stacks', () => {
    expectError(
      () => prepareStimulus({ data: new Uint8Array(6), shape: [6] }, { normalize: true, numTriggersPerRepetition: 2 }),
      'OPENRETINA_SHAPE',
      /\(T, H, W, C\), got shape \[6\]/,
    );
    expectError(
      () => prepareStimulus({ data: new Uint8Array(5), shape: [1, 1, 2, 3] }, { normalize: true, numTriggersPerRepetition: 2 }),
      'OPENRETINA_SHAPE',
      /need 6 values, got 5/,
    );
    expectError(
      () =>
        prepareStimulus(
          { data: new Uint8Array(6), shape: [1, 1, 2, 3] },
          { normalize: true, numTriggersPerRepetition: 2, downsampleTFactor: 0 },
        ),
      'OPENRETINA_CONFIG',
      /downsampleTFactor must be a positive integer, got 0/,
    );
    expectError(
      () => trimMovingBar({ data: new Float32Array(120), shape: [120, 1, 1, 1] }),
      'OPENRETINA_DATA',
      /120 frames, not more than the 120 dark ones/,
    );
    expectError(
      () => movingBarStack({ data: new Float32Array(9), shape: [9, 1, 1, 1] }, 0),
      'OPENRETINA_CONFIG',
      /numberOfMovingBars must be a positive integer/,
    );
  });
});

describe('frame fingerprints and statistics: bad input', () => {
  it('needs [B, T, H, W, C] clips and a whole number of passes', () => {
    expectError(
      () => frameFingerprints({ data: new Float32Array(4), shape: [2, 2] }),
      'OPENRETINA_SHAPE',
      /\[B, T, H, W, C\], got shape \[2, 2\]/,
    );
    expectError(
      () => computeDataloaderStatistics({}, { nAugmentationIterations: 1.5 }),
      'OPENRETINA_CONFIG',
      /non-negative integer, got 1.5/,
    );
  });

  it('disposes the batch it was counting when a loader fails', () => {
    const failing = {
      *[Symbol.iterator](): Iterator<SessionBatch> {
        yield { session: 's', inputs: tf.zeros([1, 2, 1, 1, 1]), targets: tf.zeros([1, 2, 1]) };
        throw new Error('disk gone');
      },
    };
    const before = tf.memory().numTensors;
    expect(() => computeDataloaderStatistics({ validation: { s: failing } })).toThrow(/disk gone/);
    expect(tf.memory().numTensors).toBe(before);
    const wrongRank = {
      *[Symbol.iterator](): Iterator<SessionBatch> {
        yield { session: 's', inputs: tf.zeros([1, 2, 1]) as unknown as tf.Tensor5D, targets: tf.zeros([1, 2, 1]) };
      },
    };
    expect(() => computeDataloaderStatistics({ test: { s: wrongRank } })).toThrow(/\[B, T, H, W, C\]/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('Höfling chirp and moving bar: bad input', () => {
  const field = (extra: Record<string, unknown> = {}) => ({
    chirp_inferred_spikes: { data: Float64Array.from({ length: 40 }, (_, i) => (i % 7) + 1), shape: [1, 40], dtype: '<f8' },
    chirp_traces_times: { data: Float64Array.from({ length: 40 }, (_, i) => i * 2), shape: [1, 40], dtype: '<f8' },
    chirp_trigger_times: { data: Float64Array.from([1, 6]), shape: [1, 2], dtype: '<f8' },
    group_assignment: { data: Float64Array.from([3]), shape: [1], dtype: '<f8' },
    ...extra,
  });

  it('names a missing array and an unknown stimulus', () => {
    expectError(
      () => upsampleHoeflingResponses({ f: field({ chirp_trigger_times: undefined }) }, 'chirp'),
      'OPENRETINA_DATA',
      /f: missing array "chirp_trigger_times"/,
    );
    expectError(
      () => upsampleHoeflingResponses({ f: field() }, 'flash' as 'chirp'),
      'OPENRETINA_CONFIG',
      /Unknown Höfling stimulus "flash"/,
    );
  });

  it('skips a field with NaN responses (as OpenRetina) or refuses it on request', () => {
    const up = upsampleHoeflingResponses({ f: field() }, 'chirp', { framesPerTrigger: 4, triggerDuration: 3 });
    const stimulus = { data: new Float32Array(4), shape: [4, 1, 1, 1] as [number, number, number, number] };
    expect(Object.keys(hoeflingChirpDataloaders(up, { stimulus }).train!)).toEqual(['f_chirp']);
    const nan: Record<string, HoeflingUpsampledField> = {
      f: { ...up.f!, responses: { data: Float64Array.from([1, Number.NaN, 2, 3]), shape: [1, 4] } },
    };
    expect(Object.keys(hoeflingChirpDataloaders(nan, { stimulus }).train!)).toEqual([]);
    expectError(
      () => hoeflingChirpDataloaders(nan, { stimulus, nanPolicy: 'error' }),
      'OPENRETINA_DATA',
      /f_chirp: the responses contain NaN/,
    );
    expectError(
      () => hoeflingChirpDataloaders(up, { stimulus, batchSize: 0 }),
      'OPENRETINA_CONFIG',
      /batchSize must be a positive integer, got 0/,
    );
    expectError(() => hoeflingChirpDataloaders({}, { stimulus }), 'OPENRETINA_DATA', /No chirp fields/);
  });
});

describe('HDF5 helpers: bad input', () => {
  it('refuses a file that is not HDF5, naming it', async () => {
    const path = join(tmp, 'not.h5');
    writeFileSync(path, 'plain text, not HDF5');
    await expect(h5Structure(path)).rejects.toThrow(/not\.h5: not an HDF5 file/);
    await expect(h5ToFolders(path, join(tmp, 'out'))).rejects.toThrow(/not\.h5: not an HDF5 file/);
  });

  it("writes floats as Python's repr does", () => {
    const cases: [number, string][] = [
      [30, '30.0'],
      [0.1, '0.1'],
      [1e-5, '1e-05'],
      [0.0001, '0.0001'],
      [1e16, '1e+16'],
      [1e15, '1000000000000000.0'],
      [-1.25, '-1.25'],
      [123456.789, '123456.789'],
      [1.5e-300, '1.5e-300'],
      [-0, '-0.0'],
      [Number.NaN, 'NaN'],
      [Number.NEGATIVE_INFINITY, '-Infinity'],
    ];
    for (const [x, text] of cases) expect(pythonFloatRepr(x), String(x)).toBe(text);
  });
});
