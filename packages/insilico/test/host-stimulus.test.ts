import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoreReadout } from '@openretina/models';
import { OnnxEngine, loadOnnxRuntimeNode } from '@openretina/onnx/node';
import {
  ChangeNormJointlyClipRangeSeparately,
  HOEFLING_MIN_MAX,
  HOEFLING_STIMULUS_RANGE,
  IncreaseObjective,
  OptimizationStopper,
  RangeRegularizationLoss,
  SliceMeanReducer,
  StimulusSGD,
  optimizeStimulus,
} from '../src/index.js';
import { buildFixtureModel } from '@openretina/test-utils/fixture-model';

// The backend comes from test-utils/backend-setup.ts (cpu, or wasm in the wasm project): the host copy is reused
// across steps on wasm only.

describe('optimizeStimulus: the stimulus kept on the host between host steps and calls', () => {
  let model: CoreReadout;
  let engine: OnnxEngine;
  let options: Parameters<typeof optimizeStimulus>[1];
  const frames = 36;
  beforeAll(async () => {
    model = buildFixtureModel().eval();
    engine = new OnnxEngine(model, { ort: await loadOnnxRuntimeNode() });
    options = {
      optimizer: new StimulusSGD({ lr: 100 }),
      objective: new IncreaseObjective(model, 3, 'session_2', new SliceMeanReducer({ axis: 0, start: 1, length: 4 })),
      stopper: new OptimizationStopper(1),
      regularizers: new RangeRegularizationLoss({ minMax: HOEFLING_MIN_MAX, maxNorm: HOEFLING_STIMULUS_RANGE.norm, factor: 0.1 }),
      postprocessors: new ChangeNormJointlyClipRangeSeparately({ minMax: HOEFLING_MIN_MAX, norm: HOEFLING_STIMULUS_RANGE.norm }),
      engine,
    };
  });
  afterAll(() => {
    engine.dispose();
    model.dispose();
  });

  const start = (seed: number) => tf.randomNormal(model.stimulusShape(frames), 0, 0.1, 'float32', seed) as tf.Tensor5D;

  /** The stimuli after each of `n` steps of one call. */
  async function oneCall(init: tf.Tensor5D, n: number): Promise<number[][]> {
    const x = tf.variable(init);
    const stimuli: number[][] = [];
    await optimizeStimulus(x, {
      ...options,
      stopper: new OptimizationStopper(n),
      onIteration: () => void stimuli.push(Array.from(x.dataSync())),
    });
    x.dispose();
    return stimuli;
  }

  it('a step per call equals the steps of one call; a stimulus assigned between calls is stepped from; kept clones keep their values', async () => {
    const [a, b] = [start(1), start(2)];
    const fromA = await oneCall(a, 3);
    const fromB = await oneCall(b, 1);
    const x = tf.variable(a);
    const before = tf.memory().numTensors;
    const clones: tf.Tensor[] = [];
    for (let i = 0; i < 3; i++) {
      await optimizeStimulus(x, options);
      clones.push(tf.clone(x)); // shares the variable's data: a buffer the next step writes must not be it
    }
    clones.forEach((c, i) => expect(Array.from(c.dataSync()), `step ${i + 1}`).toEqual(fromA[i]));
    x.assign(b);
    await optimizeStimulus(x, options);
    expect(Array.from(x.dataSync())).toEqual(fromB[0]);
    tf.dispose(clones);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, a, b]);
  });

  it('an engine without inputGradientValues steps through TF.js tensors to the same stimuli, without leaking', async () => {
    const init = start(4);
    const want = await oneCall(init, 2);
    const tensorsOnly = {
      name: engine.name,
      model: engine.model,
      lossAndGrads: engine.lossAndGrads.bind(engine),
      inputGradient: engine.inputGradient.bind(engine),
      predict: engine.predict.bind(engine),
      dispose: () => undefined,
    };
    const x = tf.variable(init);
    const before = tf.memory().numTensors;
    const got: number[][] = [];
    const r = await optimizeStimulus(x, {
      ...options,
      engine: tensorsOnly,
      stopper: new OptimizationStopper(2),
      onIteration: () => void got.push(Array.from(x.dataSync())),
    });
    expect(r.engine).toBe('onnx');
    expect(got).toEqual(want);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, init]);
  });

  it('a non-finite stimulus assigned after host steps is refused by the initial check', async () => {
    const init = start(3);
    const x = tf.variable(init);
    await optimizeStimulus(x, options);
    const values = Float32Array.from(x.dataSync());
    values[5] = Number.NaN;
    const bad = tf.tensor5d(values, x.shape);
    x.assign(bad);
    const before = tf.memory().numTensors;
    await expect(optimizeStimulus(x, options)).rejects.toThrow(/^The initial stimulus of optimizeStimulus holds a non-finite value: NaN/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, init, bad]);
  });
});
