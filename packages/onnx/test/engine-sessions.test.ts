import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TfjsEngine } from '@openretina/models';
import { OnnxEngine, loadOnnxRuntimeNode, type OrtLike } from '../src/node.js';
import { buildSmallModel } from './small-model.js';

describe('OnnxEngine: one ONNX Runtime session per graph plan, shared by readout sessions', () => {
  let ort: OrtLike;
  beforeAll(async () => {
    ort = await loadOnnxRuntimeNode();
  });

  it('sessions with equal neuron counts share the graphs and still get their own weights (parity with TF.js)', async () => {
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
    // forward + forward-weights for N = 3 (a and b) and for N = 4 (c): 4 sessions, not 6
    expect(created).toBe(4);
    // a and b differ in their readouts, so sharing a graph must not share outputs
    const [ya, yb] = [await engine.predict(x, 'a'), await engine.predict(x, 'b')];
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(ya, yb))).dataSync()[0]!)).toBeGreaterThan(1e-4);
    tf.dispose([ya, yb]);
    expect(tf.memory().numTensors).toBe(before);
    engine.dispose();
    x.dispose();
    model.dispose();
  });
});
