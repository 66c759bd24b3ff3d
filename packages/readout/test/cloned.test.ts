import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError, UnsupportedError } from '@openretina/contracts';
import {
  ClonedReadout,
  GaussianMaskReadout,
  MultiFactorizedReadout,
  MultiGaussianMaskReadout,
  MultiSampledGaussianReadout,
  PointGaussianReadout,
} from '../src/index.js';
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

describe('ClonedReadout: parity with OpenRetina 1.1.1 (PyTorch)', () => {
  it('clone_gm: source(x)·alpha + beta, gradients, feature_l1', () => {
    const source = new GaussianMaskReadout({ inShape: [3, 2, 4, 5], outDims: 4, gaussianMeanScale: 2, gaussianVarScale: 1.5, scale: true });
    const m = new ClonedReadout(source);
    expect([...m.stateDict().keys()]).toEqual(fxMeta('keys/clone_gm'));
    m.loadStateDict(fxStateDict('clone_gm'));
    m.eval();
    const x = fxInput('clone_gm');
    const r = tf.tensor(fxData('clone_gm/r'), fx('clone_gm/r').shape);
    const forward = (input: tf.Tensor): tf.Tensor => m.forward(input as tf.Tensor5D);
    const y = forward(x);
    expect(relativeError(y.dataSync(), fxData('clone_gm/output'))).toBeLessThan(1e-5);
    y.dispose();
    const { grads, gradInput } = lossGradients(m, x, r, forward);
    for (const [key, g] of grads) expect(relativeError(g.dataSync(), fxData(`clone_gm/grad/${key}`)), key).toBeLessThan(1e-5);
    expect([...grads.keys()]).toEqual([
      'alpha',
      'beta',
      '_source.mask_mean',
      '_source.mask_log_var',
      '_source.features',
      '_source.scale_param',
      '_source.bias',
    ]);
    expect(relativeError(toChannelsFirst(gradInput), fxData('clone_gm/grad_input'))).toBeLessThan(1e-5);
    for (const [avg, key] of [
      [true, 'mean'],
      [false, 'sum'],
    ] as const) {
      const l1 = m.featureL1(avg);
      expect(l1.dataSync()[0]).toBeCloseTo(fxScalar(`clone_gm/feature_l1_${key}`), 5);
      l1.dispose();
    }
    expect(() => m.regularizer()).toThrow(UnsupportedError);
    tf.dispose([x, r, gradInput, ...grads.values()]);
    m.dispose();
    // The clone does not own its source.
    expect(source.features.isDisposed).toBe(false);
    source.dispose();
  });
});

describe('cloneReadout in the multi-session readouts', () => {
  it('later sessions clone the first: OpenRetina keys, shared variables listed once, training updates both', () => {
    const m = new MultiSampledGaussianReadout({
      inShape: [3, 5, 4, 6],
      nNeuronsDict: { s1: 3, s2: 3 },
      cloneReadout: true,
      bias: true,
      initMuRange: 0.1,
      initSigmaRange: 0.15,
    });
    const sd = m.stateDict();
    expect([...sd.keys()]).toEqual(fxMeta('keys/clone_multi_point_gaussian'));
    const shapes = fxMeta('shapes/clone_multi_point_gaussian') as Record<string, number[]>;
    for (const [k, t] of sd) expect(t.shape, k).toEqual(shapes[k]);
    expect(m.readout('s2')).toBeInstanceOf(ClonedReadout);
    expect((m.readout('s2') as ClonedReadout).source).toBe(m.readout('s1'));
    expect([...m.namedParameters().keys()]).toEqual(['s1._mu', 's1.sigma', 's1._features', 's1.bias', 's2.alpha', 's2.beta']);
    m.eval();
    const x = randomTensor([2, 2, 4, 6, 3], 1) as tf.Tensor5D;
    tf.tidy(() => {
      const c = m.readout('s2') as ClonedReadout;
      c.alpha.assign(tf.tensor1d([2, 1, 0.5]));
      c.beta.assign(tf.tensor1d([0.1, 0, -0.1]));
    });
    const y1 = m.forward(x, { session: 's1' });
    const y2 = m.forward(x, { session: 's2' });
    // s2 = softplus(point(x)·alpha + beta) with the same point readout as s1 = softplus(point(x)).
    const pre = tf.tidy(() =>
      tf.add(tf.mul((m.readout('s1') as PointGaussianReadout).forward(x), tf.tensor1d([2, 1, 0.5])), tf.tensor1d([0.1, 0, -0.1])),
    );
    const expected = tf.softplus(pre);
    expect(relativeError(y2.dataSync(), expected.dataSync())).toBeLessThan(1e-6);
    // Round trip through the state dict (both names of the shared entries load).
    const other = new MultiSampledGaussianReadout({ inShape: [3, 5, 4, 6], nNeuronsDict: { s1: 3, s2: 3 }, cloneReadout: true, seed: 9 });
    other.loadStateDict(m.stateDict());
    other.eval();
    const o2 = other.forward(x, { session: 's2' });
    expect([...o2.dataSync()]).toEqual([...y2.dataSync()]);
    expect(() => m.regularizer('s2')).toThrow(UnsupportedError);
    // Sessions added later get their own readout.
    m.addSessions({ s3: 2 });
    expect(m.readout('s3')).toBeInstanceOf(PointGaussianReadout);
    const all = m.forward(x);
    expect(all.shape).toEqual([2, 2, 8]);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.sum(m.forward(x))) as tf.Scalar);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y1, y2, pre, expected, o2, all]);
    m.dispose();
    other.dispose();
  });

  it('finite differences through a clone; clone errors', () => {
    const m = new MultiFactorizedReadout({
      inShape: [2, 2, 4, 5],
      nNeuronsDict: { a: 2, b: 2 },
      cloneReadout: true,
      maskL1Reg: 1,
      weightsL1Reg: 1,
      laplaceMaskReg: 1,
      readoutBias: true,
      initScales: [
        [0, 0.3],
        [0, 0.3],
      ],
    });
    tf.tidy(() => (m.readout('b') as ClonedReadout).alpha.assign(tf.tensor1d([1.5, -0.5])));
    const x = randomTensor([1, 2, 4, 5, 2], 2) as tf.Tensor5D;
    const fd = finiteDifferenceError(m, x, (i) => m.forward(i as tf.Tensor5D, { session: 'b' }));
    expect(fd.worst, fd.where).toBeLessThan(1e-3);
    x.dispose();
    m.dispose();
    expect(
      () =>
        new MultiFactorizedReadout({
          inShape: [2, 2, 4, 5],
          nNeuronsDict: { a: 2, b: 3 },
          cloneReadout: true,
          maskL1Reg: 1,
          weightsL1Reg: 1,
          laplaceMaskReg: 1,
          initScales: [
            [0, 1],
            [0, 1],
          ],
        }),
    ).toThrow(ConfigError);
    expect(
      () =>
        new MultiGaussianMaskReadout({ inShape: [2, 2, 4, 5], nNeuronsDict: { a: 2, b: 2 }, cloneReadout: true } as ConstructorParameters<
          typeof MultiGaussianMaskReadout
        >[0]),
    ).toThrow(ConfigError);
  });
});
