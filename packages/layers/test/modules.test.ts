import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError, StateDictError } from '@openretina/contracts';
import {
  ConvGRUCell,
  Ensemble,
  FiLM,
  GRUModule,
  Linear,
  ParametrizedELU,
  ParametrizedSoftplus,
  Rng,
  TimeIndependentConv3d,
  WeightedChannelSum,
  torchSoftplus,
} from '../src/index.js';
import { close, expectNoLeak, expectRoundTrip, gradCheck, keysAndShapes, params, randn, withInputVariable } from './helpers.js';

describe('WeightedChannelSum', () => {
  it('gives exact weighted sums of constant channels', () => {
    const x = tf.tidy(() => tf.concat([tf.fill([1, 2, 3, 3, 1], 2), tf.fill([1, 2, 3, 3, 1], 3)], 4) as tf.Tensor5D);
    for (const [w, expected] of [
      [[5, 7], 31],
      [[0.5, 0.5], 2.5],
    ] as const) {
      const m = new WeightedChannelSum([...w]);
      const y = m.forward(x);
      expect(y.shape).toEqual([1, 2, 3, 3, 1]);
      expect(new Set(y.dataSync())).toEqual(new Set([expected]));
      expect(keysAndShapes(m)).toEqual([['channel_weights', [2]]]);
      expect(m.trainableParameters().size).toBe(0);
      y.dispose();
      m.dispose();
    }
    x.dispose();
  });
  it('passes single-channel input through and rejects a channel mismatch', () => {
    const m = new WeightedChannelSum([1, 2, 3]);
    const one = tf.ones([1, 2, 2, 2, 1]);
    const y = m.forward(one);
    expect(Array.from(y.dataSync())).toEqual(Array.from(one.dataSync()));
    expect(() => m.forward(tf.ones([1, 2, 2, 2, 2]))).toThrow(ShapeError);
    tf.dispose([one, y]);
    m.dispose();
  });
  it('trainable weights get gradients (finite differences)', () => {
    const m = new WeightedChannelSum([0.3, 0.7], { trainable: true });
    const x = randn([1, 2, 2, 2, 2], 1);
    gradCheck(() => m.forward(x), params(m));
    x.dispose();
    m.dispose();
  });
});

describe('Linear and FiLM', () => {
  it('Linear: shapes, keys, gradients', () => {
    const lin = new Linear(3, 2, { rng: new Rng(1) });
    expect(keysAndShapes(lin)).toEqual([
      ['weight', [2, 3]],
      ['bias', [2]],
    ]);
    const x = randn([4, 5, 3], 2);
    const y = lin.forward(x);
    expect(y.shape).toEqual([4, 5, 2]);
    gradCheck(() => lin.forward(x), params(lin));
    tf.dispose([x, y]);
    lin.dispose();
  });

  it('FiLM: identity at init, keys/shapes, gradients, round trip, memory, errors', () => {
    const film = new FiLM(3, 2, { seed: 4 });
    expect(keysAndShapes(film)).toEqual([
      ['fc_gamma.weight', [3, 2]],
      ['fc_gamma.bias', [3]],
      ['fc_beta.weight', [3, 2]],
      ['fc_beta.bias', [3]],
    ]);
    expect(Array.from(film.fcGamma.bias!.dataSync())).toEqual([1, 1, 1]);
    const x = randn([2, 4, 3, 3, 3], 1) as tf.Tensor5D;
    const cond = randn([2, 2], 2);
    const y = film.forward(x, cond);
    expect(y.shape).toEqual(x.shape);
    close(y.dataSync(), x.dataSync(), 0.1); // weights ~ N(0, 0.01²): close to the identity
    gradCheck(() => film.forward(x, cond), params(film));
    withInputVariable(cond, (c) => gradCheck(() => film.forward(x, c), { cond: c }));
    const other = new FiLM(3, 2, { seed: 9 });
    expectRoundTrip(film, other, (m) => (m as FiLM).forward(x, cond));
    expectNoLeak(() => film.forward(x, cond), [...film.trainableParameters().values()]);
    expect(() => film.forward(tf.zeros([2, 4, 3, 3, 2]), cond)).toThrow(ShapeError);
    expect(() => film.forward(x, tf.zeros([3, 2]))).toThrow(ShapeError);
    tf.dispose([x, cond, y]);
    film.dispose();
    other.dispose();
  });
});

