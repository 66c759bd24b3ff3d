import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CoreReadout } from '@openretina/models';
import { OnnxEngine, loadOnnxRuntimeNode } from '@openretina/onnx/node';
import {
  ChangeNormJointlyClipRangeSeparately,
  HOEFLING_MIN_MAX,
  HOEFLING_STIMULUS_RANGE,
  IncreaseObjective,
  MeanReducer,
  OptimizationStopper,
  RangeRegularizationLoss,
  SliceMeanReducer,
  StimulusSGD,
  optimizeStimulus,
  type MinMax,
  type StimulusRegularizationLoss,
} from '../src/index.js';
import { HostStimulusStep } from '../src/host-step.js';
import { relativeError } from '@openretina/test-utils/fixtures';
import { buildFixtureModel, refVideo } from '@openretina/test-utils/fixture-model';

// The backend comes from test-utils/backend-setup.ts (cpu, or wasm in the wasm project): the host step adds its
// norms in the order of that backend's Sum kernel.

/** The same penalty behind an object that is not a RangeRegularizationLoss: optimizeStimulus then steps in TF.js. */
const generic = (r: RangeRegularizationLoss): StimulusRegularizationLoss => ({ forward: (s) => r.forward(s) });

interface Run {
  stimuli: Float32Array[];
  losses: number[];
  objectives: number[];
  engine: string;
  hostSteps: number;
}

