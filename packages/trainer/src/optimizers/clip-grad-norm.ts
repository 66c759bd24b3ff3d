import * as tf from '@tensorflow/tfjs-core';
import { type NamedGrads, toMap } from './optimizer.js';

/*
 * `torch.nn.utils.clip_grad_norm_`: Lightning's gradient clipping, applied to the gradients before the optimizer step.
 */

/** What {@link clipGradNorm} returns: the clipped gradients (new tensors, the caller owns them) and the norm before clipping. */
export interface ClipResult {
  grads: Map<string, tf.Tensor>;
  /** The total norm of all gradients before clipping (PyTorch's return value). */
  totalNorm: number;
  /** The factor the gradients were multiplied by: min(1, maxNorm / (totalNorm + 1e-6)). */
  clipCoef: number;
}

/**
 * `torch.nn.utils.clip_grad_norm_`: total norm = the `normType`-norm of the per-tensor norms; every gradient is
 * multiplied by `min(1, maxNorm / (total + 1e-6))`. Returns new tensors; the input gradients are not disposed.
 */
export function clipGradNorm(grads: NamedGrads, maxNorm: number, normType: number | 'inf' = 2): ClipResult {
  const map = toMap(grads);
  if (map.size === 0) return { grads: new Map(), totalNorm: 0, clipCoef: 1 };
  const tensors = [...map.values()];
  const totalT = tf.tidy(() => {
    if (normType === 'inf' || normType === Infinity) return tf.max(tf.stack(tensors.map((g) => tf.max(tf.abs(g)))));
    const norms = tensors.map((g) => tf.norm(g, normType as number));
    return tf.norm(tf.stack(norms), normType as number);
  });
  const totalNorm = totalT.dataSync()[0]!;
  // PyTorch computes the coefficient in float32 tensors.
  const coefT = tf.tidy(() => tf.minimum(tf.div(tf.scalar(maxNorm), tf.add(totalT, 1e-6)), 1));
  const clipCoef = coefT.dataSync()[0]!;
  const out = new Map<string, tf.Tensor>();
  for (const [k, g] of map) out.set(k, tf.mul(g, coefT));
  tf.dispose([totalT, coefT]);
  return { grads: out, totalNorm, clipCoef };
}