describe('Ensemble', () => {
  it('averages members, names them members.<i>.*, round-trips and does not leak', () => {
    const make = (seed: number) =>
      new TimeIndependentConv3d({ inChannels: 2, outChannels: 3, temporalKernelSize: 1, spatialKernelSize: 3, bias: true, seed });
    const members = [make(1), make(2), make(3)];
    const ens = new Ensemble(members);
    expect(keysAndShapes(ens)).toEqual([
      ['members.0.conv.weight', [3, 2, 1, 3, 3]],
      ['members.0.conv.bias', [3]],
      ['members.1.conv.weight', [3, 2, 1, 3, 3]],
      ['members.1.conv.bias', [3]],
      ['members.2.conv.weight', [3, 2, 1, 3, 3]],
      ['members.2.conv.bias', [3]],
    ]);
    const x = randn([1, 2, 5, 5, 2], 1) as tf.Tensor5D;
    const y = ens.forward(x);
    const manual = tf.tidy(() => tf.div(tf.addN(members.map((m) => m.forward(x))), 3));
    close(y.dataSync(), manual.dataSync(), 1e-6);
    gradCheck(() => ens.forward(x), params(ens));
    const copy = new Ensemble([make(7), make(8), make(9)]);
    expectRoundTrip(ens, copy, (m) => (m as Ensemble).forward(x));
    expectNoLeak(() => ens.forward(x), [...ens.trainableParameters().values()]);
    ens.eval();
    expect(members.every((m) => !m.training)).toBe(true);
    expect(() => new Ensemble([])).toThrow(ConfigError);
    tf.dispose([x, y, manual]);
    ens.dispose();
    copy.dispose();
  });
});

describe('ConvGRUCell and GRUModule', () => {
  const opts = { inputChannels: 2, recChannels: 3, inputKern: 3, recKern: 3, seed: 11 } as const;

  it('state-dict keys/shapes equal OpenRetina (all six convs, in order), zero biases at init', () => {
    const m = new GRUModule({ ...opts, groups: 1 });
    const keys = keysAndShapes(m);
    const gates = ['reset_gate_input', 'reset_gate_hidden', 'update_gate_input', 'update_gate_hidden', 'out_gate_input', 'out_gate_hidden'];
    expect(keys).toEqual(
      gates.flatMap((g) => [
        [`gru.${g}.weight`, [3, g.endsWith('input') ? 2 : 3, 3, 3]],
        [`gru.${g}.bias`, [3]],
      ]),
    );
    for (const g of gates) expect(Math.max(...m.gru.gate(g as 'reset_gate_input').bias!.dataSync())).toBe(0);
    m.dispose();
  });

  it('shapes: padded, unpadded (state shrinks by input_kern − 1), unbatched', () => {
    const x = randn([2, 4, 6, 5, 2], 1);
    const a = new GRUModule(opts);
    const b = new GRUModule({ ...opts, padInput: false });
    const ya = a.forward(x);
    const yb = b.forward(x);
    expect(ya.shape).toEqual([2, 4, 6, 5, 3]);
    expect(yb.shape).toEqual([2, 4, 4, 3, 3]);
    const x4 = tf.tidy(() => tf.squeeze(tf.slice(x, [1, 0, 0, 0, 0], [1, -1, -1, -1, -1]), [0]));
    const y4 = a.forward(x4);
    expect(y4.shape).toEqual([4, 6, 5, 3]);
    const ya1 = tf.tidy(() => tf.squeeze(tf.slice(ya, [1, 0, 0, 0, 0], [1, -1, -1, -1, -1]), [0]));
    close(y4.dataSync(), ya1.dataSync(), 1e-6);
    expect(() => a.forward(tf.zeros([2, 4, 6, 5, 3]))).toThrow(ShapeError);
    expect(() => a.forward(tf.zeros([4, 6, 5]))).toThrow(ShapeError);
    expect(() => new GRUModule({ ...opts, recKern: 2 })).toThrow(ConfigError);
    expect(() => new GRUModule({ ...opts, groups: 2 })).toThrow(ConfigError); // 2 and 3 channels: not divisible
    tf.dispose([x, ya, yb, x4, y4, ya1]);
    a.dispose();
    b.dispose();
  });

  it('the module equals looping the cell over frames from a zero state', () => {
    const m = new GRUModule(opts);
    const x = randn([1, 3, 4, 4, 2], 2);
    const y = m.forward(x);
    const manual = tf.tidy(() => {
      let h: tf.Tensor4D | undefined;
      const states: tf.Tensor4D[] = [];
      for (let t = 0; t < 3; t++) {
        const frame = tf.squeeze(tf.slice(x, [0, t, 0, 0, 0], [-1, 1, -1, -1, -1]), [1]) as tf.Tensor4D;
        h = m.gru.forward(frame, h);
        states.push(h);
      }
      return tf.stack(states, 1);
    });
    close(y.dataSync(), manual.dataSync(), 1e-6);
    tf.dispose([x, y, manual]);
    m.dispose();
  });

  it('finite-difference gradients (parameters and input), grouped convs included', () => {
    const m = new GRUModule({ inputChannels: 2, recChannels: 4, inputKern: 3, recKern: 3, groups: 2, seed: 3 });
    // Non-zero biases so every parameter matters.
    tf.tidy(() => {
      for (const [k, v] of m.trainableParameters()) if (k.endsWith('bias')) v.assign(randn(v.shape, 5, 0.3));
    });
    const x = randn([1, 3, 4, 4, 2], 4);
    gradCheck(() => m.forward(x), params(m), { samples: 2 });
    withInputVariable(x, (v) => gradCheck(() => m.forward(v), { input: v }));
    x.dispose();
    m.dispose();
  });

  it('bias_l1 uses the update-gate hidden WEIGHT (quirk) and regularizer = gamma_rec·bias_l1', () => {
    const cell = new ConvGRUCell({ ...opts, gammaRec: 0.5 });
    tf.tidy(() => {
      cell.gate('reset_gate_hidden').bias!.assign(tf.tensor([1, -2, 3]));
      cell.gate('out_gate_hidden').bias!.assign(tf.tensor([-0.5, 0, 0.5]));
      cell.gate('update_gate_hidden').bias!.assign(tf.tensor([100, 100, 100]));
    });
    const wMeanAbs =
      Array.from(cell.gate('update_gate_hidden').weight.dataSync()).reduce((s: number, v: number) => s + Math.abs(v), 0) / 81;
    const expected = 2 / 3 + wMeanAbs / 3 + 1 / 3 / 3;
    const l1 = cell.biasL1();
    const reg = cell.regularizer();
    close(l1.dataSync(), [expected], 1e-6);
    close(reg.dataSync(), [0.5 * expected], 1e-6);
    tf.dispose([l1, reg]);
    cell.dispose();
  });

  it('round trip and no leaks', () => {
    const a = new GRUModule({ ...opts, seed: 1 });
    const b = new GRUModule({ ...opts, seed: 2 });
    const x = randn([1, 3, 4, 4, 2], 6);
    expectRoundTrip(a, b, (m) => (m as GRUModule).forward(x));
    expectNoLeak(() => a.forward(x), [...a.trainableParameters().values()]);
    const before = tf.memory().numTensors;
    tf.dispose(a.regularizer());
    expect(tf.memory().numTensors).toBe(before);
    const bad = new Map(a.stateDict());
    bad.delete('gru.out_gate_hidden.bias');
    expect(() => b.loadStateDict(bad)).toThrow(StateDictError);
    x.dispose();
    a.dispose();
    b.dispose();
  });
});

