import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, formatShape } from '@openretina/contracts';
import { torchAbs } from './abs.js';

/**
 * OpenRetina's 3-D losses compare a model output `[B, T_out, N]` with the **last** `T_out` frames of the
 * target `[B, T, N]` (the model loses its first frames to the temporal convolutions).
 */
export function alignTarget(output: tf.Tensor, target: tf.Tensor): tf.Tensor3D {
  if (output.rank !== 3 || target.rank !== 3 || output.shape[0] !== target.shape[0] || output.shape[2] !== target.shape[2]) {
    throw new ShapeError(
      `Loss expects output [B, T_out, N] and target [B, T, N] with the same B and N, got ${formatShape(output.shape)} and ${formatShape(target.shape)}.`,
    );
  }
  const lag = target.shape[1]! - output.shape[1]!;
  if (lag < 0) {
    throw new ShapeError(`The target has ${target.shape[1]} frames, fewer than the output's ${output.shape[1]}.`);
  }
  return (lag === 0 ? target : tf.slice(target, [0, lag, 0], [-1, -1, -1])) as tf.Tensor3D;
}

/** How a loss reduces its elementwise terms. */
export interface LossReduction {
  /** Mean over batch·time per neuron (`[N]`), instead of a scalar. */
  perNeuron?: boolean;
  /** Mean instead of sum. */
  avg?: boolean;
}

function reduce(l: tf.Tensor, options: LossReduction): tf.Tensor {
  if (options.perNeuron) return tf.mean(tf.reshape(l, [-1, l.shape[l.rank - 1]!]), 0);
  return options.avg ? tf.mean(l) : tf.sum(l);
}

/** `Σ output − target·log(output + bias)` (OpenRetina's `PoissonLoss3d`; a SUM by default). */
export function poissonLoss(output: tf.Tensor, target: tf.Tensor, options: LossReduction & { bias?: number } = {}): tf.Tensor {
  return tf.tidy(() => {
    const y = alignTarget(output, target);
    const l = tf.sub(output, tf.mul(y, tf.log(tf.add(output, options.bias ?? 1e-16))));
    return reduce(l, options);
  });
}

/** Poisson loss plus `gammaL1·Σ|output|` (`L1PoissonLoss3d`, gamma 0.001 by default). */
export function l1PoissonLoss(
  output: tf.Tensor,
  target: tf.Tensor,
  options: LossReduction & { bias?: number; gammaL1?: number } = {},
): tf.Tensor {
  return tf.tidy(() => {
    const y = alignTarget(output, target);
    const l = tf.add(
      tf.sub(output, tf.mul(y, tf.log(tf.add(output, options.bias ?? 1e-16)))),
      tf.mul(torchAbs(output), options.gammaL1 ?? 0.001),
    );
    return reduce(l, options);
  });
}

/**
 * Per-neuron weights of the cell-type-weighted Poisson loss: `(Σcounts / len(counts)) / counts[group − 1]`
 * for groups numbered from 1.
 */
export function celltypeWeights(groupAssignment: ArrayLike<number>, groupCounts: ArrayLike<number>): Float32Array {
  let total = 0;
  for (let i = 0; i < groupCounts.length; i++) total += groupCounts[i]!;
  const mean = total / groupCounts.length;
  return Float32Array.from(groupAssignment, (g) => mean / groupCounts[g - 1]!);
}

/** Poisson loss with each neuron weighted by the rarity of its cell type (`CelltypePoissonLoss3d`). */
export function celltypePoissonLoss(
  output: tf.Tensor,
  target: tf.Tensor,
  groupAssignment: ArrayLike<number>,
  groupCounts: ArrayLike<number>,
  options: LossReduction & { bias?: number } = {},
): tf.Tensor {
  return tf.tidy(() => {
    const y = alignTarget(output, target);
    const w = tf.tensor(celltypeWeights(groupAssignment, groupCounts));
    const l = tf.mul(tf.sub(output, tf.mul(y, tf.log(tf.add(output, options.bias ?? 1e-16)))), w);
    return reduce(l, options);
  });
}

/**
 * Per-clip, per-neuron Pearson correlation over time `[B, N]`:
 * `mean_t(δo·δy) / sqrt((mean_t δo² + eps)(mean_t δy² + eps))`.
 */
export function clipCorrelations(output: tf.Tensor, target: tf.Tensor, eps = 1e-16): tf.Tensor2D {
  return tf.tidy(() => {
    const y = alignTarget(output, target);
    const dOut = tf.sub(output, tf.mean(output, 1, true));
    const dY = tf.sub(y, tf.mean(y, 1, true));
    const num = tf.mean(tf.mul(dOut, dY), 1);
    const den = tf.sqrt(tf.mul(tf.add(tf.mean(tf.square(dOut), 1), eps), tf.add(tf.mean(tf.square(dY), 1), eps)));
    return tf.div(num, den) as tf.Tensor2D;
  });
}

/**
 * OpenRetina's `CorrelationLoss3d`: per-clip correlations, negated when `negate` (default true), then summed
 * (default), averaged (`avg`) or averaged over clips per neuron (`perNeuron`). The evaluation metric of the
 * models is `correlationLoss(o, y, { avg: true, negate: false })`.
 */
export function correlationLoss(
  output: tf.Tensor,
  target: tf.Tensor,
  options: LossReduction & { bias?: number; negate?: boolean } = {},
): tf.Tensor {
  return tf.tidy(() => {
    let c: tf.Tensor = clipCorrelations(output, target, options.bias ?? 1e-16);
    if (options.negate ?? true) c = tf.neg(c);
    if (options.perNeuron) return tf.mean(c, 0);
    return options.avg ? tf.mean(c) : tf.sum(c);
  });
}

/** `Σ (output − target)²` on aligned frames (`MSE3d`). */
export function mseLoss(output: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.squaredDifference(output, alignTarget(output, target))) as tf.Scalar);
}
