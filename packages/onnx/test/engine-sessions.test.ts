import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TfjsEngine } from '@openretina/models';
import { OnnxEngine, loadOnnxRuntimeNode, type OrtLike } from '../src/node.js';
import { buildSmallModel } from './small-model.js';

describe('OnnxEngine: one ONNX Runtime session per graph plan, shared by readout sessions of any neuron count', () => {
  let ort: OrtLike;
  beforeAll(async () => {
    ort = await loadOnnxRuntimeNode();
  });

  it('all readout sessions share the graphs (the neuron count is symbolic) and still get their own weights (parity with TF.js)', async () => {
    const model = buildSmallModel({ a: 3, b: 3, c: 4 });
    let created = 0;
    const counting: OrtLike = {
      Tensor: ort.Tensor,
      InferenceSession: {
        create: (bytes, options) => {
          created++;
          return ort.InferenceSession.create(bytes, options);
        },
      },
    };
    const engine = new OnnxEngine(model, { ort: counting });
    const reference = new TfjsEngine(model);
    const x = tf.randomNormal([2, 16, 9, 8, 2], 0, 1, 'float32', 3) as tf.Tensor5D;
    // readouts a and b start identical: make b's differ, so that a shared graph must still give each its own output
    const bParams = [...model.namedParameters()].filter(([k]) => k.includes('.b.'));
    expect(bParams.length).toBeGreaterThan(0);
    tf.tidy(() => {
      for (const [, v] of bParams) v.assign(tf.add(v, tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', 7), 0.3)));
    });
    model.eval();
    const before = tf.memory().numTensors;
    for (const s of ['a', 'b', 'c']) {
      const got = await engine.predict(x, s);
      const want = await reference.predict(x, s);
      const err = tf.tidy(() => tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]! / tf.max(tf.abs(want)).dataSync()[0]!);
      expect(err, s).toBeLessThan(1e-5);
      tf.dispose([got, want]);
    }
    // one forward and one forward-weights graph for N = 3 (a, b) and N = 4 (c): 2 sessions, not 6
    expect(created).toBe(2);
    // a and b differ in their readouts, so sharing a graph must not share outputs
    const [ya, yb] = [await engine.predict(x, 'a'), await engine.predict(x, 'b')];
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(ya, yb))).dataSync()[0]!)).toBeGreaterThan(1e-4);
    tf.dispose([ya, yb]);
    expect(tf.memory().numTensors).toBe(before);
    engine.dispose();
    x.dispose();
    model.dispose();
  });

  it('one training graph serves readout sessions of different neuron counts: loss and gradients as TF.js', async () => {
    const model = buildSmallModel({ a: 3, c: 4 });
    let created = 0;
    const counting: OrtLike = {
      Tensor: ort.Tensor,
      InferenceSession: {
        create: (bytes, options) => {
          created++;
          return ort.InferenceSession.create(bytes, options);
        },
      },
    };
    const engine = new OnnxEngine(model, { ort: counting });
    const reference = new TfjsEngine(model);
    model.train();
    const x = tf.randomNormal([2, 16, 9, 8, 2], 0, 1, 'float32', 5) as tf.Tensor5D;
    for (const [s, n] of [
      ['a', 3],
      ['c', 4],
    ] as const) {
      const y = tf.randomUniform([2, 16, n], 0, 3, 'float32', 11) as tf.Tensor3D;
      const want = await reference.lossAndGrads(x, y, s);
      const got = await engine.lossAndGrads(x, y, s);
      expect(Math.abs(got.data / want.data - 1), s).toBeLessThan(1e-5);
      expect([...got.grads.keys()].sort()).toEqual([...want.grads.keys()].sort());
      // as engine-onnx.test.ts: gradients that nearly cancel are measured against 1 % of the model's largest gradient
      let globalMax = 0;
      for (const g of want.grads.values()) for (const v of g.dataSync()) globalMax = Math.max(globalMax, Math.abs(v));
      for (const [name, g] of want.grads) {
        const wantV = g.dataSync();
        const have = got.grads.get(name)!.dataSync();
        const scale = Math.max(...Array.from(wantV, Math.abs), 0.01 * globalMax);
        const diff = Math.max(...Array.from(have, (v, i) => Math.abs(v - wantV[i]!)));
        expect(diff / scale, `${s} ${name}`).toBeLessThan(1e-5);
      }
      tf.dispose([y, ...want.grads.values(), ...got.grads.values()]);
    }
    expect(created).toBe(1);
    engine.dispose();
    x.dispose();
    model.dispose();
  });
});