describe('ParametrizedELU and ParametrizedSoftplus', () => {
  it('formulas, state dicts, gradients, round trip, memory', () => {
    const xs = [-3, -1, -0.1, 0, 0.2, 2, 25];
    const x = tf.tensor(xs);
    const elu = new ParametrizedELU({ a: 1.3, b: 0.7, c: 0.9 });
    close(
      elu.forward(x).dataSync(),
      xs.map((v) => (v > 0 ? 0.9 * v : 1.3 * (Math.exp(v / 0.7) - 1))),
      1e-6,
    );
    expect(keysAndShapes(elu)).toEqual([
      ['a', []],
      ['b', []],
      ['c', []],
    ]);
    const sp = new ParametrizedSoftplus({ a: 1.5, b: 0.2, w: 0.8 });
    const softplus = (z: number) => (z > 20 ? z : Math.log1p(Math.exp(z)));
    close(
      sp.forward(x).dataSync(),
      xs.map((v) => 0.8 * softplus(1.5 * v + 0.2)),
      1e-6,
    );
    expect(keysAndShapes(sp)).toEqual([
      ['b', []],
      ['w', []],
    ]);
    const spA = new ParametrizedSoftplus({ learnA: true });
    expect(keysAndShapes(spA).map(([k]) => k)).toEqual(['a', 'b', 'w']);
    close(torchSoftplus(tf.tensor([30, 0])).dataSync(), [30, Math.log(2)], 1e-7);

    const xr = randn([3, 4], 2, 1.5);
    gradCheck(() => elu.forward(xr), params(elu));
    gradCheck(() => spA.forward(xr), params(spA));
    withInputVariable(xr, (v) => gradCheck(() => elu.forward(v), { input: v }));
    // Large positive inputs give finite parameter gradients (the exp branch is not evaluated there).
    const big = tf.tensor([200, -1]);
    const { grads, value } = tf.variableGrads(() => tf.sum(elu.forward(big)) as tf.Scalar, [elu.a, elu.b, elu.c]);
    for (const g of Object.values(grads)) expect(Number.isFinite(g.dataSync()[0])).toBe(true);
    tf.dispose([big, value, ...Object.values(grads)]);

    const elu2 = new ParametrizedELU();
    expectRoundTrip(elu, elu2, (m) => (m as ParametrizedELU).forward(xr));
    expectNoLeak(() => sp.forward(xr), [sp.b, sp.w]);
    expectNoLeak(() => elu.forward(xr), [elu.a, elu.b, elu.c]);
    tf.dispose([x, xr]);
    for (const m of [elu, elu2, sp, spA]) m.dispose();
  });
});
