import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, formatShape } from '@openretina/contracts';
import { Module } from '@openretina/layers';

/**
 * PyTorch's `Scale2DLayer` (`scale [1, C, 1, 1]`) applied, as the legacy core does for hidden layers with
 * `bias = False, batch_norm_scale = True`, to 5-D video `(N, C, T, H, W)`: broadcasting aligns the trailing axes, so
 * the C scales multiply the **time** axis (PyTorch raises unless T equals C or C is 1). Reproduced as is.
 */
export class LegacyScale2d extends Module {
  readonly scale: tf.Variable;
  constructor(readonly channels: number) {
    super();
    this.scale = this.registerParameter('scale', tf.ones([1, channels, 1, 1]));
  }
  forward(x: tf.Tensor5D): tf.Tensor5D {
    const t = x.shape[1];
    if (this.channels !== 1 && t !== this.channels) {
      throw new ShapeError(
        `Scale2DLayer(${this.channels}) on 5-D video broadcasts over the time axis (as in PyTorch): it needs ${this.channels} frames, got ${formatShape(x.shape)}.`,
      );
    }
    return tf.tidy(() => tf.mul(x, tf.reshape(this.scale, [1, this.channels, 1, 1, 1])) as tf.Tensor5D);
  }
}
