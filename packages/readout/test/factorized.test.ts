import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '@openretina/contracts';
import {
  FactorizedReadout,
  KlindtReadoutWrapper3D,
  MultiFactorizedReadout,
  type FactorizedMaskConstraint,
  type FactorizedWeightsConstraint,
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

const IN_SHAPE = [3, 2, 4, 5] as const;
const CASES: [string, FactorizedWeightsConstraint | null, FactorizedMaskConstraint | null, boolean][] = [
  ['fac_absnorm_abs', 'absnorm', 'abs', true],
  ['fac_norm', 'norm', null, false],
  ['fac_abs', 'abs', null, true],
  ['fac_none', null, null, true],
];

function build(
  weightsConstraint: FactorizedWeightsConstraint | null,
  maskConstraint: FactorizedMaskConstraint | null,
  readoutBias: boolean,
  seed = 0,
) {
  return new MultiFactorizedReadout({
    inShape: IN_SHAPE,
    nNeuronsDict: { s1: 3 },
    maskL1Reg: 0.5,
    weightsL1Reg: 0.7,
    laplaceMaskReg: 1.3,
    readoutBias,
    weightsConstraint,
    maskConstraint,
    initScales: [
      [0, 0.2],
      [0, 0.3],
    ],
    seed,
  });
}

describe('FactorizedReadout / MultiFactorizedReadout: parity with OpenRetina 1.1.1 (PyTorch)', () => {
  for (const [name, wc, mc, readoutBias] of CASES) {
    it(`${name}: in-place constraints, output, gradients, regularizer`, () => {
      const m = build(wc, mc, readoutBias);
      expect([...m.stateDict().keys()]).toEqual(fxMeta(`keys/${name}`));
      m.loadStateDict(fxStateDict(name));
      m.eval();
      const reg0 = m.regularizer('s1');
      expect(reg0.dataSync()[0]).toBeCloseTo(fxScalar(`${name}/reg_before_sum`), 4);
      reg0.dispose();
      const x = fxInput(name);
      const r = tf.tensor(fxData(`${name}/r`), fx(`${name}/r`).shape);
      const forward = (input: tf.Tensor): tf.Tensor => m.forward(input as tf.Tensor5D, { session: 's1' });
      const y = forward(x);
      expect(relativeError(y.dataSync(), fxData(`${name}/output`))).toBeLessThan(1e-5);
      y.dispose();
      for (const [k, t] of fxStateDict(name, 'state_after')) {
        expect(relativeError(m.stateDict().get(k)!.data as Float32Array, t.data as Float32Array), k).toBeLessThan(1e-6);
      }
      // The gradient pass runs the forward (and its in-place constraints) again: start from the same state.
      m.loadStateDict(fxStateDict(name));
      const { grads, gradInput } = lossGradients(m, x, r, forward);
      const expected = ['s1.mask_weights', 's1.feature_weights', ...(readoutBias ? ['s1.bias'] : [])];
      expect([...grads.keys()].sort()).toEqual(expected.sort());
      for (const key of expected) expect(relativeError(grads.get(key)!.dataSync(), fxData(`${name}/grad/${key}`)), key).toBeLessThan(1e-5);
      expect(relativeError(toChannelsFirst(gradInput), fxData(`${name}/grad_input`))).toBeLessThan(1e-5);
      for (const red of ['sum', 'mean'] as const) {
        const reg = m.regularizer('s1', red);
        expect(reg.dataSync()[0], red).toBeCloseTo(fxScalar(`${name}/reg_${red}`), 4);
        reg.dispose();
      }
      tf.dispose([x, r, gradInput, ...grads.values()]);
      m.dispose();
    });
  }

  it('init_mask: centre crop of [N, 1, H0, W0]; init_weights', () => {
    const initMask = tf.tensor(fxData('fac_init_mask/init_mask'), fx('fac_init_mask/init_mask').shape);
    const initWeights = { data: fxData('fac_init_mask/feature_weights'), shape: [3, 3] };
    const r = new FactorizedReadout({
      inShape: IN_SHAPE,
      outDims: 3,
      maskL1Reg: 1,
      weightsL1Reg: 1,
      laplaceMaskReg: 1,
      initMask,
      initWeights,
    });
    expect(r.maskWeights.shape).toEqual([20, 3]);
    expect([...r.maskWeights.dataSync()]).toEqual([...fxData('fac_init_mask/mask_weights')]);
    expect([...r.featureWeights.dataSync()]).toEqual([...fxData('fac_init_mask/feature_weights')]);
    initMask.dispose();
    r.dispose();
  });
});

describe('FactorizedReadout', () => {
  it('state-dict keys and shapes; options validated; wrong input shape rejected', () => {
    const r = new KlindtReadoutWrapper3D({
      inShape: [3, 5, 4, 6],
      outDims: 7,
      maskL1Reg: 1,
      weightsL1Reg: 1,
      laplaceMaskReg: 1,
      initScales: [
        [0, 0.1],
        [0, 0.1],
      ],
    });
    expect(r).toBeInstanceOf(FactorizedReadout);
    const sd = r.stateDict();
    expect([...sd.keys()]).toEqual(['mask_weights', 'feature_weights', 'bias', '_input_weights_regularizer_spatial.laplace.filter']);
    expect(sd.get('mask_weights')!.shape).toEqual([24, 7]);
    expect(sd.get('feature_weights')!.shape).toEqual([3, 7]);
    expect(r.trainableParameters().has('bias')).toBe(false); // a zero buffer without readoutBias
    const x = randomTensor([2, 3, 4, 6, 3], 1) as tf.Tensor5D;
    const y = r.forward(x);
    expect(y.shape).toEqual([2, 3, 7]);
    expect(() => r.forward(randomTensor([2, 3, 4, 5, 3], 1) as tf.Tensor5D)).toThrow(ShapeError);
    expect(() => new FactorizedReadout({ inShape: [3, 5, 4, 6], outDims: 2, maskL1Reg: 1, weightsL1Reg: 1, laplaceMaskReg: 1 })).toThrow(
      ConfigError,
    );
    expect(
      () =>
        new FactorizedReadout({
          inShape: [3, 5, 4, 6],
          outDims: 2,
          maskL1Reg: 1,
          weightsL1Reg: 1,
          laplaceMaskReg: 1,
          initScales: [
            [0, 1],
            [0, 1],
          ],
          weightsConstraint: 'l2' as 'abs',
        }),
    ).toThrow(ConfigError);
    tf.dispose([x, y]);
    r.dispose();
  });

  it('finite-difference gradients', () => {
    const m = build(null, null, true, 5);
    const x = randomTensor([2, 2, 4, 5, 3], 2) as tf.Tensor5D;
    const fd = finiteDifferenceError(m, x, (i) => m.forward(i as tf.Tensor5D, { session: 's1' }));
    expect(fd.worst, fd.where).toBeLessThan(1e-3);
    // The regularizer's gradient too (loss = regularizer).
    const vars = [...m.trainableParameters().values()];
    const { grads } = tf.variableGrads(() => m.regularizer('s1'), vars);
    const mask = m.readout('s1') as FactorizedReadout;
    const g = grads[mask.maskWeights.name]!.dataSync();
    const i = 7;
    const base = mask.maskWeights.dataSync().slice();
    const at = (v: number): number => {
      const d = base.slice();
      d[i] = v;
      tf.tidy(() => mask.maskWeights.assign(tf.tensor(d, mask.maskWeights.shape)));
      const s = m.regularizer('s1');
      const out = s.dataSync()[0]!;
      s.dispose();
      return out;
    };
    const num = (at(base[i]! + 1e-2) - at(base[i]! - 1e-2)) / 2e-2;
    at(base[i]!);
    expect(Math.abs(num - g[i]!) / Math.abs(g[i]!)).toBeLessThan(1e-2);
    tf.dispose(Object.values(grads));
    x.dispose();
    m.dispose();
  });

  it('state-dict round trip and no leaks', () => {
    const a = build('absnorm', 'abs', true, 1);
    const b = build('absnorm', 'abs', true, 2);
    const x = randomTensor([2, 2, 4, 5, 3], 3) as tf.Tensor5D;
    b.loadStateDict(a.stateDict());
    // Same state on both sides (the constraints act in place at every forward, as in OpenRetina).
    const ya = a.forward(x);
    const yb = b.forward(x);
    expect([...yb.dataSync()]).toEqual([...ya.dataSync()]);
    const before = tf.memory().numTensors;
    a.forward(x).dispose();
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.add(tf.sum(a.forward(x)), a.regularizer('s1', 'mean'))) as tf.Scalar);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, ya, yb]);
    a.dispose();
    b.dispose();
  });
});
