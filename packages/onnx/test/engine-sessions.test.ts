import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TfjsEngine } from '@openretina/models';
import { OnnxEngine, loadOnnxRuntimeNode, type OrtLike } from '../src/node.js';
import { buildSmallModel } from './small-model.js';
import { observedOrt } from './observed-ort.js';

/** `ort` with a count of the ONNX Runtime sessions created through it. */
function countingSessions(ort: OrtLike): { ort: OrtLike; readonly created: number } {
  let created = 0;
  return {
    ort: observedOrt(ort, { onCreate: () => created++ }),
    get created() {
      return created;
    },
  };
}

describe('OnnxEngine: one ONNX Runtime session per graph plan, shared by readout sessions of any neuron count', () => {
  let ort: OrtLike;
  beforeAll(async () => {
    ort = await loadOnnxRuntimeNode();
  });

  it('all readout sessions share the graphs (the neuron count is symbolic) and still get their own weights (parity with TF.js)', async () => {
    const model = buildSmallModel({ a: 3, b: 3, c: 4 });
    const counting = countingSessions(ort);
    const engine = new OnnxEngine(model, { ort: counting.ort });
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
    expect(counting.created).toBe(2);
    // a and b differ in their readouts, so sharing a graph must not share outputs
    const [ya, yb] = [await engine.predict(x, 'a'), await engine.predict(x, 'b')];
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(ya, yb))).dataSync()[0]!)).toBeGreaterThan(1e-4);
    tf.dispose([ya, yb]);
    expect(tf.memory().numTensors).toBe(before);
    engine.dispose();
    x.dispose();
    model.dispose();
  });

  it('one training graph serves readout sessions of different neuron counts: loss as TF.js, gradients as an unshared graph', async () => {
    const model = buildSmallModel({ a: 3, c: 4 });
    const counting = countingSessions(ort);
    const engine = new OnnxEngine(model, { ort: counting.ort });
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
      // The gradients' parity with TF.js is engine-onnx.test.ts's subject; this model's first BatchNorm bias gradient
      // nearly cancels, so float32 summation order (TF.js wasm vs ONNX Runtime) puts it at that tolerance's edge. What
      // sharing must not change is checked exactly: an engine that only ever saw this session, so built the graph
      // for its own neuron count, gives the same gradients as the shared graph.
      const alone = new OnnxEngine(model, { ort });
      const single = await alone.lossAndGrads(x, y, s);
      expect([...got.grads.keys()].sort()).toEqual([...want.grads.keys()].sort());
      expect([...single.grads.keys()].sort()).toEqual([...want.grads.keys()].sort());
      expect(single.data).toBe(got.data);
      for (const [name, g] of single.grads) {
        expect(Array.from(got.grads.get(name)!.dataSync()), `${s} ${name}`).toEqual(Array.from(g.dataSync()));
      }
      tf.dispose([y, ...want.grads.values(), ...got.grads.values(), ...single.grads.values()]);
      alone.dispose();
    }
    expect(counting.created).toBe(1);
    engine.dispose();
    x.dispose();
    model.dispose();
  });

  it('stimulus lengths whose layers get the same temporal blocks share the weights graph and its matrices (parity with TF.js)', async () => {
    const model = buildSmallModel({ a: 3 });
    model.eval();
    let created = 0;
    let weightRuns = 0; // runs of the weights graph: the one graph without the stimulus input
    const engine = new OnnxEngine(model, {
      ort: observedOrt(ort, { onCreate: () => created++, onRun: (feeds) => void (!('x' in feeds) && weightRuns++) }),
    });
    const reference = new TfjsEngine(model);
    const before = tf.memory().numTensors;
    // 40 and 60 frames: both layers in blocks of 8 output frames; 16 frames: each layer one block of its whole output
    for (const [T, weightSessions] of [
      [40, 1],
      [60, 1],
      [16, 2],
      [40, 2],
    ] as const) {
      const x = tf.randomNormal([1, T, 9, 8, 2], 0, 1, 'float32', T) as tf.Tensor5D;
      const got = await engine.predict(x, 'a');
      const want = await reference.predict(x, 'a');
      const err = tf.tidy(() => tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]! / tf.max(tf.abs(want)).dataSync()[0]!);
      expect(err, `${T} frames`).toBeLessThan(1e-5);
      tf.dispose([x, got, want]);
      expect(weightRuns, `${T} frames`).toBe(weightSessions);
    }
    // a forward graph per length (3) and a weights graph per block plan (2)
    expect(created).toBe(5);
    expect(tf.memory().numTensors).toBe(before);
    engine.dispose();
    model.dispose();
  });
});
