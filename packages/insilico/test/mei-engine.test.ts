import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoreReadout } from '@openretina/models';
import { OnnxEngine, loadOnnxRuntimeNode } from '@openretina/onnx/node';
import {
  ChangeNormJointlyClipRangeSeparately,
  ContrastiveNeuronObjective,
  HOEFLING_MIN_MAX,
  HOEFLING_STIMULUS_RANGE,
  IncreaseObjective,
  MeanReducer,
  OptimizationStopper,
  RangeRegularizationLoss,
  StimulusSGD,
  SliceMeanReducer,
  optimizeStimulus,
  type OptimizeStimulusOptions,
  type StimulusObjective,
} from '../src/index.js';
import { ndhwcToNcdhw, ref, relativeError } from '@openretina/test-utils/fixtures';
import { buildFixtureModel, refVideo } from '@openretina/test-utils/fixture-model';

// The backend comes from test-utils/backend-setup.ts (cpu, or wasm in the wasm project).

function ncdhw(t: tf.Tensor): Float32Array {
  return ndhwcToNcdhw(t.dataSync(), t.shape);
}

interface MeiRun {
  steps: Float32Array[];
  losses: number[];
  objectives: number[];
  final: Float32Array;
  engine: string;
}

describe('optimizeStimulus with a compute engine (ONNX Runtime) against the TF.js path', () => {
  let model: CoreReadout;
  let engine: OnnxEngine;
  beforeAll(async () => {
    model = buildFixtureModel().eval();
    engine = new OnnxEngine(model, { ort: await loadOnnxRuntimeNode(), threads: 2 });
  });
  afterAll(() => {
    engine.dispose();
    model.dispose();
  });

  const range = () => ({
    regularizers: new RangeRegularizationLoss({ minMax: HOEFLING_MIN_MAX, maxNorm: HOEFLING_STIMULUS_RANGE.norm, factor: 0.1 }),
    postprocessors: new ChangeNormJointlyClipRangeSeparately({ minMax: HOEFLING_MIN_MAX, norm: HOEFLING_STIMULUS_RANGE.norm }),
  });

  async function mei(
    init: tf.Tensor5D,
    objective: StimulusObjective,
    iterations: number,
    extra: Partial<OptimizeStimulusOptions>,
  ): Promise<MeiRun> {
    const x = tf.variable(init);
    const steps: Float32Array[] = [];
    const optimizer = new StimulusSGD({ lr: 100 });
    const before = tf.memory().numTensors;
    const r = await optimizeStimulus(x, {
      optimizer,
      objective,
      stopper: new OptimizationStopper(iterations),
      ...range(),
      ...extra,
      onIteration: ({ iteration }) => {
        if (iteration < 2) steps.push(ncdhw(x));
      },
    });
    expect(tf.memory().numTensors).toBe(before);
    optimizer.dispose();
    const final = ncdhw(x);
    x.dispose();
    return { steps, losses: r.losses, objectives: r.objectives, final, engine: r.engine };
  }

  function compare(got: MeiRun, want: MeiRun, tol: number): Record<string, number> {
    const errors = {
      step1: relativeError(got.steps[0]!, want.steps[0]!),
      step2: relativeError(got.steps[1]!, want.steps[1]!),
      losses: relativeError(got.losses, want.losses),
      objectives: relativeError(got.objectives, want.objectives),
      final: relativeError(got.final, want.final),
    };
    for (const [k, e] of Object.entries(errors)) expect(e, k).toBeLessThan(tol);
    return errors;
  }

  it('OpenRetina visualize settings: the engine gives the TF.js MEI within 1e-5 and the fixture run within 1e-4', async () => {
    const objective = new IncreaseObjective(model, 7, 'session_2', new SliceMeanReducer({ axis: 0, start: 10, length: 10 }));
    const init = refVideo('mei/stimulus_init');
    const tfjs = await mei(init, objective, 10, {});
    const onnx = await mei(init, objective, 10, { engine });
    init.dispose();
    expect(tfjs.engine).toBe('tfjs');
    expect(onnx.engine).toBe('onnx');
    console.log('MEI engine vs TF.js relative errors', compare(onnx, tfjs, 1e-5));
    const fixture: MeiRun = {
      steps: [ref('mei/stimulus_step1').data as Float32Array, ref('mei/stimulus_step2').data as Float32Array],
      losses: Array.from(ref('mei/losses_per_iteration').data as Float32Array),
      objectives: onnx.objectives,
      final: ref('mei/stimulus_final').data as Float32Array,
      engine: 'pytorch',
    };
    console.log('MEI engine vs OpenRetina fixture relative errors', compare(onnx, fixture, 1e-4));
  });

  it('mean reducer over two neurons, 100 iterations: same as TF.js for the first steps, memory flat throughout', async () => {
    const frames = model.framesCut + 4;
    const init = tf.randomNormal(model.stimulusShape(frames), 0, 0.1, 'float32', 7) as tf.Tensor5D;
    const objective = new IncreaseObjective(model, [1, 4], 'session_2', new MeanReducer(0));
    compare(await mei(init, objective, 3, { engine }), await mei(init, objective, 3, {}), 1e-5);

    const x = tf.variable(init);
    init.dispose();
    const optimizer = new StimulusSGD({ lr: 100, momentum: 0.5 });
    await optimizeStimulus(x, { optimizer, objective, stopper: new OptimizationStopper(1), engine, ...range() }); // momentum state
    const counts: number[] = [];
    const before = tf.memory().numTensors;
    const r = await optimizeStimulus(x, {
      optimizer,
      objective,
      stopper: new OptimizationStopper(100),
      engine,
      ...range(),
      onIteration: () => void counts.push(tf.memory().numTensors),
    });
    expect(r.iterations).toBe(100);
    expect(r.engine).toBe('onnx');
    expect(new Set(counts).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    expect(r.objectives[99]!).toBeGreaterThan(r.objectives[0]!);
    optimizer.dispose();
    x.dispose();
  });

  it('non-linear objectives stay on TF.js; training mode and a foreign engine are refused', async () => {
    const frames = model.framesCut + 2;
    const reducer = new MeanReducer(0);
    const x = tf.variable(tf.zeros(model.stimulusShape(frames)));
    const opts = { optimizer: new StimulusSGD({ lr: 1 }), stopper: new OptimizationStopper(1), engine };
    const contrastive = new ContrastiveNeuronObjective(model, [0], [[1], [2]], 'session_2', reducer);
    expect((await optimizeStimulus(x, { ...opts, objective: contrastive })).engine).toBe('tfjs');
    const allSessions = new IncreaseObjective(model, 0, undefined, reducer);
    expect((await optimizeStimulus(x, { ...opts, objective: allSessions })).engine).toBe('tfjs');
    const linear = new IncreaseObjective(model, 0, 'session_2', reducer);
    model.train();
    try {
      await expect(optimizeStimulus(x, { ...opts, objective: linear })).rejects.toThrow(/training mode/);
    } finally {
      model.eval();
    }
    const other = buildFixtureModel().eval();
    await expect(optimizeStimulus(x, { ...opts, objective: new IncreaseObjective(other, 0, 'session_2', reducer) })).rejects.toThrow(
      /another model/,
    );
    other.dispose();
    opts.optimizer.dispose();
    x.dispose();
  });
});
