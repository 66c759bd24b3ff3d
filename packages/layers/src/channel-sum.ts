import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, formatShape } from '@openretina/contracts';
import { Module } from './module.js';

/**
 * Weighted sum over channels (OpenRetina's `WeightedChannelSumLayer`), e.g. colour → grey. Parameter
 * `channel_weights` `[C]`, frozen unless `trainable`. Single-channel input passes through unchanged.
 */
export class WeightedChannelSum extends Module {
  readonly channelWeights: tf.Variable;
  constructor(initialWeights: readonly number[], options: { trainable?: boolean } = {}) {
    super();
    this.channelWeights = this.registerParameter('channel_weights', tf.tensor1d([...initialWeights]), options.trainable ?? false);
  }
  /** `[..., C]` → `[..., 1]` */
  forward<T extends tf.Tensor>(x: T): T {
    const c = x.shape[x.rank - 1];
    if (c === 1) return tf.clone(x);
    if (c !== this.channelWeights.size) {
      throw new ShapeError(
        `WeightedChannelSum has ${this.channelWeights.size} weights, the input has ${c} channels (${formatShape(x.shape)}).`,
      );
    }
    return tf.tidy(() => tf.sum(tf.mul(x, this.channelWeights), -1, true) as T);
  }
}
