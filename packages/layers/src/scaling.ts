import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, formatShape } from '@openretina/contracts';
import { Module } from './module.js';

function checkChannels(x: tf.Tensor, c: number, what: string): void {
  if (x.shape[x.rank - 1] !== c) throw new ShapeError(`${what}(${c}) expects ${c} channels last, got ${formatShape(x.shape)}.`);
}

/** A learnable per-channel bias (`bias` stored as `[1, C, 1, 1, 1]`), added to channels-last video. */
export class Bias3d extends Module {
  readonly bias: tf.Variable;
  constructor(
    readonly channels: number,
    initial = 0,
  ) {
    super();
    this.bias = this.registerParameter('bias', tf.fill([1, channels, 1, 1, 1], initial));
  }
  forward(x: tf.Tensor5D): tf.Tensor5D {
    checkChannels(x, this.channels, 'Bias3d');
    return tf.tidy(() => tf.add(x, tf.reshape(this.bias, [this.channels])));
  }
}

/** A learnable per-channel scale (`scale` stored as `[1, C, 1, 1, 1]`) for channels-last video. */
export class Scale3d extends Module {
  readonly scale: tf.Variable;
  constructor(
    readonly channels: number,
    initial = 1,
  ) {
    super();
    this.scale = this.registerParameter('scale', tf.fill([1, channels, 1, 1, 1], initial));
  }
  forward(x: tf.Tensor5D): tf.Tensor5D {
    checkChannels(x, this.channels, 'Scale3d');
    return tf.tidy(() => tf.mul(x, tf.reshape(this.scale, [this.channels])));
  }
}

/** A learnable per-channel scale (`scale` stored as `[1, C, 1, 1]`) for channels-last images `[B, H, W, C]`. */
export class Scale2d extends Module {
  readonly scale: tf.Variable;
  constructor(
    readonly channels: number,
    initial = 1,
  ) {
    super();
    this.scale = this.registerParameter('scale', tf.fill([1, channels, 1, 1], initial));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    checkChannels(x, this.channels, 'Scale2d');
    return tf.tidy(() => tf.mul(x, tf.reshape(this.scale, [this.channels])));
  }
}
