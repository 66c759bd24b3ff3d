import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '@openretina/contracts';
import { MultiSpatialContrastReadout, SpatialContrastReadout } from '../src/index.js';
import {
  finiteDifferenceError,
  fx,
  fxData,
  fxInput,
  fxMeta,
  fxStateDict,
  lossGradients,
  prng,
  randomTensor,
  relativeError,
  toChannelsFirst,
} from './helpers.js';

const SC_SHAPE = [1, 6, 4, 5] as const;

function filters(n: number, h: number, w: number, tf0: number, seed: number) {
  const rnd = prng(seed);
  return {
    spatial: { data: Float32Array.from({ length: n * h * w }, () => rnd()), shape: [n, h, w] },
    temporal: { data: Float32Array.from({ length: n * tf0 }, () => rnd() * 2 - 1), shape: [n, tf0] },
  };
}

describe('SpatialContrastReadout: parity with OpenRetina 1.1.1 (PyTorch)', () => {
  it('sc: output (chunked neurons), gradients, regularizer 0', () => {
    const spatial = { data: fxData('sc/state/s1.spatial_filters'), shape: [3, 4, 5] };
    const temporal = { data: fxData('sc/state/s1.temporal_filters'), shape: [3, 3] };
    const m = new MultiSpatialContrastReadout({
      inShape: SC_SHAPE,
      nNeuronsDict: { s1: 3 },
      spatialFiltersDict: { s1: spatial },
      temporalFiltersDict: { s1: temporal },
      neuronChunkSize: 2,
    });
    expect([...m.stateDict().keys()]).toEqual(fxMeta('keys/sc'));
    m.loadStateDict(fxStateDict('sc'));
    m.eval();
    const x = fxInput('sc');
    const r = tf.tensor(fxData('sc/r'), fx('sc/r').shape);
    const forward = (input: tf.Tensor): tf.Tensor => m.forward(input as tf.Tensor5D, { session: 's1' });
    const y = forward(x);
    expect(y.shape).toEqual([2, 4, 3]);
    expect(relativeError(y.dataSync(), fxData('sc/output'))).toBeLessThan(1e-5);
    y.dispose();
    const { grads, gradInput } = lossGradients(m, x, r, forward);
    expect([...grads.keys()]).toEqual(['s1.w', 's1.nl_a', 's1.nl_b', 's1.nl_c']); // bias is frozen
    for (const [key, g] of grads) expect(relativeError(g.dataSync(), fxData(`sc/grad/${key}`)), key).toBeLessThan(1e-5);
    expect(relativeError(toChannelsFirst(gradInput), fxData('sc/grad_input'))).toBeLessThan(1e-5);
    const reg = m.regularizer('s1');
    expect(reg.dataSync()[0]).toBe(0);
    tf.dispose([x, r, reg, gradInput, ...grads.values()]);
    m.dispose();
  });
});

describe('SpatialContrastReadout', () => {
  it('keys, shapes, init values, mean-activity bias, errors', () => {
    const f = filters(4, 3, 5, 2, 1);
    const r = new SpatialContrastReadout({
      inShape: [1, 7, 3, 5],
      outDims: 4,
      spatialFilters: f.spatial,
      temporalFilters: f.temporal,
      meanActivity: Float32Array.from([1, 2, 3, 4]),
    });
    const sd = r.stateDict();
    expect([...sd.keys()]).toEqual(['w', 'nl_a', 'nl_b', 'nl_c', 'bias', 'spatial_filters', 'temporal_filters', 'sf_sums']);
    expect([...(sd.get('nl_a')!.data as Float32Array)]).toEqual([4, 4, 4, 4]);
    expect([...(sd.get('nl_c')!.data as Float32Array)]).toEqual([-5, -5, -5, -5]);
    expect([...(sd.get('bias')!.data as Float32Array)]).toEqual([1, 2, 3, 4]);
    expect(sd.get('sf_sums')!.shape).toEqual([4]);
    expect(r.trainableParameters().has('bias')).toBe(false);
    const x = randomTensor([2, 7, 3, 5, 1], 3) as tf.Tensor5D;
    const y = r.forward(x);
    expect(y.shape).toEqual([2, 6, 4]);
    expect(() => r.forward(randomTensor([2, 7, 3, 5, 2], 3) as tf.Tensor5D)).toThrow(ShapeError);
    expect(() => r.forward(randomTensor([2, 1, 3, 5, 1], 3) as tf.Tensor5D)).toThrow(ShapeError);
    expect(
      () => new SpatialContrastReadout({ inShape: [1, 7, 3, 5], outDims: 3, spatialFilters: f.spatial, temporalFilters: f.temporal }),
    ).toThrow(ShapeError);
    expect(
      () =>
        new MultiSpatialContrastReadout({ inShape: [1, 7, 3, 5], nNeuronsDict: { a: 4 }, spatialFiltersDict: {}, temporalFiltersDict: {} }),
    ).toThrow(ConfigError);
    tf.dispose([x, y]);
    r.dispose();
  });

  it('chunk size does not change the result; finite-difference gradients; round trip; no leaks', () => {
    const f = filters(5, 3, 4, 3, 2);
    const make = (chunk: number) =>
      new MultiSpatialContrastReadout({
        inShape: [1, 6, 3, 4],
        nNeuronsDict: { a: 5 },
        spatialFiltersDict: { a: f.spatial },
        temporalFiltersDict: { a: f.temporal },
        neuronChunkSize: chunk,
        wInit: 0.5,
        cInit: 0.2,
      });
    const a = make(2);
    const b = make(32);
    const x = randomTensor([2, 6, 3, 4, 1], 9) as tf.Tensor5D;
    const ya = a.forward(x);
    const yb = b.forward(x);
    expect(relativeError(ya.dataSync(), yb.dataSync())).toBeLessThan(1e-6);
    const fd = finiteDifferenceError(a, x, (i) => a.forward(i as tf.Tensor5D), { eps: 1e-2 });
    expect(fd.worst, fd.where).toBeLessThan(1e-3);
    tf.tidy(() => a.readout('a').w.assign(tf.tensor1d([1, 2, 3, 4, 5])));
    b.loadStateDict(a.stateDict());
    const ya2 = a.forward(x);
    const yb2 = b.forward(x);
    expect([...yb2.dataSync()]).toEqual([...ya2.dataSync()]);
    const before = tf.memory().numTensors;
    a.forward(x).dispose();
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.sum(a.forward(x))) as tf.Scalar);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, ya, yb, ya2, yb2]);
    a.dispose();
    b.dispose();
  });
});
