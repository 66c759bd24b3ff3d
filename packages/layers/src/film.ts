import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, formatShape } from '@openretina/contracts';
import { Module } from './module.js';
import { toRng, type Rng } from './random.js';
import { Linear } from './torch-layers.js';

/**
 * OpenRetina's `FiLM` (feature-wise linear modulation): `gamma = fc_gamma(cond)`, `beta = fc_beta(cond)`,
 * output `gamma·x + beta` broadcast over every axis but batch and channels. Channels-last: `x [B, ..., F]`,
 * `cond [B, cond_dim]`.
 *
 * State dict: `fc_gamma.weight [F, cond_dim]`, `fc_gamma.bias [F]`, `fc_beta.weight [F, cond_dim]`, `fc_beta.bias [F]`.
 * Initialised to the identity as in OpenRetina: weights ~ N(0, 0.01²), gamma bias 1, beta bias 0.
 */
export class FiLM extends Module {
  readonly fcGamma: Linear;
  readonly fcBeta: Linear;

  constructor(
    readonly numFeatures: number,
    readonly condDim: number,
    options: { seed?: number | Rng } = {},
  ) {
    super();
    const rng = toRng(options.seed);
    this.fcGamma = this.registerModule('fc_gamma', new Linear(condDim, numFeatures, { rng }));
    this.fcBeta = this.registerModule('fc_beta', new Linear(condDim, numFeatures, { rng }));
    tf.tidy(() => {
      this.fcGamma.reset(rng.randn([numFeatures, condDim], 0.01), tf.ones([numFeatures]));
      this.fcBeta.reset(rng.randn([numFeatures, condDim], 0.01), tf.zeros([numFeatures]));
    });
  }

  /** `x [B, ..., F]`, `cond [B, cond_dim]` → `[B, ..., F]`. */
  forward<T extends tf.Tensor>(x: T, cond: tf.Tensor): T {
    const F = this.numFeatures;
    if (x.rank < 2 || x.shape[x.rank - 1] !== F) {
      throw new ShapeError(`FiLM(${F}, ${this.condDim}) expects [batch, ..., ${F}] features, got ${formatShape(x.shape)}.`);
    }
    if (cond.rank !== 2 || cond.shape[1] !== this.condDim || cond.shape[0] !== x.shape[0]) {
      throw new ShapeError(
        `FiLM(${F}, ${this.condDim}) expects a conditioning tensor [${x.shape[0]}, ${this.condDim}], got ${formatShape(cond.shape)}.`,
      );
    }
    return tf.tidy(() => {
      const shape = [x.shape[0]!, ...new Array<number>(x.rank - 2).fill(1), F];
      const gamma = tf.reshape(this.fcGamma.forward(cond), shape);
      const beta = tf.reshape(this.fcBeta.forward(cond), shape);
      return tf.add(tf.mul(gamma, x), beta) as T;
    });
  }
}