describe('optimizeStimulus: the host step (engine gradient, then range penalty + SGD + norm/range constraint on typed arrays) equals the TF.js step', () => {
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
  afterEach(() => vi.restoreAllMocks());

  async function run(
    init: tf.Tensor5D,
    objective: IncreaseObjective,
    iterations: number,
    regularizer: StimulusRegularizationLoss,
    post: ChangeNormJointlyClipRangeSeparately,
    lr = 100,
  ): Promise<Run> {
    const hostStep = vi.spyOn(HostStimulusStep.prototype, 'step');
    const x = tf.variable(init);
    const optimizer = new StimulusSGD({ lr });
    const stimuli: Float32Array[] = [];
    const before = tf.memory().numTensors;
    const r = await optimizeStimulus(x, {
      optimizer,
      objective,
      engine,
      stopper: new OptimizationStopper(iterations),
      regularizers: regularizer,
      postprocessors: post,
      onIteration: () => void stimuli.push(Float32Array.from(x.dataSync())),
    });
    expect(tf.memory().numTensors).toBe(before);
    optimizer.dispose();
    x.dispose();
    const hostSteps = hostStep.mock.calls.length;
    hostStep.mockRestore();
    return { stimuli, losses: r.losses, objectives: r.objectives, engine: r.engine, hostSteps };
  }

  function expectSame(host: Run, tfjs: Run, iterations: number): void {
    expect(host.hostSteps).toBe(iterations);
    expect(tfjs.hostSteps).toBe(0);
    expect([host.engine, tfjs.engine]).toEqual(['onnx', 'onnx']);
    expect(host.stimuli).toHaveLength(iterations);
    // float32 rounding of the sums (the objective's mean, the norms) only: a different branch of a relu or a clamp
    // would show as a difference of the step size (lr · factor = 10 here)
    for (let i = 0; i < iterations; i++) expect(relativeError(host.stimuli[i]!, tfjs.stimuli[i]!), `stimulus ${i}`).toBeLessThan(1e-6);
    expect(relativeError(host.losses, tfjs.losses), 'losses').toBeLessThan(1e-6);
    expect(relativeError(host.objectives, tfjs.objectives), 'objectives').toBeLessThan(1e-6);
  }

  it('OpenRetina visualize settings (slice mean, range penalty, norm 30 and Höfling ranges), 20 iterations', async () => {
    const objective = new IncreaseObjective(model, 7, 'session_2', new SliceMeanReducer({ axis: 0, start: 10, length: 10 }));
    const reg = new RangeRegularizationLoss({ minMax: HOEFLING_MIN_MAX, maxNorm: HOEFLING_STIMULUS_RANGE.norm, factor: 0.1 });
    const post = new ChangeNormJointlyClipRangeSeparately({ minMax: HOEFLING_MIN_MAX, norm: HOEFLING_STIMULUS_RANGE.norm });
    const init = refVideo('mei/stimulus_init');
    const host = await run(init, objective, 20, reg, post);
    const tfjs = await run(init, objective, 20, generic(reg), post);
    init.dispose();
    expectSame(host, tfjs, 20);
  });

  it('every branch of the penalty active (norm above its bound, values below and above the ranges), open bounds, two neurons', async () => {
    const frames = model.framesCut + 6;
    const init = tf.randomNormal(model.stimulusShape(frames), 0, 1, 'float32', 11) as tf.Tensor5D;
    const objective = new IncreaseObjective(model, [1, 4], 'session_2', new MeanReducer(0));
    // the penalty's norm bound (2) lies well below the norm the constraint leaves (8 before its clamps, ~3.8 after),
    // so ‖x‖ − maxNorm > 0 at every step; its ranges cover one channel, the other is unconstrained; the constraint
    // clamps green on both sides, UV only above
    const regRange: MinMax[] = [[-0.1, 0.1]];
    const reg = new RangeRegularizationLoss({ minMax: regRange, maxNorm: 2, factor: 0.05 });
    const post = new ChangeNormJointlyClipRangeSeparately({
      minMax: [
        [-0.15, 0.12],
        [null, 0.08],
      ],
      norm: 8,
    });
    const host = await run(init, objective, 6, reg, post, 20);
    const tfjs = await run(init, objective, 6, generic(reg), post, 20);
    init.dispose();
    expectSame(host, tfjs, 6);
    // the branches the test is about are taken: the norm stays above the penalty's bound, values sit at the clamps
    // and outside the penalty's range
    const last = host.stimuli[5]!;
    let below = 0;
    let above = 0;
    let clamped = 0;
    for (let i = 0; i < last.length; i += 2) {
      if (last[i]! < -0.1) below++;
      if (last[i]! > 0.1) above++;
      if (last[i] === Math.fround(-0.15) || last[i] === Math.fround(0.12) || last[i + 1] === Math.fround(0.08)) clamped++;
    }
    expect(Math.min(below, above, clamped)).toBeGreaterThan(0);
    expect(Math.hypot(...last)).toBeGreaterThan(2);
  });

  it('a step that leaves the stimulus non-finite stops with the TF.js path’s error, without leaking', async () => {
    const frames = model.framesCut + 2;
    const objective = new IncreaseObjective(model, 0, 'session_2', new MeanReducer(0));
    const reg = new RangeRegularizationLoss({ minMax: HOEFLING_MIN_MAX, maxNorm: null, factor: 1 });
    const post = new ChangeNormJointlyClipRangeSeparately({
      minMax: [
        [null, null],
        [null, null],
      ],
      norm: null,
    });
    const messages: string[] = [];
    for (const r of [reg, generic(reg)]) {
      const x = tf.variable(tf.randomNormal(model.stimulusShape(frames), 0, 1, 'float32', 3) as tf.Tensor5D);
      const optimizer = new StimulusSGD({ lr: Number.POSITIVE_INFINITY });
      const before = tf.memory().numTensors;
      const opts = { optimizer, objective, engine, stopper: new OptimizationStopper(3), regularizers: r, postprocessors: post };
      await optimizeStimulus(x, opts).catch((e: Error) => messages.push(`${e.name}: ${e.message}`));
      expect(tf.memory().numTensors).toBe(before);
      optimizer.dispose();
      x.dispose();
    }
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/^DataError: optimizeStimulus stopped at iteration 1: the stimulus holds NaN or Inf values/);
    expect(messages[1]).toBe(messages[0]);
  });

  it('momentum, other regularisers or post-processors take the TF.js step', () => {
    const reg = new RangeRegularizationLoss({ minMax: HOEFLING_MIN_MAX, maxNorm: 30 });
    const post = new ChangeNormJointlyClipRangeSeparately({ minMax: HOEFLING_MIN_MAX, norm: 30 });
    const shape = [1, 40, 18, 16, 2];
    const sgd = new StimulusSGD({ lr: 1 });
    expect(HostStimulusStep.for(sgd, [reg], [post], shape)).toBeInstanceOf(HostStimulusStep);
    expect(HostStimulusStep.for(sgd, [], [], shape)).toBeInstanceOf(HostStimulusStep);
    expect(HostStimulusStep.for(new StimulusSGD({ lr: 1, momentum: 0.9 }), [reg], [post], shape)).toBeNull();
    expect(HostStimulusStep.for(new StimulusSGD({ lr: 1, weightDecay: 0.1 }), [reg], [post], shape)).toBeNull();
    expect(HostStimulusStep.for(sgd, [generic(reg)], [post], shape)).toBeNull();
    expect(HostStimulusStep.for(sgd, [reg], [{ process: (s) => s }], shape)).toBeNull();
    class Penalty extends RangeRegularizationLoss {}
    expect(HostStimulusStep.for(sgd, [new Penalty({ minMax: HOEFLING_MIN_MAX, maxNorm: 30 })], [post], shape)).toBeNull();
    // the generic path's shape errors, before any step
    expect(() => HostStimulusStep.for(sgd, [reg], [post], [1, 40, 18, 16, 3])).toThrow(/Expected 2 channels/);
  });
});
