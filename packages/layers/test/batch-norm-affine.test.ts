// BatchNorm3d.evalAffine: the per-channel map that code folding eval-mode BatchNorm into its own weights uses (the
// ONNX exporter, the WebAssembly predictor) must be what eval-mode forward computes.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BatchNorm3d } from '../src/index.js';
import { close, randn } from './helpers.js';

describe('BatchNorm3d.evalAffine', () => {
  it('is the eval-mode forward as x·scale + shift per channel', () => {
    const C = 5;
    const bn = new BatchNorm3d(C, { eps: 1e-3 });
    bn.weight!.assign(randn([C], 1));
    bn.bias!.assign(randn([C], 2));
    bn.runningMean!.assign(randn([C], 3));
    bn.runningVar!.assign(tf.tidy(() => tf.add(tf.abs(randn([C], 4)), 0.1)));
    bn.eval();
    const x = randn([2, 3, 4, 2, C], 5) as tf.Tensor5D;
    const y = bn.forward(x);
    const { scale, shift } = bn.evalAffine()!;
    const xs = x.dataSync();
    const expected = Float32Array.from(xs, (v, i) => v * scale[i % C]! + shift[i % C]!);
    close(y.dataSync(), expected, 1e-6);
    tf.dispose([x, y]);
    bn.dispose();
  });

  it('takes the scale as 1 and the shift as 0 without affine parameters, and is undefined without running statistics', () => {
    const plain = new BatchNorm3d(3, { affine: false });
    plain.runningMean!.assign(tf.tensor1d([1, 2, 3]));
    plain.runningVar!.assign(tf.tensor1d([4, 9, 16]));
    const { scale, shift } = plain.evalAffine()!;
    close(scale, [1 / Math.sqrt(4 + 1e-5), 1 / Math.sqrt(9 + 1e-5), 1 / Math.sqrt(16 + 1e-5)], 1e-7);
    close(shift, [-scale[0]!, -2 * scale[1]!, -3 * scale[2]!], 1e-7);
    expect(new BatchNorm3d(3, { trackRunningStats: false }).evalAffine()).toBeUndefined();
    plain.dispose();
  });
});
