import * as tf from '@tensorflow/tfjs-core';
import { SPECIFICATION_VERSION, ShapeError, formatShape, type Readout } from '@openretina/contracts';
import { Module } from '@openretina/layers';

/** Core-output shape a readout is built for, OpenRetina's `(c, t, h, w)`. */
export type ReadoutInShape = readonly [c: number, t: number, h: number, w: number];

/** Shared behaviour of single-session readouts. */
export abstract class ReadoutBase extends Module implements Readout {
  readonly specificationVersion = SPECIFICATION_VERSION;
  abstract readonly outDims: number;
  abstract forward(features: tf.Tensor5D): tf.Tensor3D;
  abstract regularizer(reduction?: 'sum' | 'mean'): tf.Scalar;
  /** The bias variable (parameter or buffer) that mean activity initialises. */
  protected abstract get biasVariable(): tf.Variable | undefined;

  initializeBias(meanActivity?: Float32Array | ArrayLike<number>): void {
    const bias = this.biasVariable;
    if (!bias) return;
    if (meanActivity === undefined) {
      tf.tidy(() => bias.assign(tf.zerosLike(bias)));
      return;
    }
    if (meanActivity.length !== bias.size) {
      throw new ShapeError(`Mean activity has ${meanActivity.length} values, the readout has ${bias.size} neurons.`);
    }
    tf.tidy(() => bias.assign(tf.tensor(Float32Array.from(meanActivity), bias.shape)));
  }

  protected checkInput(x: tf.Tensor, channels: number, height: number, width: number): void {
    if (x.rank !== 5 || x.shape[4] !== channels || x.shape[2] !== height || x.shape[3] !== width) {
      throw new ShapeError(
        `${this.constructor.name} expects core features [batch, time, ${height}, ${width}, ${channels}], got ${formatShape(x.shape)}.`,
      );
    }
  }
}

/** Sum or mean, as OpenRetina's `apply_reduction`. */
export function reduceBy(t: tf.Tensor, reduction: 'sum' | 'mean'): tf.Scalar {
  return (reduction === 'mean' ? tf.mean(t) : tf.sum(t)) as tf.Scalar;
}
