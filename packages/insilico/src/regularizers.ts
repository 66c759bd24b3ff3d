import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, formatShape } from '@openretina/contracts';

/** A `(min, max)` range per channel; `null` leaves that side open. */
export type MinMax = readonly [number | null, number | null];

/**
 * The stimulus range of the Höfling et al. 2024 data (OpenRetina's `STIMULUS_RANGE_CONSTRAINTS`): the normalised
 * green and UV intensities lie in these ranges, and MEIs are kept at an L2 norm of 30.
 */
export const HOEFLING_STIMULUS_RANGE = {
  norm: 30.0,
  xMinGreen: -0.654,
  xMaxGreen: 6.269,
  xMinUv: -0.913,
  xMaxUv: 6.269,
} as const;

/** `[[xMinGreen, xMaxGreen], [xMinUv, xMaxUv]]`. */
export const HOEFLING_MIN_MAX: readonly MinMax[] = [
  [HOEFLING_STIMULUS_RANGE.xMinGreen, HOEFLING_STIMULUS_RANGE.xMaxGreen],
  [HOEFLING_STIMULUS_RANGE.xMinUv, HOEFLING_STIMULUS_RANGE.xMaxUv],
];

/** A penalty added to the loss the optimiser minimises (OpenRetina's `StimulusRegularizationLoss`). */
export interface StimulusRegularizationLoss {
  forward(stimulus: tf.Tensor5D): tf.Scalar;
}

/** Changes the stimulus after each optimiser step (OpenRetina's `StimulusPostprocessor`). Returns a new tensor. */
export interface StimulusPostprocessor {
  process(stimulus: tf.Tensor5D): tf.Tensor5D;
}

/** Per-channel bound vectors `[C]` (±∞ where a bound is open or the channel is not listed). */
export function boundVectors(minMax: readonly MinMax[], channels: number): { lo: Float32Array; hi: Float32Array } {
  const lo = new Float32Array(channels).fill(Number.NEGATIVE_INFINITY);
  const hi = new Float32Array(channels).fill(Number.POSITIVE_INFINITY);
  minMax.forEach(([a, b], c) => {
    if (c >= channels) return;
    if (a !== null) lo[c] = a;
    if (b !== null) hi[c] = b;
  });
  return { lo, hi };
}

function check5d(shape: readonly number[], who: string): void {
  if (shape.length !== 5) throw new ShapeError(`${who} expects a stimulus [B, T, H, W, C], got ${formatShape(shape)}.`);
}

export interface RangeRegularizationOptions {
  /** `(min, max)` per channel. */
  minMax: readonly MinMax[];
  /** The L2 norm of the whole stimulus above which it is penalised; `null` for none. */
  maxNorm: number | null;
  factor?: number;
}

/**
 * `factor · (Σ_c Σ relu(min_c − x_c) + Σ relu(x_c − max_c) + relu(‖x‖₂ − maxNorm))`, the norm over the whole tensor
 * (OpenRetina's `RangeRegularizationLoss`).
 */
export class RangeRegularizationLoss implements StimulusRegularizationLoss {
  readonly minMax: readonly MinMax[];
  readonly maxNorm: number | null;
  readonly factor: number;

  constructor(options: RangeRegularizationOptions) {
    this.minMax = options.minMax.map((m) => [m[0], m[1]] as const);
    this.maxNorm = options.maxNorm;
    this.factor = options.factor ?? 1;
  }

  forward(stimulus: tf.Tensor5D): tf.Scalar {
    checkRangeRegularizationShape(this, stimulus.shape);
    return tf.tidy(() => {
      const terms: tf.Scalar[] = [];
      // All channels at once on a [-1, C] view, with ±∞ bounds for unconstrained channels: slicing one channel of a
      // 5-D tensor (and its gradient) is very slow on wasm.
      const channels = stimulus.shape[4];
      const lows = Float32Array.from({ length: channels }, (_, c) => this.minMax[c]?.[0] ?? -Infinity);
      const highs = Float32Array.from({ length: channels }, (_, c) => this.minMax[c]?.[1] ?? Infinity);
      const flat = tf.reshape(stimulus, [-1, channels]);
      if (lows.some((v) => v !== -Infinity)) terms.push(tf.sum(tf.relu(tf.sub(tf.tensor1d(lows), flat))));
      if (highs.some((v) => v !== Infinity)) terms.push(tf.sum(tf.relu(tf.sub(flat, tf.tensor1d(highs)))));
      if (this.maxNorm !== null) terms.push(tf.relu(tf.sub(tf.norm(stimulus), this.maxNorm)) as tf.Scalar);
      // without any bound the penalty is 0, still a function of the stimulus so that its gradient (zero) exists when
      // it is differentiated on its own (the engine path of optimizeStimulus does)
      const total = terms.length === 0 ? tf.mul(tf.sum(stimulus), 0) : terms.reduce((a, b) => tf.add(a, b));
      return tf.mul(total, this.factor) as tf.Scalar;
    });
  }
}

