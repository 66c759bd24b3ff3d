import * as tf from '@tensorflow/tfjs-core';

/**
 * `|x|` whose gradient is `sign(x)` with `sign(0) = 0`, as PyTorch's. TF.js's own `abs` gradient is −1 at 0,
 * which changes L1 penalties on parameters clamped to exactly 0 (e.g. positive readout features).
 */
export function torchAbs<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sign(x)) as T;
}
