// GaussianMaskReadout.denseWeight: the readout as one matrix, the form the ONNX exporter and the WebAssembly
// predictor fold into their graphs and kernels, must give what forward gives.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GaussianMaskReadout } from '../src/index.js';

function forwardByDenseWeight(r: GaussianMaskReadout, x: tf.Tensor5D): Float32Array {
  const [c, , h, w] = r.inShape;
  const N = r.outDims;
  const W = r.denseWeight(); // [N, c·h·w]
  const xs = x.dataSync(); // [B, T, h, w, c]
  const frames = xs.length / (h * w * c);
  const bias = r.bias.dataSync();
  const out = new Float32Array(frames * N);
  for (let f = 0; f < frames; f++)
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let ch = 0; ch < c; ch++) for (let q = 0; q < h * w; q++) s += W[(n * c + ch) * h * w + q]! * xs[(f * h * w + q) * c + ch]!;
      out[f * N + n] = s + bias[n]!;
    }
  return out;
}

describe('GaussianMaskReadout.denseWeight', () => {
  it.each([false, true])('is forward before its nonlinearity (positive: %s), and leaves the features as they are', (positive) => {
    const r = new GaussianMaskReadout({ inShape: [3, 2, 4, 5], outDims: 6, scale: true, positive, nonlinearity: 'identity', seed: 7 });
    tf.tidy(() => {
      r.maskMean.assign(tf.randomUniform([6, 2], -0.5, 0.5, 'float32', 1));
      r.maskLogVar.assign(tf.randomUniform([6], -3, 0, 'float32', 2));
      r.features.assign(tf.randomNormal([1, 3, 1, 6], 0, 1, 'float32', 3)); // negative entries included
      r.bias.assign(tf.randomNormal([6], 0, 1, 'float32', 4));
    });
    const before = r.features.dataSync().slice();
    const x = tf.randomNormal([2, 3, 4, 5, 3], 0, 1, 'float32', 5) as tf.Tensor5D;
    const ours = forwardByDenseWeight(r, x);
    expect(Array.from(r.features.dataSync())).toEqual(Array.from(before)); // denseWeight reads the clamp, never writes it
    const y = r.forward(x); // clamps the features itself when positive
    const ref = y.dataSync();
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - ref[i]!));
    expect(worst).toBeLessThan(1e-5);
    tf.dispose([x, y]);
    r.dispose();
  });
});
