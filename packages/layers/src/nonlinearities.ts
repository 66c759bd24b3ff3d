import * as tf from '@tensorflow/tfjs-core';
import { Module } from './module.js';

/**
 * `a` where `cond > 0`, else `b`, differentiable in `cond`'s inputs too (TF.js has no gradient for `greater`, which
 * `tf.where` would need when the condition depends on parameters): a 0/1 mask from `tf.step` (gradient 0).
 */
function select(cond: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const m = tf.step(cond);
  return tf.add(tf.mul(m, a), tf.mul(tf.sub(1, m), b));
}

/**
 * OpenRetina's `ParametrizedELU`: `c·x` where `x > 0`, else `a·(exp(x/b) − 1)`, with learnable scalars
 * `a`, `b`, `c` (state dict: `a`, `b`, `c`, shape `[]`).
 */
export class ParametrizedELU extends Module {
  readonly a: tf.Variable;
  readonly b: tf.Variable;
  readonly c: tf.Variable;

  constructor(options: { a?: number; b?: number; c?: number } = {}) {
    super();
    this.a = this.registerParameter('a', tf.scalar(options.a ?? 1));
    this.b = this.registerParameter('b', tf.scalar(options.b ?? 1));
    this.c = this.registerParameter('c', tf.scalar(options.c ?? 1));
  }

  forward<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => {
      const pos = tf.mul(this.c, x);
      // Evaluate the exponential branch only where it is used, so large positive inputs give no inf·0 gradients.
      const neg = tf.mul(this.a, tf.sub(tf.exp(tf.div(tf.minimum(x, 0), this.b)), 1));
      return select(x, pos, neg) as T;
    });
  }
}

/**
 * PyTorch's `softplus` (β = 1, threshold 20): `log(1 + exp(z))`, and `z` itself for `z > 20`.
 */
export function torchSoftplus<T extends tf.Tensor>(z: T): T {
  return tf.tidy(() => select(tf.sub(z, 20), z, tf.softplus(tf.minimum(z, 20))) as T);
}

/**
 * OpenRetina's `ParametrizedSoftplus`: `w·softplus(a·x + b)`. `b` and `w` are learnable parameters; `a` is one only
 * with `learnA` (otherwise it is a plain constant and not in the state dict). State dict: `[a,] b, w`, shape `[]`.
 */
export class ParametrizedSoftplus extends Module {
  readonly a: tf.Variable | number;
  readonly b: tf.Variable;
  readonly w: tf.Variable;

  constructor(options: { a?: number; b?: number; w?: number; learnA?: boolean } = {}) {
    super();
    this.a = options.learnA ? this.registerParameter('a', tf.scalar(options.a ?? 1)) : (options.a ?? 1);
    this.b = this.registerParameter('b', tf.scalar(options.b ?? 0));
    this.w = this.registerParameter('w', tf.scalar(options.w ?? 1));
  }

  forward<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => tf.mul(this.w, torchSoftplus(tf.add(tf.mul(x, this.a), this.b))) as T);
  }
}
