import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { readFloats, readFloatsSync, tensorFromHost } from '../src/index.js';

describe('tensorFromHost / readFloats: values made on the host are read back without a copy', () => {
  it('a tensor made from an array and a variable assigned from it read as that very array', async () => {
    const before = tf.memory().numTensors;
    const values = Float32Array.of(1.5, -2, 3.25, 0);
    const t = tensorFromHost(values, [2, 2]);
    expect(t.shape).toEqual([2, 2]);
    expect(readFloatsSync(t)).toBe(values);
    expect(await readFloats(t)).toBe(values);
    const zeros = tf.zeros([2, 2]);
    const v = tf.variable(zeros);
    v.assign(t);
    expect(readFloatsSync(v)).toBe(values);
    // the backend holds the same numbers (what a reader would get from a copy)
    expect(Array.from(v.dataSync())).toEqual([1.5, -2, 3.25, 0]);
    tf.dispose([t, zeros, v]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('tensors not made from a host array, and results of kernels on remembered ones, are read from the backend', async () => {
    const t = tensorFromHost(Float32Array.of(1, 2, 3), [3]);
    const doubled = tf.mul(t, 2);
    const plain = tf.tensor1d([4, 5, 6]);
    expect(Array.from(readFloatsSync(doubled))).toEqual([2, 4, 6]);
    expect(Array.from(await readFloats(plain))).toEqual([4, 5, 6]);
    const v = tf.variable(t);
    v.assign(doubled); // new data: the old array no longer describes the variable
    expect(Array.from(readFloatsSync(v))).toEqual([2, 4, 6]);
    tf.dispose([t, doubled, plain, v]);
  });
});
