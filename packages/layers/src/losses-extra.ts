import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, formatShape } from '@openretina/contracts';
import { torchAbs } from './abs.js';
import { alignTarget, celltypeWeights, clipCorrelations } from './losses.js';

/** Options of the correlation-loss variants (OpenRetina's constructor arguments). */
export interface CorrelationLossOptions {
  /** Added to both variances (OpenRetina's `bias`, default 1e-16). */
  bias?: number;
  /** Mean over clips per neuron (`[N]`) instead of a scalar. */
  perNeuron?: boolean;
  /** Mean instead of sum. */
  avg?: boolean;
  /** Negate the correlations (default true, so that lower is better). */
  negate?: boolean;
}

function reduceCorrelations(c: tf.Tensor, options: CorrelationLossOptions): tf.Tensor {
  if (options.negate ?? true) c = tf.neg(c);
  if (options.perNeuron) return tf.mean(c, 0);
  return options.avg ? tf.mean(c) : tf.sum(c);
}

/**
 * OpenRetina's `L1CorrelationLoss3d`: the correlation loss of `pred` plus `gammaL1·Σ|preCa|` (`mean` with `avg`;
 * with `perNeuron`, the per-neuron mean of `|preCa|` over batch and time). `output` is the pair `[pred, preCa]`,
 * `pred [B, T_out, N]`, `preCa [B, T', N]` (channels-last, any T'). `gammaL1` is fixed to 0.0002 in OpenRetina.
 *
 * Deviation: OpenRetina's per-neuron branch transposes `pre_ca` and `.view`s it, which only works for a batch of 1
 * and a channels-first `pre_ca`; here it is the per-neuron mean for any batch.
 */
export function l1CorrelationLoss(
  output: readonly [tf.Tensor, tf.Tensor],
  target: tf.Tensor,
  options: CorrelationLossOptions & { gammaL1?: number } = {},
): tf.Tensor {
  const [pred, preCa] = output;
  const N = pred.shape[pred.rank - 1];
  if (options.perNeuron && preCa.shape[preCa.rank - 1] !== N) {
    throw new ShapeError(`l1CorrelationLoss per neuron needs pre_ca with ${N} neurons last, got ${formatShape(preCa.shape)}.`);
  }
  return tf.tidy(() => {
    const corr = reduceCorrelations(clipCorrelations(pred, target, options.bias ?? 1e-16), options);
    const a = torchAbs(preCa);
    const l1 = options.perNeuron ? tf.mean(tf.reshape(a, [-1, N!]), 0) : options.avg ? tf.mean(a) : tf.sum(a);
    return tf.add(corr, tf.mul(l1, options.gammaL1 ?? 0.0002));
  });
}

/**
 * OpenRetina's `ScaledCorrelationLoss3d`: the per-clip correlation computed on consecutive windows of `scale`
 * output frames (`⌊T_out / scale⌋` windows; leftover frames are ignored), averaged over the windows, then
 * negated and reduced as the correlation loss. Output window `i` is compared with target frames `lag + i·scale …`.
 *
 * `scale` must be a positive integer (default 30). Quirk of OpenRetina: its default `scale=30.0` is a float, and
 * `range(T // 30.0)` raises a TypeError, so the class only works with an int scale; here 30 is an int. Where
 * OpenRetina returns NaN (fewer output frames than `scale`, so no window), this throws a `ShapeError`.
 */
export function scaledCorrelationLoss(
  output: tf.Tensor,
  target: tf.Tensor,
  options: CorrelationLossOptions & { scale?: number } = {},
): tf.Tensor {
  const scale = options.scale ?? 30;
  if (!Number.isInteger(scale) || scale < 1) throw new ConfigError(`scaledCorrelationLoss needs a positive integer scale, got ${scale}.`);
  tf.tidy(() => void alignTarget(output, target)); // shape checks
  const [B, T, N] = output.shape as [number, number, number];
  const windows = Math.floor(T / scale);
  if (windows < 1) {
    throw new ShapeError(
      `scaledCorrelationLoss with scale ${scale} needs at least ${scale} output frames, got ${formatShape(output.shape)}.`,
    );
  }
  return tf.tidy(() => {
    const y = alignTarget(output, target);
    // [B, windows, scale, N] → correlations per window over axis 2, done as B·windows clips.
    const clips = (t: tf.Tensor): tf.Tensor3D =>
      tf.reshape(tf.slice(t, [0, 0, 0], [B, windows * scale, N]), [B * windows, scale, N]) as tf.Tensor3D;
    const c = clipCorrelations(clips(output), clips(y), options.bias ?? 1e-16); // [B·windows, N]
    const perClip = tf.mean(tf.reshape(c, [B, windows, N]), 1);
    return reduceCorrelations(perClip, options);
  });
}

/**
 * OpenRetina's `CelltypeCorrelationLoss3d`: per-clip correlations weighted per neuron by
 * `(Σcounts / len(counts)) / counts[group − 1]` (groups numbered from 1), then negated and reduced as the correlation
 * loss. `groupAssignment` is per neuron (`N` values) or per clip and neuron (`B·N` values, row-major `[B, N]`).
 *
 * Deviation: OpenRetina indexes the weights with `[:, None]`, which broadcasts a per-neuron `[N]` assignment to a
 * `[B, N, N]` correlation tensor (only a `[B, N]` assignment gives the intended result); a per-neuron assignment
 * here weights each neuron once.
 */
export function celltypeCorrelationLoss(
  output: tf.Tensor,
  target: tf.Tensor,
  groupAssignment: ArrayLike<number>,
  groupCounts: ArrayLike<number>,
  options: CorrelationLossOptions = {},
): tf.Tensor {
  const [B, , N] = output.shape as [number, number, number];
  const len = groupAssignment.length;
  if (len !== N && len !== B * N) {
    throw new ShapeError(
      `celltypeCorrelationLoss needs ${N} (per neuron) or ${B}×${N} (per clip and neuron) group assignments, got ${len}.`,
    );
  }
  for (let i = 0; i < len; i++) {
    const g = groupAssignment[i]!;
    if (!Number.isInteger(g) || g < 1 || g > groupCounts.length) {
      throw new ConfigError(`group assignment ${g} is outside 1…${groupCounts.length} (groups are numbered from 1).`);
    }
  }
  return tf.tidy(() => {
    const w = tf.tensor(celltypeWeights(groupAssignment, groupCounts), len === N ? [N] : [B, N]);
    const c = tf.mul(clipCorrelations(output, target, options.bias ?? 1e-16), w);
    return reduceCorrelations(c, options);
  });
}
