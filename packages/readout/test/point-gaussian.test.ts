import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '@openretina/contracts';
import { MultiSampledGaussianReadout, PointGaussianReadout, FullGaussian2d, bilinearSamplingMatrix, type GaussType } from '../src/index.js';
import {
  finiteDifferenceError,
  fx,
  fxData,
  fxInput,
  fxMeta,
  fxScalar,
  fxStateDict,
  lossGradients,
  randomTensor,
  relativeError,
  toChannelsFirst,
} from './helpers.js';

const IN_SHAPE = [3, 2, 4, 5] as const;

function fixtureReadout(gaussType: GaussType, alignCorners = true): MultiSampledGaussianReadout {
  return new MultiSampledGaussianReadout({
    inShape: IN_SHAPE,
    nNeuronsDict: { s1: 4 },
    bias: true,
    initMuRange: 0.5,
    initSigmaRange: 0.3,
    gaussType,
    gamma: 0.7,
    alignCorners,
  });
}

const CASES: [string, GaussType, boolean, boolean][] = [
  ['pg_full_eval', 'full', false, true],
  ['pg_isotropic_eval', 'isotropic', false, true],
  ['pg_full_train', 'full', true, true],
  ['pg_uncorrelated_train', 'uncorrelated', true, true],
  ['pg_isotropic_train', 'isotropic', true, true],
  ['pg_full_train_noalign', 'full', true, false],
];

describe('PointGaussianReadout / MultiSampledGaussianReadout: parity with OpenRetina 1.1.1 (PyTorch)', () => {
  for (const [name, gaussType, training, alignCorners] of CASES) {
    it(`${name}: output, in-place mu clamp, gradients, regularizer`, () => {
      const m = fixtureReadout(gaussType, alignCorners);
      expect([...m.stateDict().keys()]).toEqual(fxMeta(`keys/${name}`));
      m.loadStateDict(fxStateDict(name));
      m.train(training);
      const x = fxInput(name);
      const r = tf.tensor(fxData(`${name}/r`), fx(`${name}/r`).shape);
      const noise = training ? tf.tensor(fxData(`${name}/noise`), fx(`${name}/noise`).shape) : undefined;
      const forward = (input: tf.Tensor): tf.Tensor => m.forward(input as tf.Tensor5D, { session: 's1', ...(noise ? { noise } : {}) });
      const y = forward(x);
      expect(y.shape).toEqual(fx(`${name}/output`).shape);
      expect(relativeError(y.dataSync(), fxData(`${name}/output`))).toBeLessThan(1e-5);
      y.dispose();
      // The forward clamped _mu in place, as PyTorch's.
      for (const [k, t] of fxStateDict(name, 'state_after')) {
        expect(relativeError(m.stateDict().get(k)!.data as Float32Array, t.data as Float32Array), k).toBe(0);
      }
      const { grads, gradInput } = lossGradients(m, x, r, forward);
      for (const key of ['s1._mu', 's1.sigma', 's1._features', 's1.bias']) {
        const g = grads.get(key);
        expect(g, key).toBeDefined();
        expect(relativeError(g!.dataSync(), fxData(`${name}/grad/${key}`)), key).toBeLessThan(1e-4);
      }
      expect(relativeError(toChannelsFirst(gradInput), fxData(`${name}/grad_input`))).toBeLessThan(1e-5);
      for (const red of ['sum', 'mean'] as const) {
        const reg = m.regularizer('s1', red);
        expect(reg.dataSync()[0]).toBeCloseTo(fxScalar(`${name}/reg_${red}`), 5);
        reg.dispose();
      }
      tf.dispose([x, r, gradInput, ...grads.values(), ...(noise ? [noise] : [])]);
      m.dispose();
    });
  }
});

