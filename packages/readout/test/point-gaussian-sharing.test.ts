// OpenRetina's PointGaussianReadout options beyond the plain readout: shared features, shared grids (own or another
// readout's, through mu_transform), the grid-mean predictor and shift, against fixtures made by OpenRetina 1.1.1
// (make_readout_fixtures.py).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@openretina/contracts';
import { ClonedReadout, MultiSampledGaussianReadout, PointGaussianReadout, type MultiSampledGaussianReadoutOptions } from '../src/index.js';
import { fx, fxData, fxInput, fxMeta, fxScalar, fxStateDict, lossGradients, relativeError, toChannelsFirst } from './helpers.js';

const IN_SHAPE = [3, 2, 4, 5] as const;
const MATCH_FEATURES = [2, 0, 0, 1, 2];
const MATCH_GRID = [1, 1, 0, 3, 0];

/** A fixture tensor as a TF.js tensor of its PyTorch shape. */
function fxTensor(name: string): tf.Tensor {
  return tf.tensor(fxData(name), fx(name).shape);
}

/** PyTorch `(M, c, h, w)` feature maps as channels-last `[M, h, w, c]`. */
function fxFlatInput(name: string): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(fxTensor(name), [0, 2, 3, 1]) as tf.Tensor4D);
}

/** State-dict values as plain numbers (int64 index buffers included). */
function values(data: ArrayLike<number> | BigInt64Array): number[] {
  return Array.from(data as ArrayLike<number | bigint>, Number);
}

const SAMPLED: [string, boolean, Partial<MultiSampledGaussianReadoutOptions>, boolean][] = [
  ['pg_shared_features_train', true, { sharedFeatures: { matchIds: MATCH_FEATURES } }, false],
  ['pg_shared_features_eval', false, { gaussType: 'isotropic', sharedFeatures: { matchIds: MATCH_FEATURES } }, false],
  ['pg_shared_grid_train', true, { sharedGrid: { matchIds: MATCH_GRID } }, false],
  ['pg_shared_both_eval', false, { sharedFeatures: { matchIds: MATCH_FEATURES }, sharedGrid: { matchIds: MATCH_GRID } }, false],
  ['pg_shift_eval', false, {}, true],
  ['pg_shift_train_one_draw', true, { batchSample: false }, true],
];