/** The stimulus shapes {@link RangeRegularizationLoss} takes (its errors, shared with the host MEI step). */
export function checkRangeRegularizationShape(r: RangeRegularizationLoss, shape: readonly number[]): void {
  check5d(shape, 'RangeRegularizationLoss');
  if (r.minMax.length > shape[4]!) {
    throw new ShapeError(
      `RangeRegularizationLoss has ranges for ${r.minMax.length} channels, the stimulus ${formatShape(shape)} has ${shape[4]}.`,
    );
  }
}

export interface ChangeNormClipOptions {
  /** `(min, max)` per channel; one entry per stimulus channel. */
  minMax: readonly MinMax[];
  /** The L2 norm every batch element is rescaled to; `null` to skip the rescaling. */
  norm: number | null;
}

/**
 * Rescales each batch element to an L2 norm of exactly `norm`, then clamps each channel to its range
 * (OpenRetina's `ChangeNormJointlyClipRangeSeparately`).
 */
export class ChangeNormJointlyClipRangeSeparately implements StimulusPostprocessor {
  readonly minMax: readonly MinMax[];
  readonly norm: number | null;

  constructor(options: ChangeNormClipOptions) {
    this.minMax = options.minMax.map((m) => [m[0], m[1]] as const);
    this.norm = options.norm;
  }

  process(x: tf.Tensor5D): tf.Tensor5D {
    checkChangeNormShape(this, x.shape);
    const channels = x.shape[4];
    return tf.tidy(() => {
      let y: tf.Tensor5D = x;
      if (this.norm !== null) {
        const b = x.shape[0];
        const norms = tf.norm(tf.reshape(x, [b, -1]), 'euclidean', 1);
        y = tf.mul(x, tf.reshape(tf.div(this.norm, norms), [b, 1, 1, 1, 1]));
      }
      const { lo, hi } = boundVectors(this.minMax, channels);
      return tf.minimum(tf.maximum(y, tf.tensor1d(lo)), tf.tensor1d(hi)) as tf.Tensor5D;
    });
  }
}

/** The stimulus shapes {@link ChangeNormJointlyClipRangeSeparately} takes (its errors, shared with the host MEI step). */
export function checkChangeNormShape(p: ChangeNormJointlyClipRangeSeparately, shape: readonly number[]): void {
  check5d(shape, 'ChangeNormJointlyClipRangeSeparately');
  if (shape[4] !== p.minMax.length) {
    throw new ShapeError(`Expected ${p.minMax.length} channels (one range each), got a stimulus ${formatShape(shape)}.`);
  }
}

/** `exp(−x²/(2σ²))` at `x = 0…k−1 − k//2`, normalised to sum 1. */
export function gaussian1dKernel(sigma: number, kernelSize: number): Float32Array {
  if (!Number.isInteger(kernelSize) || kernelSize < 1) throw new ConfigError(`kernelSize must be an integer ≥ 1, got ${kernelSize}.`);
  const k = new Float32Array(kernelSize);
  const half = Math.floor(kernelSize / 2);
  for (let i = 0; i < kernelSize; i++) k[i] = Math.fround(Math.exp(-((i - half) ** 2) / (2 * sigma * sigma)));
  let sum = 0;
  for (const v of k) sum = Math.fround(sum + v);
  for (let i = 0; i < kernelSize; i++) k[i] = Math.fround(k[i]! / sum);
  return k;
}

/**
 * A Gaussian low-pass filter along time, channel by channel, with zero "same" padding (OpenRetina's
 * `TemporalGaussianLowPassFilterProcessor`: a depthwise conv3d along time).
 */
export class TemporalGaussianLowPassFilterProcessor implements StimulusPostprocessor {
  readonly kernel: Float32Array;

  constructor(
    readonly sigma: number,
    readonly kernelSize: number,
  ) {
    this.kernel = gaussian1dKernel(sigma, kernelSize);
  }

  process(x: tf.Tensor5D): tf.Tensor5D {
    check5d(x.shape, 'TemporalGaussianLowPassFilterProcessor');
    const k = this.kernel.length;
    const left = Math.floor((k - 1) / 2); // PyTorch's "same": the extra zero goes on the right
    const [b, t, h, w, c] = x.shape;
    return tf.tidy(() => {
      const flat = tf.reshape(x, [b, t, h * w * c]);
      const padded = tf.pad(flat, [
        [0, 0],
        [left, k - 1 - left],
        [0, 0],
      ]);
      let acc: tf.Tensor | undefined;
      for (let j = 0; j < k; j++) {
        const term = tf.mul(tf.slice(padded, [0, j, 0], [b, t, h * w * c]), this.kernel[j]!);
        acc = acc ? tf.add(acc, term) : term;
      }
      return tf.reshape(acc!, [b, t, h, w, c]) as tf.Tensor5D;
    });
  }
}
