import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '@openretina/contracts';
import {
  FlatLaplaceL23dnorm,
  FullConv3d,
  TimeIndependentConv3d,
  TimeLaplaceL23dnorm,
  TorchSeparableConv3d,
  createConvolution,
  groupSparsity,
  type Padding3d,
  type SpaceTimeConv,
} from '../src/index.js';
import { expectNoLeak, expectRoundTrip, gradCheck, keysAndShapes, params, randn, withInputVariable } from './helpers.js';

const base = { inChannels: 2, outChannels: 3, temporalKernelSize: 3, spatialKernelSize: 3, bias: true } as const;
const types = ['separable', 'full', 'time_independent'] as const;

describe('torch-style space-time convolutions', () => {
  it('are registered in the conv factory', () => {
    expect(createConvolution('separable', base)).toBeInstanceOf(TorchSeparableConv3d);
    expect(createConvolution('full', base)).toBeInstanceOf(FullConv3d);
    expect(createConvolution('time_independent', base)).toBeInstanceOf(TimeIndependentConv3d);
    expect(() => createConvolution('nope', base)).toThrow(ConfigError);
  });

  it('state-dict keys and shapes equal OpenRetina (with and without bias, with a session log-speed)', () => {
    const opts = { ...base, spatialKernelSize2: 2, logSpeedSessions: ['a'] };
    expect(keysAndShapes(new TorchSeparableConv3d(opts))).toEqual([
      ['log_speed_a', [1]],
      ['_log_speed_default', [1]],
      ['space_conv.weight', [3, 2, 1, 3, 2]],
      ['space_conv.bias', [3]],
      ['time_conv.weight', [3, 3, 3, 1, 1]],
      ['time_conv.bias', [3]],
    ]);
    expect(keysAndShapes(new FullConv3d({ ...opts, bias: false }))).toEqual([
      ['log_speed_a', [1]],
      ['_log_speed_default', [1]],
      ['conv.weight', [3, 2, 3, 3, 2]],
    ]);
    expect(keysAndShapes(new TimeIndependentConv3d(opts))).toEqual([
      ['log_speed_a', [1]],
      ['conv.weight', [3, 2, 1, 3, 2]],
      ['conv.bias', [3]],
    ]);
  });

  const paddings: Padding3d[] = [0, 1, 'same', [1, 0, 2]];
  for (const type of types) {
    for (const padding of paddings) {
      it(`${type}, padding ${JSON.stringify(padding)}: output shape matches outputShape()`, () => {
        const conv = createConvolution(type, { ...base, spatialKernelSize2: 2, padding });
        const x = randn([2, 5, 6, 5, 2], 1) as tf.Tensor5D;
        const y = conv.forward(x);
        expect(y.shape).toEqual([2, ...conv.outputShape([5, 6, 5, 2])]);
        if (padding === 'same') expect(y.shape).toEqual([2, 5, 6, 5, 3]);
        tf.dispose([x, y]);
        conv.dispose();
      });
    }

    it(`${type}: finite-difference gradients (parameters and input)`, () => {
      const conv = createConvolution(type, { ...base, padding: 1, logSpeedSessions: ['s'], seed: 5 });
      const x = randn([1, 4, 4, 4, 2], 2) as tf.Tensor5D;
      gradCheck(() => conv.forward(x, { session: 's' }), params(conv));
      withInputVariable(x, (v) => gradCheck(() => conv.forward(v as unknown as tf.Tensor5D), { input: v }));
      x.dispose();
      conv.dispose();
    });

    it(`${type}: state-dict round trip gives identical output`, () => {
      const a = createConvolution(type, { ...base, seed: 1, logSpeedSessions: ['s'] });
      const b = createConvolution(type, { ...base, seed: 2, logSpeedSessions: ['s'] });
      if (a instanceof TorchSeparableConv3d) tf.tidy(() => a.logSpeed('s').assign(tf.tensor([0.4])));
      const x = randn([1, 4, 5, 5, 2], 3) as tf.Tensor5D;
      expectRoundTrip(a, b, (m) => (m as SpaceTimeConv).forward(x, { session: 's' }));
      x.dispose();
      a.dispose();
      b.dispose();
    });

    it(`${type}: no tensors leak from forward and gradient`, () => {
      const conv = createConvolution(type, { ...base, padding: 'same' });
      const x = randn([1, 4, 5, 5, 2], 3) as tf.Tensor5D;
      expectNoLeak(() => conv.forward(x), [...conv.trainableParameters().values()]);
      x.dispose();
      conv.dispose();
    });

    it(`${type}: wrong input gives a ShapeError`, () => {
      const conv = createConvolution(type, base);
      const bad = [tf.zeros([1, 4, 5, 5, 3]), tf.zeros([4, 5, 5, 2]), tf.zeros([1, 2, 2, 2, 2])];
      for (const x of bad) expect(() => conv.forward(x as tf.Tensor5D)).toThrow(ShapeError);
      tf.dispose(bad);
      conv.dispose();
    });
  }

  it('separable: exp(log_speed) scales the output and the padding quirk pads every axis of both convs', () => {
    const conv = new TorchSeparableConv3d({ ...base, logSpeedSessions: ['s'], padding: 1 });
    tf.tidy(() => conv.logSpeed('s').assign(tf.tensor([Math.log(2)])));
    // (T, H, W) = (4, 5, 5): space conv (1,3,3) with padding 1 → (6, 5, 5); time conv (3,1,1) with padding 1 → (6, 7, 7).
    expect(conv.outputShape([4, 5, 5, 2])).toEqual([6, 7, 7, 3]);
    const x = randn([1, 4, 5, 5, 2], 4) as tf.Tensor5D;
    const y0 = conv.forward(x);
    const y1 = conv.forward(x, { session: 's' });
    const ratio = tf.tidy(() => tf.max(tf.abs(tf.sub(y1, tf.mul(y0, 2)))).dataSync()[0]!);
    expect(ratio).toBeLessThan(1e-5);
    // timeWeight is the trainable time_conv weight, usable by the temporal Laplace penalty.
    expect(conv.timeWeight.shape).toEqual([3, 3, 3, 1, 1]);
    const reg = new TimeLaplaceL23dnorm({ padding: 0 });
    const { grads, value } = tf.variableGrads(() => reg.forward(conv.timeWeight), [conv.timeWeight]);
    expect(grads[conv.timeWeight.name]).toBeDefined();
    tf.dispose([x, y0, y1, value, ...Object.values(grads)]);
    conv.dispose();
  });

  it('time_independent: weightSpatial is detached (no gradient), current, and not leaked', () => {
    const conv = new TimeIndependentConv3d(base);
    const reg = new FlatLaplaceL23dnorm({ padding: 0 });
    const before = tf.memory().numTensors;
    const w1 = conv.weightSpatial;
    expect(w1.shape).toEqual([3, 2, 1, 3, 3]);
    expect(w1.trainable).toBe(false);
    expect(Array.from(w1.dataSync())).toEqual(Array.from(conv.conv.weight.dataSync()));
    tf.tidy(() => conv.conv.weight.assign(tf.mul(conv.conv.weight, 2)));
    expect(Array.from(conv.weightSpatial.dataSync())).toEqual(Array.from(conv.conv.weight.dataSync()));
    // A penalty through weightSpatial gives conv.weight no gradient.
    const { grads, value } = tf.variableGrads(
      () => tf.add(tf.add(reg.forward(conv.weightSpatial), groupSparsity(conv.weightSpatial)), tf.sum(conv.conv.bias!)) as tf.Scalar,
    );
    expect(grads[conv.conv.weight.name]).toBeUndefined();
    expect(grads[conv.conv.bias!.name]).toBeDefined();
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before + 1); // the one detached variable
    conv.dispose();
    expect(tf.memory().numTensors).toBe(before - 2);
  });
});