describe('PointGaussianReadout sharing, predictor and shift: parity with OpenRetina 1.1.1 (PyTorch)', () => {
  for (const [name, training, options, withShift] of SAMPLED) {
    it(`${name}: state-dict keys and sharing indices, output, in-place clamp, gradients, regularizer`, () => {
      const m = new MultiSampledGaussianReadout({
        inShape: IN_SHAPE,
        nNeuronsDict: { s1: 5 },
        bias: true,
        initMuRange: 0.5,
        initSigmaRange: 0.3,
        gamma: 0.7,
        ...options,
      });
      expect([...m.stateDict().keys()]).toEqual(fxMeta(`keys/${name}`));
      const reference = fxStateDict(name);
      for (const key of ['s1.grid_sharing_index', 's1.feature_sharing_index'].filter((k) => reference.has(k))) {
        // np.unique(match_ids, return_inverse=True), stored as int64 like PyTorch's buffer.
        expect(m.stateDict().get(key)!.dtype, key).toBe('int64');
        expect(values(m.stateDict().get(key)!.data), key).toEqual(values(reference.get(key)!.data));
      }
      m.loadStateDict(reference);
      m.train(training);
      const x = fxInput(name);
      const r = fxTensor(`${name}/r`);
      const noise = training ? fxTensor(`${name}/noise`) : undefined;
      const shift = withShift ? fxTensor(`${name}/shift`) : undefined;
      const forward = (input: tf.Tensor): tf.Tensor =>
        m.forward(input as tf.Tensor5D, { session: 's1', ...(noise ? { noise } : {}), ...(shift ? { shift } : {}) });
      const before = tf.memory().numTensors;
      const y = forward(x);
      expect(relativeError(y.dataSync(), fxData(`${name}/output`))).toBeLessThan(1e-5);
      y.dispose();
      expect(tf.memory().numTensors).toBe(before);
      // A shared grid is not clamped in place (OpenRetina clamps a computed copy); an own one is.
      for (const [k, t] of fxStateDict(name, 'state_after')) expect(values(m.stateDict().get(k)!.data), k).toEqual(values(t.data));
      const { grads, gradInput } = lossGradients(m, x, r, forward);
      const expected = [...fxStateDict(name, 'grad').keys()];
      expect([...grads.keys()].sort()).toEqual(expected.sort());
      for (const key of expected) expect(relativeError(grads.get(key)!.dataSync(), fxData(`${name}/grad/${key}`)), key).toBeLessThan(1e-4);
      expect(relativeError(toChannelsFirst(gradInput), fxData(`${name}/grad_input`))).toBeLessThan(1e-5);
      for (const red of ['sum', 'mean'] as const) {
        const reg = m.regularizer('s1', red);
        expect(reg.dataSync()[0]).toBeCloseTo(fxScalar(`${name}/reg_${red}`), 5);
        reg.dispose();
      }
      tf.dispose([x, r, gradInput, ...grads.values(), ...(noise ? [noise] : []), ...(shift ? [shift] : [])]);
      m.dispose();
    });
  }

  it('two readouts sharing: b uses a’s features and a’s grid through its own mu_transform', () => {
    const a = new PointGaussianReadout({
      inShape: IN_SHAPE,
      outDims: 5,
      initMuRange: 0.5,
      gammaReadout: 0.7,
      sharedFeatures: { matchIds: MATCH_FEATURES },
      sharedGrid: { matchIds: MATCH_GRID },
    });
    const b = new PointGaussianReadout({
      inShape: IN_SHAPE,
      outDims: 4,
      initMuRange: 0.5,
      gammaReadout: 0.3,
      gaussType: 'uncorrelated',
      sharedFeatures: { matchIds: [1, 0, 2, 2], sharedFeatures: a.features },
      sharedGrid: { matchIds: [2, 0, 1, 1], sharedGrid: a.mu! },
    });
    // mu_transform starts as the identity: b's locations are a's shared rows.
    const [la, lb] = [a.meanLocations(), b.meanLocations()];
    const rowsA = la.arraySync()[0]!.map((row) => row[0]!);
    expect(lb.arraySync()[0]!.map((row) => row[0]!)).toEqual([rowsA[3]!, rowsA[2]!, rowsA[0]!, rowsA[0]!]); // a: ids 1,1,0,3,0
    tf.dispose([la, lb]);
    expect([...a.stateDict().keys()]).toEqual(fxMeta('keys/pg_pair/a'));
    expect([...b.stateDict().keys()]).toEqual(fxMeta('keys/pg_pair/b'));
    a.loadStateDict(fxStateDict('pg_pair/a'));
    b.loadStateDict(fxStateDict('pg_pair/b'));
    expect(b.features).toBe(a.features);
    expect(b.mu).toBe(a.mu);
    a.eval();
    b.eval();
    const x = fxFlatInput('pg_pair/input');
    const [ra, rb] = [fxTensor('pg_pair/a/r'), fxTensor('pg_pair/b/r')];
    const outputs = [a.forwardFlat(x), b.forwardFlat(x)];
    expect(relativeError(outputs[0]!.dataSync(), fxData('pg_pair/a/output'))).toBeLessThan(1e-5);
    expect(relativeError(outputs[1]!.dataSync(), fxData('pg_pair/b/output'))).toBeLessThan(1e-5);
    tf.dispose(outputs);
    const xv = tf.variable(x);
    const named = (m: PointGaussianReadout, tag: string) =>
      [...m.stateDict().keys()].filter((k) => !k.endsWith('_index')).map((k) => [tag, k] as const);
    const entries = [...named(a, 'a'), ...named(b, 'b')];
    const variableOf = (tag: string, key: string): tf.Variable => {
      const m = tag === 'a' ? a : b;
      if (key === '_mu') return m.mu!;
      if (key === '_features') return m.features;
      if (key === 'scales') return m.scales!;
      if (key === 'sigma') return m.sigma;
      if (key === 'bias') return m.bias!;
      return m.namedParameters().get(key)!;
    };
    const vars = [...new Set([...entries.map(([tag, key]) => variableOf(tag, key)), xv])];
    const { value, grads } = tf.variableGrads(
      () => tf.tidy(() => tf.add(tf.sum(tf.mul(a.forwardFlat(xv), ra)), tf.sum(tf.mul(b.forwardFlat(xv), rb))) as tf.Scalar),
      vars,
    );
    // PyTorch lists b's shared entries as b's parameters too: their gradient is the one of a's variable.
    for (const [tag, key] of entries) {
      const g = grads[variableOf(tag, key).name]!;
      expect(relativeError(g.dataSync(), fxData(`pg_pair/${tag}/grad/${key}`)), `${tag}.${key}`).toBeLessThan(1e-4);
    }
    expect(relativeError(tf.transpose(grads[xv.name]!, [0, 3, 1, 2]).dataSync(), fxData('pg_pair/grad_input'))).toBeLessThan(1e-5);
    // b's feature L1 is 0: the features are a's.
    for (const [m, tag] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      const reg = m.regularizer('sum');
      expect(reg.dataSync()[0]).toBeCloseTo(fxScalar(`pg_pair/${tag}/reg_sum`), 5);
      reg.dispose();
    }
    tf.dispose([value, ...Object.values(grads), xv, x, ra, rb]);
    b.dispose();
    expect(a.features.isDisposed).toBe(false); // b does not own a's variables
    a.dispose();
  });

  it('grid-mean predictor: normalised source grid, mu_transform.<i> entries, output and gradients in training', () => {
    const raw = fx('pg_predictor/source_grid_raw');
    const sourceGrid = Array.from({ length: raw.shape[0]! }, (_, i) =>
      Array.from(fxData('pg_predictor/source_grid_raw').slice(i * 3, i * 3 + 3)),
    );
    const m = new PointGaussianReadout({
      inShape: IN_SHAPE,
      outDims: 5,
      initMuRange: 0.5,
      gammaReadout: 0.7,
      sourceGrid,
      gridMeanPredictor: { hiddenLayers: 1, hiddenFeatures: 4, finalTanh: true },
    });
    expect([...m.stateDict().keys()]).toEqual(fxMeta('keys/pg_predictor'));
    const reference = fxStateDict('pg_predictor');
    expect(
      relativeError(m.stateDict().get('source_grid')!.data as Float32Array, reference.get('source_grid')!.data as Float32Array),
    ).toBeLessThan(1e-6);
    expect(m.mu).toBeUndefined();
    m.loadStateDict(reference);
    m.train();
    const x = fxFlatInput('pg_predictor/input');
    const r = fxTensor('pg_predictor/r');
    const noise = fxTensor('pg_predictor/noise');
    const forward = (input: tf.Tensor): tf.Tensor => m.forwardFlat(input as tf.Tensor4D, { noise });
    const y = forward(x);
    expect(relativeError(y.dataSync(), fxData('pg_predictor/output'))).toBeLessThan(1e-5);
    const { grads, gradInput } = lossGradients(m, x, r, forward);
    const expected = [...fxStateDict('pg_predictor', 'grad').keys()];
    expect([...grads.keys()].sort()).toEqual(expected.sort());
    for (const key of expected)
      expect(relativeError(grads.get(key)!.dataSync(), fxData(`pg_predictor/grad/${key}`)), key).toBeLessThan(1e-4);
    expect(relativeError(tf.transpose(gradInput, [0, 3, 1, 2]).dataSync(), fxData('pg_predictor/grad_input'))).toBeLessThan(1e-5);
    const reg = m.regularizer('mean');
    expect(reg.dataSync()[0]).toBeCloseTo(fxScalar('pg_predictor/reg_mean'), 5);
    expect(() => m.muDispersion()).toThrow(/grid-mean predictor/);
    tf.dispose([y, x, r, noise, gradInput, reg, ...grads.values()]);
    m.dispose();
  });

  it('a clone of a shared-feature readout penalises the per-neuron features; bad options are clear errors', () => {
    const source = new PointGaussianReadout({ inShape: IN_SHAPE, outDims: 5, sharedFeatures: { matchIds: MATCH_FEATURES } });
    tf.tidy(() => source.scales!.assign(tf.tensor([1, -2, 3, 0.5, 1], [1, 1, 1, 5])));
    const clone = new ClonedReadout(source);
    const l1 = clone.featureL1(false);
    // features 1/3 everywhere (3 channels) times |scale| per neuron: 3 · (1 + 2 + 3 + 0.5 + 1) / 3.
    expect(l1.dataSync()[0]).toBeCloseTo(7.5, 5);
    l1.dispose();
    clone.dispose();
    source.dispose();
    const base = { inShape: IN_SHAPE, outDims: 5 } as const;
    expect(() => new PointGaussianReadout({ ...base, sharedFeatures: { matchIds: [0, 1] } })).toThrow(/one id per neuron \(5\), got 2/);
    expect(() => new PointGaussianReadout({ ...base, gridMeanPredictor: {} })).toThrow(/needs sourceGrid/);
    expect(() => new PointGaussianReadout({ ...base, gridMeanPredictor: {}, sharedGrid: { matchIds: MATCH_GRID } })).toThrow(ConfigError);
    const owner = new PointGaussianReadout({ ...base, sharedFeatures: { matchIds: MATCH_FEATURES } });
    expect(
      () => new PointGaussianReadout({ ...base, sharedFeatures: { matchIds: [0, 1, 2, 3, 4], sharedFeatures: owner.features } }),
    ).toThrow(/must have shape \[1, 3, 1, 5\], got \[1, 3, 1, 3\]/);
    const plain = new PointGaussianReadout(base);
    const x = tf.zeros([2, 2, 4, 5, 3]) as tf.Tensor5D;
    expect(() => plain.forward(x, { shift: tf.zeros([3, 2]) })).toThrow(/shift must be one \(x, y\) per flattened element, \[4, 2\]/);
    x.dispose();
    plain.dispose();
    owner.dispose();
    // The multi readout builds each session's predictor from that session's source grid.
    const grids = {
      s1: [
        [0, 1],
        [2, 3],
        [5, 1],
      ],
      s2: [
        [1, 1],
        [0, 4],
      ],
    };
    const multi = new MultiSampledGaussianReadout({
      inShape: IN_SHAPE,
      nNeuronsDict: { s1: 3, s2: 2 },
      gridMeanPredictor: {},
      sourceGrids: grids,
    });
    expect([...multi.stateDict().keys()].filter((k) => k.includes('mu_transform') || k.includes('source_grid'))).toEqual([
      's1.source_grid',
      's1.mu_transform.0.weight',
      's1.mu_transform.0.bias',
      's2.source_grid',
      's2.mu_transform.0.weight',
      's2.mu_transform.0.bias',
    ]);
    multi.dispose();
    const before = tf.memory().numTensors;
    expect(
      () =>
        new MultiSampledGaussianReadout({ inShape: IN_SHAPE, nNeuronsDict: { s1: 3, s3: 2 }, gridMeanPredictor: {}, sourceGrids: grids }),
    ).toThrow(/needs sourceGrid: 2 rows .* got none/);
    expect(tf.memory().numTensors).toBe(before); // s1, built before s3 failed, is freed
  });
});
