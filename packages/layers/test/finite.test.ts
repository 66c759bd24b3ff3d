import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { DataError } from '@openretina/contracts';
import { assertFinite, firstNonFinite } from '../src/index.js';

describe('firstNonFinite / assertFinite', () => {
  it('arrays are scanned in plain JS: the first NaN or ±Inf with its multi-index, no tensor made', () => {
    const before = tf.memory().numTensors;
    const a = new Float32Array(2 * 3 * 4).fill(0.5);
    expect(firstNonFinite(a, [2, 3, 4])).toBeNull();
    a[1 * 12 + 2 * 4 + 3] = Number.POSITIVE_INFINITY;
    a[1 * 12 + 2 * 4 + 1] = Number.NaN; // earlier in memory: found first
    const found = firstNonFinite(a, [2, 3, 4])!;
    expect(found.index).toEqual([1, 2, 1]);
    expect(Number.isNaN(found.value)).toBe(true);
    expect(firstNonFinite([1, 2, Number.NEGATIVE_INFINITY])).toEqual({ index: [2], value: Number.NEGATIVE_INFINITY });
    expect(firstNonFinite(new Float64Array([1e300, -1e300]))).toBeNull();
    expect(firstNonFinite(new Float32Array(0))).toBeNull();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => assertFinite(a, 'the train stimulus', [2, 3, 4])).toThrow(DataError);
    expect(() => assertFinite(a, 'the train stimulus', [2, 3, 4])).toThrow(
      /the train stimulus holds a non-finite value: NaN at index \[1, 2, 1\]/,
    );
  });

  it('tensors: the same answers through the backend, the tensor left to its owner', () => {
    const t = tf.tensor2d([1, 2, 3, Number.NaN], [2, 2]);
    const before = tf.memory().numTensors;
    const found = firstNonFinite(t)!;
    expect(found.index).toEqual([1, 1]);
    expect(tf.memory().numTensors).toBe(before);
    expect(t.isDisposed).toBe(false);
    const ok = tf.ones([3]);
    expect(firstNonFinite(ok)).toBeNull();
    tf.dispose([t, ok]);
  });
});
