// MEI failure paths: a bad objective or a stimulus that stops being finite ends with a typed error, without leaks.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOpenRetinaError } from '@openretina/contracts';
import type { CoreReadout } from '@openretina/models';
import { buildFixtureModel } from '@openretina/test-utils/fixture-model';
import { IncreaseObjective, OptimizationStopper, SliceMeanReducer, StimulusSGD, optimizeStimulus } from '../src/index.js';

describe('optimizeStimulus failure paths', () => {
  let model: CoreReadout;
  beforeAll(() => {
    model = buildFixtureModel().eval();
  });
  afterAll(() => model.dispose());
  const reducer = new SliceMeanReducer({ axis: 0, start: 0, length: 2 });

  async function attempt(x: tf.Variable, neuron: number, lr: number): Promise<unknown> {
    const optimizer = new StimulusSGD({ lr });
    try {
      return await optimizeStimulus(x, {
        optimizer,
        objective: new IncreaseObjective(model, neuron, 'session_2', reducer),
        stopper: new OptimizationStopper(5),
      });
    } catch (error) {
      return error;
    } finally {
      optimizer.dispose();
    }
  }

  it('refuses a NaN start, stops when the stimulus overflows, and throws on a bad neuron: no tensor leaks', async () => {
    const shape = model.stimulusShape(32);
    const nan = tf.variable(tf.fill(shape, Number.NaN));
    const ok = tf.variable(tf.mul(tf.ones(shape), 0.1));
    const before = tf.memory().numTensors;
    const refused = await attempt(nan, 0, 1);
    expect(isOpenRetinaError(refused, 'OPENRETINA_DATA')).toBe(true);
    expect((refused as Error).message).toMatch(/initial stimulus.*NaN at index \[0, 0, 0, 0, 0\]/);
    expect(tf.memory().numTensors).toBe(before);

    const overflow = await attempt(ok, 0, 1e300);
    expect(isOpenRetinaError(overflow, 'OPENRETINA_DATA')).toBe(true);
    expect((overflow as Error).message).toMatch(/optimizeStimulus stopped at iteration 1/);
    expect(tf.memory().numTensors).toBe(before);

    tf.tidy(() => ok.assign(tf.mul(tf.ones(shape), 0.1)));
    const badNeuron = await attempt(ok, 10_000, 1);
    expect(isOpenRetinaError(badNeuron, 'OPENRETINA_CONFIG')).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([nan, ok]);
  });
});
