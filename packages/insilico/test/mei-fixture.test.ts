import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChangeNormJointlyClipRangeSeparately,
  HOEFLING_MIN_MAX,
  HOEFLING_STIMULUS_RANGE,
  IncreaseObjective,
  OptimizationStopper,
  RangeRegularizationLoss,
  StimulusSGD,
  SliceMeanReducer,
  optimizeStimulus,
} from '../src/index.js';
import { stimulusLossAndGrad } from '../src/optimize.js';
import { ndhwcToNcdhw, ref, refScalar, relativeError } from '@openretina/test-utils/fixtures';
import { buildFixtureModel, refVideo } from '@openretina/test-utils/fixture-model';
import type { CoreReadout } from '@openretina/models';

function ncdhw(t: tf.Tensor): Float32Array {
  return ndhwcToNcdhw(t.dataSync(), t.shape);
}

describe('MEI with OpenRetina visualize settings reproduces the fixture run', () => {
  let model: CoreReadout;
  beforeAll(async () => {
    // The backend comes from test-utils/backend-setup.ts (cpu, or wasm in the wasm project).
    model = buildFixtureModel().eval();
  });
  afterAll(() => model.dispose());

  const settings = () => {
    const reducer = new SliceMeanReducer({ axis: 0, start: 10, length: 10 });
    return {
      objective: new IncreaseObjective(model, 7, 'session_2', reducer),
      regularizers: new RangeRegularizationLoss({ minMax: HOEFLING_MIN_MAX, maxNorm: HOEFLING_STIMULUS_RANGE.norm, factor: 0.1 }),
      postprocessors: new ChangeNormJointlyClipRangeSeparately({ minMax: HOEFLING_MIN_MAX, norm: HOEFLING_STIMULUS_RANGE.norm }),
    };
  };

  it('initial loss and gradient', () => {
    const { objective, regularizers } = settings();
    const x = refVideo('mei/stimulus_init');
    const { loss, grad } = stimulusLossAndGrad(x, objective, regularizers);
    expect(loss.dataSync()[0]!).toBeCloseTo(refScalar('mei/loss_init'), 5);
    const err = relativeError(ncdhw(grad), ref('mei/loss_grad_init').data as Float32Array);
    console.log('loss_grad_init relative error', err);
    expect(err).toBeLessThan(1e-4);
    tf.dispose([x, loss, grad]);
  });

  it('steps, losses, final stimulus and response', async () => {
    const { objective, regularizers, postprocessors } = settings();
    const init = refVideo('mei/stimulus_init');
    const x = tf.variable(init);
    init.dispose();
    const snapshots: Float32Array[] = [];
    const optimizer = new StimulusSGD({ lr: 100 });
    const before = tf.memory().numTensors;
    const result = await optimizeStimulus(x, {
      optimizer,
      objective,
      stopper: new OptimizationStopper(10),
      regularizers,
      postprocessors,
      onIteration: ({ iteration }) => {
        if (iteration < 2) snapshots.push(ncdhw(x));
      },
    });
    expect(tf.memory().numTensors).toBe(before);
    optimizer.dispose();
    const errors = {
      step1: relativeError(snapshots[0]!, ref('mei/stimulus_step1').data as Float32Array),
      step2: relativeError(snapshots[1]!, ref('mei/stimulus_step2').data as Float32Array),
      losses: relativeError(result.losses, ref('mei/losses_per_iteration').data as Float32Array),
      final: relativeError(ncdhw(x), ref('mei/stimulus_final').data as Float32Array),
    };
    console.log('MEI relative errors', errors);
    for (const e of Object.values(errors)) expect(e).toBeLessThan(1e-4);
    const final = objective.forward(x as unknown as tf.Tensor5D);
    expect(final.dataSync()[0]!).toBeCloseTo(refScalar('mei/objective_final'), 3);
    final.dispose();
    const resp = model.forward(x as unknown as tf.Tensor5D, { session: 'session_2' });
    const neuron = tf.squeeze(tf.slice(resp, [0, 0, 7], [1, -1, 1]));
    const respErr = relativeError(neuron.dataSync(), ref('mei/response_final').data as Float32Array);
    console.log('response_final relative error', respErr);
    expect(respErr).toBeLessThan(1e-4);
    tf.dispose([resp, neuron, x]);
  });
});
