import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, formatShape } from '@openretina/contracts';
import { Module } from './module.js';

export interface BatchNormOptions {
  eps?: number;
  momentum?: number;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/**
 * PyTorch's `BatchNorm3d` on channels-last video `[B, T, H, W, C]`. Training mode normalises with the batch
 * statistics (biased variance) and updates the running statistics with `momentum` (unbiased variance);
 * eval mode uses the running statistics. Entries: `weight`, `bias`, `running_mean`, `running_var`,
 * `num_batches_tracked` (int64).
 */
export class BatchNorm3d extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number;
  readonly weight: tf.Variable | undefined;
  readonly bias: tf.Variable | undefined;
  readonly runningMean: tf.Variable | undefined;
  readonly runningVar: tf.Variable | undefined;
  readonly numBatchesTracked: tf.Variable | undefined;

  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super();
    this.numFeatures = numFeatures;
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    if (options.affine ?? true) {
      this.weight = this.registerParameter('weight', tf.ones([numFeatures]));
      this.bias = this.registerParameter('bias', tf.zeros([numFeatures]));
    }
    if (options.trackRunningStats ?? true) {
      this.runningMean = this.registerBuffer('running_mean', tf.zeros([numFeatures]));
      this.runningVar = this.registerBuffer('running_var', tf.ones([numFeatures]));
      this.numBatchesTracked = this.registerBuffer('num_batches_tracked', tf.scalar(0, 'int32'), { stateDtype: 'int64' });
    }
  }

  /**
   * What eval mode computes, as one affine map per channel, `y = x·scale + shift` (host arrays; float64 arithmetic,
   * rounded once), for code that folds it into other weights: `undefined` when the layer keeps no running statistics
   * (eval mode then normalises with the batch's own).
   */
  evalAffine(): { scale: Float32Array; shift: Float32Array } | undefined {
    if (!this.runningMean || !this.runningVar) return undefined;
    const C = this.numFeatures;
    const mean = this.runningMean.dataSync();
    const variance = this.runningVar.dataSync();
    const gamma = this.weight?.dataSync();
    const beta = this.bias?.dataSync();
    const scale = new Float32Array(C);
    const shift = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      const s = (gamma ? gamma[c]! : 1) / Math.sqrt(variance[c]! + this.eps);
      scale[c] = s;
      shift[c] = (beta ? beta[c]! : 0) - mean[c]! * s;
    }
    return { scale, shift };
  }

  forward(x: tf.Tensor5D): tf.Tensor5D {
    const C = this.numFeatures;
    if (x.shape[x.rank - 1] !== C) {
      throw new ShapeError(`BatchNorm3d(${C}) expects ${C} channels last, got ${formatShape(x.shape)}.`);
    }
    return tf.tidy(() => {
      const n = x.size / C;
      const flat = tf.reshape(x, [n, C]) as tf.Tensor2D;
      let mean: tf.Tensor;
      let variance: tf.Tensor;
      if (this.training || !this.runningMean || !this.runningVar) {
        // Means as a matMul with a row of 1/n: much faster than tf.moments on wasm.
        const w = tf.fill([1, n], 1 / n) as tf.Tensor2D;
        mean = tf.matMul(w, flat);
        const centered = tf.sub(flat, mean);
        variance = tf.matMul(w, tf.square(centered));
        if (this.training && this.runningMean && this.runningVar && this.numBatchesTracked) {
          const m = this.momentum;
          const unbiased = tf.mul(variance, n / Math.max(n - 1, 1));
          this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(tf.reshape(mean, [C]), m)));
          this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(tf.reshape(unbiased, [C]), m)));
          this.numBatchesTracked.assign(tf.add(this.numBatchesTracked, tf.scalar(1, 'int32')));
        }
      } else {
        mean = this.runningMean;
        variance = this.runningVar;
      }
      let scale: tf.Tensor = tf.rsqrt(tf.add(variance, this.eps));
      if (this.weight) scale = tf.mul(scale, this.weight);
      let y = tf.mul(tf.sub(flat, mean), scale);
      if (this.bias) y = tf.add(y, this.bias);
      return tf.reshape(y, x.shape) as tf.Tensor5D;
    });
  }
}
