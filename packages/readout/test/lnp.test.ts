import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '@openretina/contracts';
import { LNPReadout, MultipleLNPReadout } from '../src/index.js';
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

describe('LNPReadout / MultipleLNPReadout: parity with OpenRetina 1.1.1 (PyTorch)', () => {
  const cases = {
    lnp_exp: { bias: true, smoothWeight: 0.3, sparseWeight: 0.2 },
    lnp_gauss: { bias: false, smoothWeight: 0.4, sparseWeight: 0.1, smoothRegularizer: 'GaussianLaplaceL2', nonlinearity: 'softplus' },
  } as const;
  for (const [name, opts] of Object.entries(cases)) {
    it(`${name}: output, gradients, regularizer`, () => {
      const m = new MultipleLNPReadout({ inShape: IN_SHAPE, nNeuronsDict: { s1: 3 }, ...opts });
      expect([...m.stateDict().keys()]).toEqual(fxMeta(`keys/${name}`));
      m.loadStateDict(fxStateDict(name));
      m.eval();
      const x = fxInput(name);
      const r = tf.tensor(fxData(`${name}/r`), fx(`${name}/r`).shape);
      const forward = (input: tf.Tensor): tf.Tensor => m.forward(input as tf.Tensor5D, { session: 's1' });
      const y = forward(x);
      expect(y.shape).toEqual([2, 2, 3]);
      expect(relativeError(y.dataSync(), fxData(`${name}/output`))).toBeLessThan(1e-5);
      y.dispose();
      const { grads, gradInput } = lossGradients(m, x, r, forward);
      const expected = ['s1.inner_product_kernel.weight', ...(opts.bias ? ['s1.inner_product_kernel.bias'] : [])];
      expect([...grads.keys()]).toEqual(expected);
      for (const key of expected) expect(relativeError(grads.get(key)!.dataSync(), fxData(`${name}/grad/${key}`)), key).toBeLessThan(1e-5);
      expect(relativeError(toChannelsFirst(gradInput), fxData(`${name}/grad_input`))).toBeLessThan(1e-5);
      for (const red of ['sum', 'mean'] as const) {
        const reg = m.regularizer('s1', red);
        expect(reg.dataSync()[0], red).toBeCloseTo(fxScalar(`${name}/reg_${red}`), 5);
        reg.dispose();
      }
      tf.dispose([x, r, gradInput, ...grads.values()]);
      m.dispose();
    });
  }
});

describe('LNPReadout', () => {
  it('keys, shapes, init (xavier normal weight, uniform conv bias unless mean activity), errors', () => {
    const r = new LNPReadout({ inShape: [2, 9, 4, 6], outDims: 5, bias: true, seed: 4 });
    const sd = r.stateDict();
    expect([...sd.keys()]).toEqual(['inner_product_kernel.weight', 'inner_product_kernel.bias', '_smooth_reg_fn.laplace.filter']);
    expect(sd.get('inner_product_kernel.weight')!.shape).toEqual([5, 2, 1, 4, 6]);
    const bias = sd.get('inner_product_kernel.bias')!.data as Float32Array;
    const bound = 1 / Math.sqrt(2 * 4 * 6);
    expect([...bias].every((v) => Math.abs(v) <= bound)).toBe(true);
    const withMean = new LNPReadout({ inShape: [2, 9, 4, 6], outDims: 2, bias: true, meanActivity: Float32Array.from([0.5, 1.5]) });
    expect([...withMean.innerProductKernel.bias!.dataSync()]).toEqual([0.5, 1.5]);
    const noBias = new LNPReadout({ inShape: [2, 9, 4, 6], outDims: 2 });
    expect([...noBias.stateDict().keys()]).toEqual(['inner_product_kernel.weight', '_smooth_reg_fn.laplace.filter']);
    const x = randomTensor([1, 3, 4, 6, 2], 1) as tf.Tensor5D;
    const y = r.forward(x);
    expect(y.shape).toEqual([1, 3, 5]);
    expect(() => r.forward(randomTensor([1, 3, 5, 6, 2], 1) as tf.Tensor5D)).toThrow(ShapeError);
    expect(() => new LNPReadout({ inShape: [2, 9, 4, 6], outDims: 2, nonlinearity: 'cube' as 'exp' })).toThrow(ConfigError);
    tf.dispose([x, y]);
    [r, withMean, noBias].forEach((m) => m.dispose());
  });

  it('finite-difference gradients, state-dict round trip, no leaks', () => {
    const a = new MultipleLNPReadout({
      inShape: [2, 3, 4, 5],
      nNeuronsDict: { a: 2, b: 3 },
      bias: true,
      seed: 1,
      smoothWeight: 0.1,
      sparseWeight: 0.1,
    });
    const x = randomTensor([2, 3, 4, 5, 2], 6, 0.5) as tf.Tensor5D;
    const fd = finiteDifferenceError(a, x, (i) => a.forward(i as tf.Tensor5D), { eps: 3e-3 });
    expect(fd.worst, fd.where).toBeLessThan(1e-3);
    const b = new MultipleLNPReadout({ inShape: [2, 3, 4, 5], nNeuronsDict: { a: 2, b: 3 }, bias: true, seed: 2 });
    b.loadStateDict(a.stateDict());
    const ya = a.forward(x);
    const yb = b.forward(x);
    expect(ya.shape).toEqual([2, 3, 5]);
    expect([...yb.dataSync()]).toEqual([...ya.dataSync()]);
    const before = tf.memory().numTensors;
    a.forward(x, { session: 'b' }).dispose();
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.add(tf.sum(a.forward(x)), a.regularizer('a'))) as tf.Scalar);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, ya, yb]);
    a.dispose();
    b.dispose();
  });
});
