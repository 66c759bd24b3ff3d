import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ShapeError } from '@openretina/contracts';
import type { CoreReadout } from '@openretina/models';
import { OnnxEngine, loadOnnxRuntimeNode, type OrtLike } from '../src/node.js';
import { observedOrt } from './observed-ort.js';
import { buildSmallModel, randomizeWeights } from './small-model.js';

type Shape5 = [number, number, number, number, number];

// counts how often an engine builds and splits the input-gradient graph
const split = vi.hoisted(() => ({ calls: 0 }));
vi.mock('../src/engine/split-graph.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/engine/split-graph.js')>();
  return {
    ...original,
    splitGraph: (...args: Parameters<typeof original.splitGraph>) => {
      split.calls++;
      return original.splitGraph(...args);
    },
  };
});

/** `inputGradientValues` of a fresh engine: what the values must be after the model changed. */
async function fresh(model: CoreReadout, ort: OrtLike, x: tf.Tensor5D, cot: tf.Tensor3D, session: string) {
  const engine = new OnnxEngine(model, { ort });
  const r = await engine.inputGradient(x, session, cot);
  const values = { output: Array.from(r.output.dataSync()), grad: Array.from(r.grad.dataSync()) };
  tf.dispose([r.output, r.grad]);
  engine.dispose();
  return values;
}

describe('OnnxEngine.inputGradientValues: the input gradient on host arrays', () => {
  let ort: OrtLike;
  let model: CoreReadout;
  let engine: OnnxEngine;
  let x: tf.Tensor5D;
  let cot: tf.Tensor3D;
  const shape: Shape5 = [1, 16, 9, 8, 2];
  beforeAll(async () => {
    ort = await loadOnnxRuntimeNode();
    model = buildSmallModel();
    randomizeWeights(model, 3);
    model.eval();
    engine = new OnnxEngine(model, { ort });
    x = tf.randomNormal(shape, 0, 1, 'float32', 1) as tf.Tensor5D;
    cot = tf.randomNormal([1, 12, 4], 0, 1, 'float32', 2) as tf.Tensor3D;
  });
  afterAll(() => {
    engine.dispose();
    tf.dispose([x, cot]);
    model.dispose();
  });

  const values = () => engine.inputGradientValues(x.dataSync() as Float32Array, shape, 'b', cot.dataSync() as Float32Array);

  it('gives the tensors of inputGradient, without a tensor of its own', async () => {
    const want = await fresh(model, ort, x, cot, 'b');
    const before = tf.memory().numTensors;
    const got = await values();
    expect(tf.memory().numTensors).toBe(before);
    expect(got.outputShape).toEqual([1, 12, 4]);
    expect(Array.from(got.output)).toEqual(want.output);
    expect(Array.from(got.grad)).toEqual(want.grad);
  });

  it('follows parameters and buffers assigned between calls (the cached weights are not reused then)', async () => {
    const first = Array.from((await values()).grad);
    randomizeWeights(model, 11); // conv, readout and bias weights
    const afterWeights = Array.from((await values()).grad);
    expect(afterWeights).not.toEqual(first);
    expect(afterWeights).toEqual((await fresh(model, ort, x, cot, 'b')).grad);
    const runningMean = model.namedBuffers().get('core.features.layer0.norm.running_mean')!;
    runningMean.assign(tf.fill(runningMean.shape, 0.5));
    const afterBuffer = Array.from((await values()).grad);
    expect(afterBuffer).not.toEqual(afterWeights);
    expect(afterBuffer).toEqual((await fresh(model, ort, x, cot, 'b')).grad);
  });

  it('runs the part of the graph that depends on the weights alone once per weight state and stimulus length', async () => {
    const runs: string[] = [];
    const splitsBefore = split.calls;
    const e = new OnnxEngine(model, { ort: observedOrt(ort, { onRun: (feeds) => void runs.push('x' in feeds ? 'rest' : 'fixed') }) });
    const [xs, cs] = [x.dataSync() as Float32Array, cot.dataSync() as Float32Array];
    const want = Array.from((await values()).grad);
    for (let i = 0; i < 3; i++) expect(Array.from((await e.inputGradientValues(xs, shape, 'b', cs)).grad)).toEqual(want);
    expect(runs).toEqual(['fixed', 'rest', 'rest', 'rest']);
    const longer = tf.randomNormal([1, 20, 9, 8, 2], 0, 1, 'float32', 4) as tf.Tensor5D;
    await e.inputGradientValues(longer.dataSync() as Float32Array, [1, 20, 9, 8, 2], 'b', new Float32Array(16 * 4));
    randomizeWeights(model, 21);
    await e.inputGradientValues(xs, shape, 'b', cs);
    expect(runs.slice(4)).toEqual(['fixed', 'rest', 'fixed', 'rest']);
    // one graph built and split per length, for both of its sessions
    expect(split.calls - splitsBefore).toBe(2);
    longer.dispose();
    e.dispose();
  });

  it('a positive readout: features assigned negative values are clamped, as by inputGradient', async () => {
    const m = buildSmallModel(undefined, { positive: true });
    randomizeWeights(m, 5);
    m.eval();
    const e = new OnnxEngine(m, { ort });
    const features = m.namedParameters().get('readout.b.features')!;
    const run = async () =>
      Array.from((await e.inputGradientValues(x.dataSync() as Float32Array, shape, 'b', cot.dataSync() as Float32Array)).grad);
    const before = await run();
    features.assign(tf.neg(features)); // the clamp now zeroes other features than before
    const after = await run();
    expect(after).not.toEqual(before);
    expect(after).toEqual((await fresh(m, ort, x, cot, 'b')).grad);
    expect(await run()).toEqual(after); // the cached weights again
    e.dispose();
    m.dispose();
  });

  it('refuses arrays whose length does not match the shapes, naming both', async () => {
    const xs = x.dataSync() as Float32Array;
    const cs = cot.dataSync() as Float32Array;
    await expect(engine.inputGradientValues(xs.subarray(1), shape, 'b', cs)).rejects.toThrow(ShapeError);
    await expect(engine.inputGradientValues(xs.subarray(1), shape, 'b', cs)).rejects.toThrow(/2303 values, its shape \[1, 16, 9, 8, 2\]/);
    await expect(engine.inputGradientValues(xs, shape, 'b', cs.subarray(4))).rejects.toThrow(/44 values, expected \[1, 12, 4\]/);
    await expect(engine.inputGradientValues(xs, [1, 16, 9, 8, 3], 'b', cs)).rejects.toThrow(ShapeError);
  });
});
