import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { RangeRegularizationLoss } from '../src/index.js';

// The backend comes from test-utils/backend-setup.ts (cpu, or wasm in the wasm project).

describe('RangeRegularizationLoss without bounds (one-channel stimuli: no range, no norm)', () => {
  it('is 0 with a zero gradient that exists, so the engine path can differentiate it on its own', () => {
    const reg = new RangeRegularizationLoss({ minMax: [[null, null]], maxNorm: null, factor: 0.1 });
    const x = tf.variable(tf.randomNormal([1, 3, 2, 2, 1], 0, 1, 'float32', 1) as tf.Tensor5D);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => reg.forward(x as unknown as tf.Tensor5D), [x]);
    expect(Math.abs(value.dataSync()[0]!)).toBe(0); // -0 when the stimulus sums to a negative number
    expect(Array.from(grads[x.name]!.dataSync()).every((g) => g === 0)).toBe(true);
    tf.dispose([value, grads[x.name]!]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
