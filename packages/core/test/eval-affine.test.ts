// CoreLayer.evalAffine: a block's eval mode up to its ELU as one per-channel map of the convolution's bias-free
// product, the form the ONNX exporter and the WebAssembly predictor fold into their weights.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { SpaceTimeSeparableConv3d, toRng } from '@openretina/layers';
import { CoreLayer } from '../src/index.js';

const C = 4;
const seeded = (seed: number): tf.Tensor1D => tf.randomNormal([C], 0, 1, 'float32', seed) as tf.Tensor1D;

/** A block with random BatchNorm statistics and biases, in eval mode. */
function block(convBias: boolean): CoreLayer {
  const conv = new SpaceTimeSeparableConv3d({
    inChannels: 2,
    outChannels: C,
    temporalKernelSize: 3,
    spatialKernelSize: 3,
    bias: convBias,
    seed: 3,
  });
  const layer = new CoreLayer(conv, { dropoutRate: 0, pool: false, rng: toRng(1) });
  tf.tidy(() => {
    layer.norm.weight!.assign(seeded(1));
    layer.norm.bias!.assign(seeded(2));
    layer.norm.runningMean!.assign(seeded(3));
    layer.norm.runningVar!.assign(tf.add(tf.abs(seeded(4)), 0.2) as tf.Tensor1D);
    layer.bias.bias.assign(tf.reshape(seeded(5), [1, C, 1, 1, 1]));
    conv.bias?.assign(seeded(6));
  });
  layer.eval();
  return layer;
}

describe('CoreLayer.evalAffine', () => {
  it.each([false, true])(
    'maps the bias-free convolution product to the input of the ELU as the eval forward does (conv bias: %s)',
    (convBias) => {
      const layer = block(convBias);
      const x = tf.randomNormal([1, 5, 6, 6, 2], 0, 1, 'float32', 7) as tf.Tensor5D;
      const z = layer.conv.forward(x); // the product plus the convolution's bias, when it has one
      // the block's own path from the convolution output: BatchNorm, then the bias (ELU follows)
      const expected = tf.tidy(() => layer.bias.forward(layer.norm.forward(z)));
      const { scale, shift } = layer.evalAffine()!;
      const b = (layer.conv as SpaceTimeSeparableConv3d).bias?.dataSync();
      const ours = Float32Array.from(z.dataSync(), (v, i) => (v - (b ? b[i % C]! : 0)) * scale[i % C]! + shift[i % C]!);
      const e = expected.dataSync();
      let worst = 0;
      for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - e[i]!));
      expect(worst).toBeLessThan(1e-5);
      tf.dispose([x, z, expected]);
      layer.dispose();
    },
  );
});
