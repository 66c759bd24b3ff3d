import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  StimulusAdam,
  ChangeNormJointlyClipRangeSeparately,
  ContrastiveNeuronObjective,
  HOEFLING_MIN_MAX,
  IncreaseObjective,
  InnerNeuronVisualizationObjective,
  OptimizationStopper,
  RangeRegularizationLoss,
  StimulusSGD,
  SliceMeanReducer,
  TemporalGaussianLowPassFilterProcessor,
  optimizeStimulus,
} from '../src/index.js';
import { resolveLayerName } from '../src/objectives.js';
import type { CoreReadout } from '@openretina/models';
import { buildFixtureModel } from '@openretina/test-utils/fixture-model';

describe('inner-neuron objective and memory on the fixture model', () => {
  let model: CoreReadout;
  beforeAll(async () => {
    // The backend comes from test-utils/backend-setup.ts (cpu, or wasm in the wasm project).
    model = buildFixtureModel().eval();
  });
  afterAll(() => model.dispose());

  it('lists layers and resolves OpenRetina hook names', () => {
    const obj = new InnerNeuronVisualizationObjective(model, 'session_1', new SliceMeanReducer({ axis: 0, start: 0, length: 2 }));
    const names = obj.layerNames();
    for (const n of ['layer0.conv', 'layer0.norm', 'layer0.nonlin', 'layer0', 'layer1.nonlin', 'layer1', 'core'])
      expect(names).toContain(n);
    expect(obj.blockNames()).toEqual(['layer0', 'layer1']);
    expect(resolveLayerName('core_features_layer1')).toBe('layer1');
    expect(resolveLayerName('core_features_layer0_conv')).toBe('layer0.conv');
    expect(obj.getOutputShapeForLayer('core_features_layer0', [1, 40, 18, 16, 2])).toEqual([1, 20, 8, 6, 16]);
    expect(obj.getOutputShapeForLayer('nope', [1, 40, 18, 16, 2])).toBeUndefined();
    expect(() => obj.setLayerChannel('nope', 0)).toThrow(/not one of/);
  });

  it('equals reducer(mean over batch of the centre unit) of the tapped layer output, and has a gradient', () => {
    const reducer = new SliceMeanReducer({ axis: 0, start: 5, length: 4 });
    const obj = new InnerNeuronVisualizationObjective(model, 'session_1', reducer);
    const x = tf.randomNormal([1, 40, 18, 16, 2], 0, 0.5, 'float32', 3) as tf.Tensor5D;
    for (const [layer, ch] of [
      ['layer1', 3],
      ['layer0.conv', 5],
      ['core', 0],
    ] as const) {
      obj.setLayerChannel(layer, ch);
      let tapped: tf.Tensor5D | undefined;
      const tapName = layer === 'layer1' ? 'layer1.nonlin' : layer;
      tf.dispose(
        model.forward(x, {
          session: 'session_1',
          tap: (n, t) => {
            if (n === tapName) tapped = tf.keep(tf.clone(t));
          },
        }),
      );
      const [, T, H, W] = tapped!.shape;
      const trace = tapped!.dataSync();
      let want = 0;
      for (let t = 5; t < 9; t++) want += trace[((t * H + Math.floor(H / 2)) * W + Math.floor(W / 2)) * tapped!.shape[4] + ch]! / 4;
      expect(T).toBeGreaterThan(8);
      const got = obj.forward(x);
      expect(got.dataSync()[0]!).toBeCloseTo(want, 5);
      tf.dispose([got, tapped!]);
    }
    obj.setLayerChannel('core_features_layer0', 2);
    const before = tf.memory().numTensors;
    const gradX = tf.grad((s: tf.Tensor) => obj.forward(s as tf.Tensor5D))(x);
    expect(tf.tidy(() => tf.max(tf.abs(gradX)).dataSync()[0]!)).toBeGreaterThan(0);
    tf.dispose([gradX]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => {
      obj.setLayerChannel('layer0', 99);
      obj.forward(x);
    }).toThrow(/channels/);
    x.dispose();
  });

  it('100 MEI iterations leave tf.memory().numTensors unchanged (increase, contrastive and inner objectives)', async () => {
    const frames = 32; // 2 output frames: a short but complete model pass
    const reducer = new SliceMeanReducer({ axis: 0, start: 0, length: 2 });
    const clip = new ChangeNormJointlyClipRangeSeparately({ minMax: HOEFLING_MIN_MAX, norm: 30 });
    const inner = new InnerNeuronVisualizationObjective(model, 'session_2', reducer);
    inner.setLayerChannel('layer1', 1);
    inner.layerNames();
    const runs = [
      {
        objective: new IncreaseObjective(model, [1, 4], 'session_2', reducer),
        optimizer: new StimulusSGD({ lr: 100, momentum: 0.5 }),
        iters: 100,
      },
      {
        objective: new ContrastiveNeuronObjective(model, [0, 1], [[2, 3], [4]], 'session_2', reducer),
        optimizer: new StimulusAdam({ lr: 0.05 }),
        iters: 20,
      },
      { objective: inner, optimizer: new StimulusSGD({ lr: 10 }), iters: 20 },
    ];
    for (const { objective, optimizer, iters } of runs) {
      const init = tf.randomNormal(model.stimulusShape(frames), 0, 0.1, 'float32', 7) as tf.Tensor5D;
      const x = tf.variable(clip.process(init));
      init.dispose();
      const before = tf.memory().numTensors;
      const r = await optimizeStimulus(x, {
        optimizer,
        objective,
        stopper: new OptimizationStopper(iters),
        regularizers: [new RangeRegularizationLoss({ minMax: HOEFLING_MIN_MAX, maxNorm: 30, factor: 0.1 })],
        postprocessors: [clip, new TemporalGaussianLowPassFilterProcessor(0.5, 5)],
      });
      optimizer.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(r.iterations).toBe(iters);
      expect(r.objectives[iters - 1]!).toBeGreaterThanOrEqual(r.objectives[0]! - 1e-3);
      x.dispose();
    }
  });
});
