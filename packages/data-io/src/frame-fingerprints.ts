import type * as tf from '@tensorflow/tfjs-core';
import { ShapeError, formatShape } from '@openretina/contracts';

/**
 * A cheap summary of one frame, used to count distinct frames without keeping them (OpenRetina's
 * `FrameFingerprint`): mean, unbiased std, first value, last value and the value at channel 0, row ⌊H/2⌋, column
 * ⌊W/3⌋ (off-centre, so that a frame and its left-right mirror image differ). Values are float32, as torch gives them.
 */
export type FrameFingerprint = readonly [mean: number, std: number, first: number, last: number, mid: number];

/** A pair of consecutive frames of a clip (OpenRetina's `TransitionFingerprint`). */
export type TransitionFingerprint = readonly [FrameFingerprint, FrameFingerprint];

/** Batch inputs `[B, T, H, W, C]` as a tensor or as plain data. */
export type ClipBatch = tf.Tensor | { data: ArrayLike<number>; shape: readonly number[] };

function batchValues(inputs: ClipBatch): { data: ArrayLike<number>; shape: readonly number[] } {
  if ('dataSync' in inputs) return { data: inputs.dataSync() as ArrayLike<number>, shape: inputs.shape };
  return inputs;
}

/**
 * The fingerprint of every frame of a batch of clips `[B, T, H, W, C]`, clip after clip (OpenRetina's
 * `_compute_frame_fingerprints` on `(B, C, T, H, W)`; the statistics do not depend on the layout, and "first" and
 * "last" are the same values in both: channel 0 of the top-left pixel, the last channel of the bottom-right one).
 */
export function frameFingerprints(inputs: ClipBatch): FrameFingerprint[] {
  const { data, shape } = batchValues(inputs);
  if (shape.length !== 5) throw new ShapeError(`Expected clips [B, T, H, W, C], got shape ${formatShape(shape)}.`);
  const [b, t, h, w, c] = shape as [number, number, number, number, number];
  const size = h * w * c;
  const mid = (Math.floor(h / 2) * w + Math.floor(w / 3)) * c;
  const out: FrameFingerprint[] = [];
  for (let f = 0; f < b * t; f++) {
    const base = f * size;
    let sum = 0;
    for (let i = 0; i < size; i++) sum += data[base + i]!;
    const mean = sum / size;
    let ss = 0;
    for (let i = 0; i < size; i++) ss += (data[base + i]! - mean) ** 2;
    const std = Math.sqrt(ss / (size - 1));
    out.push([
      Math.fround(mean),
      Math.fround(std),
      Math.fround(data[base]!),
      Math.fround(data[base + size - 1]!),
      Math.fround(data[base + mid]!),
    ]);
  }
  return out;
}

/** The consecutive-frame pairs within each clip (OpenRetina's `_extract_transitions`): `B · (T − 1)` of them. */
export function frameTransitions(fingerprints: readonly FrameFingerprint[], batchSize: number, timeSteps: number): TransitionFingerprint[] {
  const out: TransitionFingerprint[] = [];
  for (let b = 0; b < batchSize; b++) {
    for (let s = 0; s < timeSteps - 1; s++) out.push([fingerprints[b * timeSteps + s]!, fingerprints[b * timeSteps + s + 1]!]);
  }
  return out;
}

/** A key that is equal for equal fingerprints (the float32 values are exact in their decimal form). */
export function fingerprintKey(fp: FrameFingerprint): string {
  return fp.join(',');
}
