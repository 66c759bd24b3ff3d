import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, formatShape } from '@openretina/contracts';

/**
 * The one place where OpenRetina's `(B, C, T, H, W)` video layout meets ours, channels-last `[B, T, H, W, C]`.
 */
export function toChannelsLast(x: tf.Tensor): tf.Tensor5D {
  if (x.rank !== 5) throw new ShapeError(`Expected a (B, C, T, H, W) video, got ${formatShape(x.shape)}.`);
  return tf.transpose(x, [0, 2, 3, 4, 1]) as tf.Tensor5D;
}

/** `[B, T, H, W, C]` → OpenRetina's `(B, C, T, H, W)`. */
export function toChannelsFirst(x: tf.Tensor): tf.Tensor5D {
  if (x.rank !== 5) throw new ShapeError(`Expected a [B, T, H, W, C] video, got ${formatShape(x.shape)}.`);
  return tf.transpose(x, [0, 4, 1, 2, 3]) as tf.Tensor5D;
}

/**
 * Transposes a row-major `(C, T, H, W)` (or with a leading batch) Float32Array to `(T, H, W, C)` without tensors,
 * for readers that convert data at the file edge.
 */
export function channelsFirstToLast(data: ArrayLike<number>, shape: readonly number[]): { data: Float32Array; shape: number[] } {
  const lead = shape.length === 5 ? shape[0]! : 1;
  const [c, t, h, w] = (shape.length === 5 ? shape.slice(1) : shape) as [number, number, number, number];
  if (shape.length < 4 || shape.length > 5) throw new ShapeError(`Expected (C, T, H, W) or (B, C, T, H, W), got ${formatShape(shape)}.`);
  const out = new Float32Array(lead * c * t * h * w);
  const plane = t * h * w;
  for (let b = 0; b < lead; b++) {
    const base = b * c * plane;
    for (let ci = 0; ci < c; ci++) {
      const src = base + ci * plane;
      for (let p = 0; p < plane; p++) out[base + p * c + ci] = data[src + p]!;
    }
  }
  return { data: out, shape: shape.length === 5 ? [lead, t, h, w, c] : [t, h, w, c] };
}
