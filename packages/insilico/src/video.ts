import type * as tf from '@tensorflow/tfjs-core';
import { ShapeError, formatShape } from '@openretina/contracts';

/** A stimulus as plain numbers, channels-last `[T, H, W, C]` (one batch element). */
export interface Video {
  data: Float32Array;
  shape: [number, number, number, number];
}

/** Reads batch element `index` of a `[B, T, H, W, C]` tensor (or a `[T, H, W, C]` one) into a `Video`. */
export function videoFromTensor(x: tf.Tensor, index = 0): Video {
  if (x.rank === 4) return { data: Float32Array.from(x.dataSync()), shape: x.shape as Video['shape'] };
  if (x.rank !== 5) throw new ShapeError(`Expected a stimulus [B, T, H, W, C], got ${formatShape(x.shape)}.`);
  const [, t, h, w, c] = x.shape as [number, number, number, number, number];
  const size = t * h * w * c;
  const all = x.dataSync();
  return { data: Float32Array.from(all.subarray(index * size, (index + 1) * size)), shape: [t, h, w, c] };
}

/** One channel as a `[T, H, W]` row-major array. */
export function videoChannel(video: Video, channel: number): Float64Array {
  const [t, h, w, c] = video.shape;
  const out = new Float64Array(t * h * w);
  for (let i = 0; i < out.length; i++) out[i] = video.data[i * c + channel]!;
  return out;
}

/** OpenRetina `(C, T, H, W)` data → a channels-last `Video`. */
export function videoFromChannelsFirst(data: ArrayLike<number>, shape: readonly number[]): Video {
  const dims = shape.length === 5 ? shape.slice(1) : shape;
  if (dims.length !== 4) throw new ShapeError(`Expected (C, T, H, W) or (1, C, T, H, W), got ${formatShape(shape)}.`);
  const [c, t, h, w] = dims as [number, number, number, number];
  const out = new Float32Array(c * t * h * w);
  const plane = t * h * w;
  for (let ci = 0; ci < c; ci++) for (let p = 0; p < plane; p++) out[p * c + ci] = data[ci * plane + p]!;
  return { data: out, shape: [t, h, w, c] };
}

/** A channels-last `Video` → OpenRetina's `(C, T, H, W)` layout. */
export function videoToChannelsFirst(video: Video): Float32Array {
  const [t, h, w, c] = video.shape;
  const out = new Float32Array(video.data.length);
  const plane = t * h * w;
  for (let ci = 0; ci < c; ci++) for (let p = 0; p < plane; p++) out[ci * plane + p] = video.data[p * c + ci]!;
  return out;
}
