import * as tf from '@tensorflow/tfjs-core';
import { UnsupportedError } from '@openretina/contracts';
import type { CoreReadout } from '@openretina/models';

/*
 * Reading a model's weights for folding them into graph constants: the modules as plain records, and the Gaussian-mask
 * readouts of the exported sessions as one dense matrix.
 */

/** A module read by its field names (the export checks what it needs). */
export type AnyModule = Record<string, unknown>;

/** The values of a tensor (a view, not a copy). */
export function dataOf(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

/** One Gaussian-mask readout as a dense weight \`[c·h·w, n]\`, its bias and its nonlinearity. */
function readoutWeights(
  readout: AnyModule,
  c: number,
  h: number,
  w: number,
): { weights: Float32Array; bias: Float32Array; n: number; nonlinearity: string } {
  const mask = readout.mask as (() => tf.Tensor3D) | undefined;
  const features = readout.features as tf.Variable | undefined;
  const scale = readout.scaleParam as tf.Variable | undefined;
  const bias = readout.bias as tf.Variable | undefined;
  const nl = readout.nonlinearity;
  if (typeof mask !== 'function' || !features || !scale || !bias || typeof nl !== 'string') {
    throw new UnsupportedError(`ONNX export supports Gaussian-mask readouts only (got ${readout.constructor.name}).`);
  }
  const n = readout.outDims as number;
  const m = tf.tidy(() => dataOf(mask.call(readout))); // [N, h, w]
  const f = tf.tidy(() => dataOf(readout.positive ? tf.relu(features) : features)); // [1, c, 1, N]
  const s = dataOf(scale);
  // weights[(ci·h + y)·w + x, n] = mask[n, y, x] · features[ci, n] · scale[n]  (input flattened as (c, h, w))
  const weights = new Float32Array(c * h * w * n);
  for (let ci = 0; ci < c; ci++)
    for (let p = 0; p < h * w; p++)
      for (let k = 0; k < n; k++) weights[(ci * h * w + p) * n + k] = m[k * h * w + p]! * f[ci * n + k]! * s[k]!;
  return { weights, bias: Float32Array.from(dataOf(bias)), n, nonlinearity: nl };
}

/** The readouts of `sessions`, concatenated: weight `[c·h·w, N]` (row `(ch·h + y)·w + x`), bias `[N]`. */
export function sessionReadouts(
  model: CoreReadout,
  sessions: readonly string[],
  c: number,
  hw: readonly [number, number],
): { weights: Float32Array; bias: Float32Array; N: number; nl: string } {
  const perSession = (model.readout as unknown as { readout?: (s: string) => unknown }).readout;
  if (typeof perSession !== 'function') throw new UnsupportedError('ONNX export needs a multi-session readout with per-session readouts.');
  const parts = sessions.map((s) => readoutWeights(perSession.call(model.readout, s) as AnyModule, c, hw[0], hw[1]));
  const nl = parts[0]!.nonlinearity;
  if (parts.some((p) => p.nonlinearity !== nl))
    throw new UnsupportedError('ONNX export of sessions with different readout nonlinearities is not supported.');
  const N = parts.reduce((a, p) => a + p.n, 0);
  const weights = new Float32Array(c * hw[0] * hw[1] * N);
  const bias = new Float32Array(N);
  let offset = 0;
  for (const p of parts) {
    for (let r = 0; r < c * hw[0] * hw[1]; r++) weights.set(p.weights.subarray(r * p.n, (r + 1) * p.n), r * N + offset);
    bias.set(p.bias, offset);
    offset += p.n;
  }
  return { weights, bias, N, nl };
}
