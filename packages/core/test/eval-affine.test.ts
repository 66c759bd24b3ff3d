// CoreLayer.evalAffine: a block's eval-mode BatchNorm and bias as one per-channel map of the convolution's output,
// the form the ONNX exporter and the WebAssembly predictor fold into their weights.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { type CoreLayer, SimpleCoreWrapper } from '../src/index.js';

describe('CoreLayer.evalAffine', () => {
  it('maps the convolution output to the input of the ELU as the eval forward does', () => {
    const core = new SimpleCoreWrapper({
      channels: [2, 4],
      temporalKernelSizes: [3],
      spatialKernelSizes: [3],
      gammaInput: 0,
      gammaTemporal: 0,
      gammaInSparse: 0,
      gammaHidden: 0,
      cutFirstNFrames: 0,
      seed: 3,
    });
    const layer = core.features.layers[0] as CoreLayer;
    const C = 4;
    const seeded = (seed: number, shift = 0): tf.Tensor1D => tf.add(tf.randomNormal([C], 0, 1, 'float32', seed), shift) as tf.Tensor1D;
    tf.tidy(() => {
      layer.norm.weight!.assign(seeded(1));
      layer.norm.bias!.assign(seeded(2));
      layer.norm.runningMean!.assign(seeded(3));
      layer.norm.runningVar!.assign(tf.add(tf.abs(seeded(4)), 0.2) as tf.Tensor1D);
      layer.bias.bias.assign(tf.reshape(seeded(5), [1, C, 1, 1, 1]));
    });
    core.eval();
    const z = tf.randomNormal([1, 2, 3, 3, C], 0, 1, 'float32', 6) as tf.Tensor5D;
    // the block's own path from the convolution output: BatchNorm, then the bias (ELU follows)
    const expected = tf.tidy(() => layer.bias.forward(layer.norm.forward(z)));
    const { scale, shift } = layer.evalAffine()!;
    const zs = z.dataSync();
    const ours = Float32Array.from(zs, (v, i) => v * scale[i % C]! + shift[i % C]!);
    const e = expected.dataSync();
    let worst = 0;
    for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - e[i]!));
    expect(worst).toBeLessThan(1e-5);
    tf.dispose([z, expected]);
    core.dispose();
  });
});
