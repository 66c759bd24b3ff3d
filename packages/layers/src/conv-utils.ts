import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@openretina/contracts';

/** `[before, after]` zero padding of one axis. */
export type PadPair = readonly [number, number];

/**
 * OpenRetina's padding forms for (t, h, w) convolutions: a number (all axes), a tuple per axis, or
 * `'same'` (PyTorch semantics: total k−1, the extra pad of an even kernel goes after).
 */
export type Padding3d = number | readonly [number, number, number] | 'same';

/** Resolves a padding form to `[before, after]` pairs for the t, h and w axes of a kernel. */
export function resolvePadding3d(padding: Padding3d, kernel: readonly [number, number, number]): [PadPair, PadPair, PadPair] {
  if (padding === 'same') {
    const pairs = kernel.map((k) => [Math.floor((k - 1) / 2), k - 1 - Math.floor((k - 1) / 2)] as PadPair);
    return [pairs[0]!, pairs[1]!, pairs[2]!];
  }
  const p = typeof padding === 'number' ? [padding, padding, padding] : padding;
  if (p.length !== 3 || p.some((v) => !Number.isInteger(v) || v < 0)) {
    throw new ConfigError(`padding must be a non-negative integer, a [t, h, w] triple or "same"; got ${JSON.stringify(padding)}.`);
  }
  return [
    [p[0]!, p[0]!],
    [p[1]!, p[1]!],
    [p[2]!, p[2]!],
  ];
}

/**
 * Zero-pads a channels-last video `[B, T, H, W, C]`. Done on 4-D / 3-D views because 5-D pads (and their
 * slice gradients) are very slow on the wasm backend.
 */
export function padVideo(x: tf.Tensor5D, t: PadPair, h: PadPair, w: PadPair): tf.Tensor5D {
  const [b, tt, hh, ww, c] = x.shape;
  let y: tf.Tensor = x;
  if (h[0] || h[1] || w[0] || w[1]) {
    y = tf.pad(tf.reshape(y, [b * tt, hh, ww, c]), [
      [0, 0],
      [h[0], h[1]],
      [w[0], w[1]],
      [0, 0],
    ]);
  }
  const h2 = hh + h[0] + h[1];
  const w2 = ww + w[0] + w[1];
  if (t[0] || t[1]) {
    y = tf.pad(tf.reshape(y, [b, tt, h2 * w2 * c]), [
      [0, 0],
      [t[0], t[1]],
      [0, 0],
    ]);
  }
  return tf.reshape(y, [b, tt + t[0] + t[1], h2, w2, c]);
}

/** Tap counts for which XNNPACK's depthwise kernels are fast on the wasm backend (measured). */
const FAST_TAPS = [3, 4, 9, 25];

/**
 * Depthwise convolution along the second axis of `x [N, T, S, C]` with a `[k, 1, C, M]` filter, valid padding.
 * On wasm the taps are zero-padded to a fast XNNPACK tap count (the input is padded after the end to match),
 * which gives identical numbers several times faster; other backends run it as is.
 */
export function temporalDepthwise(x: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D {
  const k = filter.shape[0];
  if (tf.getBackend() !== 'wasm' || FAST_TAPS.includes(k)) {
    return tf.depthwiseConv2d(x, filter, 1, 'valid');
  }
  if (k > 25) {
    // Split into chunks of 25 taps: each chunk convolves a shifted window of the input.
    const outT = x.shape[1] - k + 1;
    let acc: tf.Tensor4D | undefined;
    for (let start = 0; start < k; start += 25) {
      const len = Math.min(25, k - start);
      const f = tf.slice(filter, [start, 0, 0, 0], [len, 1, filter.shape[2], filter.shape[3]]);
      const xs = tf.slice(x, [0, start, 0, 0], [x.shape[0], outT + len - 1, x.shape[2], x.shape[3]]);
      const part = temporalDepthwise(xs, f);
      acc = acc ? (tf.add(acc, part) as tf.Tensor4D) : part;
    }
    return acc!;
  }
  const target = FAST_TAPS.find((n) => n >= k)!;
  const extra = target - k;
  const f = tf.pad(filter, [
    [0, extra],
    [0, 0],
    [0, 0],
    [0, 0],
  ]);
  return tf.depthwiseConv2d(x, f, 1, [
    [0, 0],
    [0, extra],
    [0, 0],
    [0, 0],
  ]);
}
