// OptimizerResetCallback (OpenRetina's training_callbacks: optimizer_reset) against OpenRetina's own callback driven
// as Lightning drives it (fixtures/trainer/optimizer_reset.json), and inside train().
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { SessionBatch } from '@openretina/contracts';
import { buildCoreReadout } from '@openretina/models';
import {
  AdamW,
  OptimizerResetCallback,
  ReduceLROnPlateau,
  StepLR,
  train,
  type OptimizerReset,
  type TrainContext,
  type TrainingData,
} from '../src/index.js';
import { maxRelErr, trainerFixture } from './helpers.js';
import { tinyCoreReadoutConfig } from '@openretina/test-utils/tiny-core-readout';

interface ResetFixture {
  init: number[];
  targets: number[][];
  weights: number[];
  metrics: number[];
  adamw: { lr: number; weight_decay: number };
  plateau: { mode: 'max'; factor: number; patience: number };
  epochs: { lr: number; reset: boolean; param: number[] }[];
}

describe('OptimizerResetCallback', () => {
  it('resets AdamW when ReduceLROnPlateau lowered the rate, step for step as OpenRetina (PyTorch)', () => {
    const f = trainerFixture<ResetFixture>('optimizer_reset.json');
    const param = tf.variable(tf.tensor1d(f.init));
    const optimizer = new AdamW(new Map([['p', param]]), { lr: f.adamw.lr, weightDecay: f.adamw.weight_decay });
    const plateau = new ReduceLROnPlateau(optimizer, f.plateau);
    const resets: OptimizerReset[] = [];
    const callback = new OptimizerResetCallback({ onReset: (r) => void resets.push(r) });
    const [targets, weights] = [f.targets.map((t) => tf.tensor1d(t)), tf.tensor1d(f.weights)];
    f.metrics.forEach((metric, epoch) => {
      const expected = f.epochs[epoch]!;
      expect(optimizer.lr).toBeCloseTo(expected.lr, 12);
      for (const target of targets) {
        const grads = tf.tidy(
          () => tf.variableGrads(() => tf.sum(tf.mul(tf.square(tf.sub(param, target)), weights)) as tf.Scalar, [param]).grads,
        );
        optimizer.step(new Map([['p', grads[param.name]!]]));
        tf.dispose(Object.values(grads));
      }
      const resetsBefore = resets.length;
      callback.onValidationEnd({ optimizer, epoch } as unknown as TrainContext);
      expect(resets.length > resetsBefore, `reset at epoch ${epoch}`).toBe(expected.reset);
      plateau.step(metric);
      expect(maxRelErr(param.dataSync(), expected.param), `parameters after epoch ${epoch}`).toBeLessThan(1e-5);
    });
    expect(resets).toEqual([{ epoch: 2, previousLr: 0.1, lr: expect.closeTo(0.03, 12) }]);
    tf.dispose([param, weights, ...targets]);
    optimizer.dispose();
  });

  it('inside train(): every epoch-end LR decrease resets the optimizer at the next validation end', async () => {
    const model = buildCoreReadout(
      tinyCoreReadoutConfig({ sessions: { s1: 2 }, inShape: [1, 10, 5, 5], hiddenChannels: 2, temporalKernel: 3, learningRate: 0.01 }),
      { seed: 1 },
    );
    const batch = (seed: number): SessionBatch => ({
      session: 's1',
      inputs: tf.randomUniform([2, 10, 5, 5, 1], -1, 1, 'float32', seed) as tf.Tensor5D,
      targets: tf.randomUniform([2, 10, 2], 0, 2, 'float32', seed + 1) as tf.Tensor3D,
    });
    const data: TrainingData = {
      stepsPerEpoch: 2,
      *train(epoch) {
        yield batch(10 * epoch + 1);
        yield batch(10 * epoch + 3);
      },
      *validation() {
        yield batch(99);
      },
    };
    const run = async (callbacks: OptimizerResetCallback[]) =>
      train(model, data, {
        maxEpochs: 3,
        restoreBest: false,
        scheduler: (optimizer) => ({
          scheduler: new StepLR(optimizer, { stepSize: 1, gamma: 0.5 }),
          interval: 'epoch',
          frequency: 1,
          monitor: null,
        }),
        callbacks,
      });
    const resets: OptimizerReset[] = [];
    const before = tf.memory().numTensors;
    const withReset = await run([new OptimizerResetCallback({ onReset: (r) => void resets.push(r) })]);
    expect(resets.map((r) => [r.epoch, r.previousLr, r.lr])).toEqual([
      [1, 0.01, 0.005],
      [2, 0.005, 0.0025],
    ]);
    // The reset at the end of the last epoch left the optimizer without state; without the callback it has some.
    expect(Object.keys(withReset.finalState.optimizer.state)).toHaveLength(0);
    const plain = await run([]);
    expect(Object.keys(plain.finalState.optimizer.state).length).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