describe('PointGaussianReadout', () => {
  it('has OpenRetina state-dict keys and shapes for each gauss type, and validates its options', () => {
    for (const [type, shape] of [
      ['full', [1, 7, 2, 2]],
      ['uncorrelated', [1, 7, 1, 2]],
      ['isotropic', [1, 7, 1, 1]],
    ] as const) {
      const r = new PointGaussianReadout({ inShape: [3, 5, 4, 6], outDims: 7, gaussType: type });
      const sd = r.stateDict();
      expect([...sd.keys()]).toEqual(['_mu', 'sigma', '_features', 'bias']);
      expect(sd.get('_mu')!.shape).toEqual([1, 7, 1, 2]);
      expect(sd.get('sigma')!.shape).toEqual(shape);
      expect(sd.get('_features')!.shape).toEqual([1, 3, 1, 7]);
      // Init ranges: |mu| ≤ 0.1, sigma U(±0.15) (full) or 0.15, features 1/c, bias 0.
      expect(Math.max(...(sd.get('_mu')!.data as Float32Array).map(Math.abs))).toBeLessThanOrEqual(0.1);
      const sig = sd.get('sigma')!.data as Float32Array;
      if (type === 'full') expect(Math.max(...sig.map(Math.abs))).toBeLessThanOrEqual(0.15);
      else expect([...sig].every((v) => Math.abs(v - 0.15) < 1e-7)).toBe(true);
      expect([...(sd.get('_features')!.data as Float32Array)].every((v) => Math.abs(v - 1 / 3) < 1e-7)).toBe(true);
      r.dispose();
    }
    const noBias = new PointGaussianReadout({ inShape: [3, 5, 4, 6], outDims: 2, bias: false });
    expect([...noBias.stateDict().keys()]).toEqual(['_mu', 'sigma', '_features']);
    noBias.dispose();
    expect(new FullGaussian2d({ inShape: [3, 5, 4, 6], outDims: 2 })).toBeInstanceOf(PointGaussianReadout);
    expect(() => new PointGaussianReadout({ inShape: [3, 5, 4, 6], outDims: 2, initMuRange: 1.5 })).toThrow(ConfigError);
    expect(() => new PointGaussianReadout({ inShape: [3, 5, 4, 6], outDims: 2, initSigmaRange: 0 })).toThrow(ConfigError);
    expect(() => new PointGaussianReadout({ inShape: [3, 5, 4, 6], outDims: 2, gaussType: 'iso' as GaussType })).toThrow(ConfigError);
    expect(() => new PointGaussianReadout({ inShape: [3, 5, 4, 6], outDims: 2, sharedGrid: {} as never })).toThrow(
      /sharedGrid: match_ids must be set/,
    );
  });

  it('maps [B, T, h, w, c] to [B, T, N]; samples per (batch·time) element in training, the mean in eval; seeded', () => {
    const r = new PointGaussianReadout({ inShape: [3, 5, 4, 6], outDims: 4, seed: 3, initSigmaRange: 0.5 });
    const x1 = randomTensor([1, 1, 4, 6, 3], 5);
    const x = tf.tile(x1, [2, 3, 1, 1, 1]) as tf.Tensor5D; // identical frames
    r.eval();
    const ye = r.forward(x);
    expect(ye.shape).toEqual([2, 3, 4]);
    const e = ye.arraySync() as number[][][];
    expect(e[1]![2]).toEqual(e[0]![0]);
    r.train();
    const yt = r.forward(x);
    const t = yt.arraySync() as number[][][];
    expect(t[0]![1]).not.toEqual(t[0]![0]);
    expect(t[1]![0]).not.toEqual(t[0]![0]);
    const twin = new PointGaussianReadout({ inShape: [3, 5, 4, 6], outDims: 4, seed: 3, initSigmaRange: 0.5 });
    const yt2 = twin.forward(x);
    expect(yt2.arraySync()).toEqual(t);
    // Without batch sampling one draw serves the whole batch.
    const single = new PointGaussianReadout({ inShape: [3, 5, 4, 6], outDims: 4, seed: 3, batchSample: false, initSigmaRange: 0.5 });
    const ys = single.forward(x).arraySync() as number[][][];
    expect(ys[1]![2]).toEqual(ys[0]![0]);
    expect(() => r.forward(randomTensor([1, 1, 4, 5, 3], 1) as tf.Tensor5D)).toThrow(ShapeError);
    tf.dispose([x1, x, ye, yt, yt2]);
    [r, twin, single].forEach((m) => m.dispose());
  });

  it('bilinear sampling matrix equals grid_sample at pixel centres, between pixels and with zero padding', () => {
    const grid = tf.tensor3d([
      [
        [-1, -1],
        [1, 1],
        [0, 0],
        [1.5, 0],
      ],
    ]); // (x, y)
    const s = bilinearSamplingMatrix(grid, 3, 5, true).arraySync()[0]!;
    expect(s[0]![0]).toBe(1); // top-left pixel
    expect(s[1]![14]).toBe(1); // bottom-right pixel
    expect(s[2]![7]).toBeCloseTo(1, 6); // centre pixel (row 1, col 2)
    expect(s[3]!.every((v) => v === 0)).toBe(true); // x = 1.5 → ix = 5 + ... outside: all corners out of bounds
    const s2 = bilinearSamplingMatrix(tf.tensor3d([[[-0.75, 0]]]), 3, 5, true).arraySync()[0]![0]!;
    expect(s2[5]).toBeCloseTo(0.5, 6); // ix = 0.5 between cols 0 and 1 of row 1
    expect(s2[6]).toBeCloseTo(0.5, 6);
    grid.dispose();
  });

  it('finite-difference gradients (eval and training with a fixed draw)', () => {
    for (const type of ['full', 'uncorrelated', 'isotropic'] as const) {
      const r = new PointGaussianReadout({ inShape: [3, 2, 4, 6], outDims: 3, seed: 11, gaussType: type, initMuRange: 0.05 });
      tf.tidy(() => r.features.assign(randomTensor([1, 3, 1, 3], 4)));
      const x = randomTensor([2, 2, 4, 6, 3], 8);
      r.eval();
      const ev = finiteDifferenceError(r, x, (i) => r.forward(i as tf.Tensor5D), { params: ['_mu', '_features', 'bias'] });
      expect(ev.worst, ev.where).toBeLessThan(1e-3);
      r.train();
      const noise = randomTensor([4, 3, 1, 2], 21, 0.2);
      const tr = finiteDifferenceError(r, x, (i) => r.forward(i as tf.Tensor5D, { noise }), { eps: 3e-3 });
      expect(tr.worst, `${type}: ${tr.where}`).toBeLessThan(1e-3);
      tf.dispose([x, noise]);
      r.dispose();
    }
  });

  it('state-dict round trip gives identical outputs', () => {
    const a = new MultiSampledGaussianReadout({
      inShape: [3, 2, 4, 6],
      nNeuronsDict: { a: 3, b: 2 },
      seed: 1,
      bias: true,
      initMuRange: 0.3,
      initSigmaRange: 0.2,
    });
    const b = new MultiSampledGaussianReadout({
      inShape: [3, 2, 4, 6],
      nNeuronsDict: { a: 3, b: 2 },
      seed: 2,
      bias: true,
      initMuRange: 0.3,
      initSigmaRange: 0.2,
    });
    expect([...a.stateDict().keys()]).toEqual(['a._mu', 'a.sigma', 'a._features', 'a.bias', 'b._mu', 'b.sigma', 'b._features', 'b.bias']);
    a.eval();
    b.eval();
    const x = randomTensor([2, 2, 4, 6, 3], 3) as tf.Tensor5D;
    const ya = a.forward(x);
    const yb0 = b.forward(x);
    expect(relativeError(yb0.dataSync(), ya.dataSync())).toBeGreaterThan(1e-3);
    b.loadStateDict(a.stateDict());
    const yb = b.forward(x);
    expect(ya.shape).toEqual([2, 2, 5]);
    expect([...yb.dataSync()]).toEqual([...ya.dataSync()]);
    tf.dispose([x, ya, yb0, yb]);
    a.dispose();
    b.dispose();
  });

  it('leaves no tensors behind after a forward and a gradient', () => {
    const m = new MultiSampledGaussianReadout({
      inShape: [3, 2, 4, 6],
      nNeuronsDict: { a: 3, b: 2 },
      seed: 1,
      bias: true,
      initMuRange: 0.3,
      initSigmaRange: 0.2,
    });
    const x = randomTensor([2, 2, 4, 6, 3], 3) as tf.Tensor5D;
    for (const training of [true, false]) {
      m.train(training);
      const before = tf.memory().numTensors;
      m.forward(x).dispose();
      m.forward(x, { session: 'b' }).dispose();
      expect(tf.memory().numTensors).toBe(before);
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.add(tf.sum(m.forward(x)), m.regularizer('a'))) as tf.Scalar);
      tf.dispose([value, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);
    }
    x.dispose();
    m.dispose();
  });
});
