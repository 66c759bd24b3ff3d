// Model families other than the core-readout train with the same train(): anything that satisfies the contracts'
// TrainableModel does (loss parts, regularizers, parameters per session, post-step hooks).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { SessionBatch } from '@openretina/contracts';
import { SingleCellSeparatedLNP, SingleCellSpatialContrast } from '@openretina/models';
import { train, type TrainingData } from '../src/index.js';

const T = 24;
const H = 4;
const W = 4;

/** One neuron driven by a centre-surround filter of the last 5 frames: responses = softplus(3 · filtered stimulus). */
function lnData(channels: number, filterFrames: number): TrainingData {
  const batch = (seed: number): SessionBatch => {
    const inputs = tf.randomNormal([4, T, H, W, channels], 0, 1, 'float32', seed) as tf.Tensor5D;
    const targets = tf.tidy(() => {
      const centre = tf.mean(tf.slice(inputs, [0, 0, 1, 1, 0], [-1, -1, 2, 2, -1]), [2, 3, 4]); // [4, T]
      const surround = tf.mean(inputs, [2, 3, 4]);
      const drive = tf.sub(centre, tf.mul(surround, 0.5));
      // a temporal filter: the mean of the last `filterFrames` frames
      const frames = [...Array(T - filterFrames + 1).keys()].map((t) => tf.mean(tf.slice(drive, [0, t], [-1, filterFrames]), 1));
      return tf.expandDims(tf.softplus(tf.mul(tf.stack(frames, 1), 3)), 2) as tf.Tensor3D; // [4, T − f + 1, 1]
    });
    return { session: 'default', inputs, targets };
  };
  return {
    stepsPerEpoch: 3,
    // the same batches every epoch, so the epochs' losses compare
    *train() {
      for (let i = 1; i <= 3; i++) yield batch(i); // seeds from 1: tfjs-core treats a seed of 0 as "unseeded"
    },
    *validation() {
      yield batch(999);
    },
  };
}

describe('train() on other model families', () => {
  it('SingleCellSeparatedLNP: the loss goes down, its regularizer is logged, no tensor leaks', async () => {
    const model = new SingleCellSeparatedLNP({
      inShape: [1, 5, H, W],
      spatKernelSize: [H, W],
      learningRate: 0.02,
      smoothWeightSpat: 0.01,
      smoothWeightTemp: 0.01,
      sparseWeight: 0.01,
      seed: 3,
    });
    const start = tf.memory().numTensors;
    const result = await train(model, lnData(1, 5), { maxEpochs: 6, scheduler: null, restoreBest: false });
    expect(tf.memory().numTensors).toBe(start);
    const first = result.history[0]!.metrics;
    const last = result.history[result.history.length - 1]!.metrics;
    expect(last.train_total_loss!).toBeLessThan(first.train_total_loss!);
    expect(last.val_evaluation_loss!).toBeGreaterThan(first.val_evaluation_loss!); // correlation rises
    expect(Object.keys(first)).toEqual([
      'train_total_loss',
      'train_loss',
      'regularization_loss_core',
      'val_loss',
      'val_regularization_loss_core',
      'val_total_loss',
      'val_evaluation_loss',
      'epoch_seconds',
    ]);
    expect(first.regularization_loss_core!).toBeGreaterThan(0);
    model.dispose();
  });

  it('SingleCellSpatialContrast: trains, and its post-step clamp (w ≥ 0) runs after every optimizer step', async () => {
    const model = new SingleCellSpatialContrast({
      inShape: [1, T, H, W],
      spatialFilter: [...Array(H * W).keys()].map((i) => (((i % W) - 1.5) ** 2 + (Math.floor(i / W) - 1.5) ** 2 < 1.5 ** 2 ? 1 : 0.1)),
      temporalFilter: [0.2, 0.2, 0.2, 0.2, 0.2],
      wInit: -0.5,
      learningRate: 0.05,
    });
    const start = tf.memory().numTensors;
    const ws: number[] = [];
    const result = await train(model, lnData(1, 5), {
      maxEpochs: 3,
      scheduler: null,
      restoreBest: false,
      callbacks: { onBatchEnd: () => void ws.push(model.w.dataSync()[0]!) },
    });
    expect(tf.memory().numTensors).toBe(start);
    expect(ws).toHaveLength(9);
    expect(Math.min(...ws)).toBeGreaterThanOrEqual(0); // −0.5 at the start: clamped from the first step on
    const losses = result.history.map((h) => h.metrics.train_total_loss!);
    expect(losses[2]!).toBeLessThan(losses[0]!);
    expect(Object.keys(result.history[0]!.metrics).filter((k) => k.includes('regularization'))).toEqual([]);
    model.dispose();
  });
});
