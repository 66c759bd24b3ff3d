import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@openretina/backend';
import { HostCopies } from '@openretina/layers';
import { OnnxEngine, loadOnnxRuntimeNode } from '../src/node.js';
import { buildSmallModel } from './small-model.js';

// The reused buffers exist on the wasm backend only (its `dataSync` copies); this file runs there whatever the
// project's backend.
describe('OnnxEngine on wasm: stimuli staged in reused host buffers', () => {
  let previous: string;
  beforeAll(async () => {
    previous = tf.getBackend();
    await initBackend('wasm');
  });
  afterAll(async () => {
    await initBackend(previous as 'cpu' | 'wasm');
  });

  it('a buffer given back is taken again; one still in use is not', async () => {
    const buffers = new HostCopies();
    const x = tf.randomNormal([2, 5, 9, 8, 2], 0, 1, 'float32', 1);
    const y = tf.randomNormal([2, 5, 9, 8, 2], 0, 1, 'float32', 2);
    const a = await buffers.take(x);
    const b = await buffers.take(y);
    expect(b.data).not.toBe(a.data);
    expect(Array.from(a.data)).toEqual(Array.from(x.dataSync()));
    expect(Array.from(b.data)).toEqual(Array.from(y.dataSync()));
    a.release();
    const c = await buffers.take(y);
    expect(c.data).toBe(a.data);
    expect(Array.from(c.data)).toEqual(Array.from(y.dataSync()));
    c.release();
    const d = buffers.takeSync(x); // the synchronous form takes from the same arrays
    expect(d.data).toBe(a.data);
    expect(Array.from(d.data)).toEqual(Array.from(x.dataSync()));
    tf.dispose([x, y]);
  });

  it('concurrent and repeated predictions and input gradients equal sequential ones, without leaking', async () => {
    const model = buildSmallModel({ a: 3 });
    model.eval();
    const engine = new OnnxEngine(model, { ort: await loadOnnxRuntimeNode() });
    const xs = [1, 2, 3].map((s) => tf.randomNormal([2, 16, 9, 8, 2], 0, 1, 'float32', s) as tf.Tensor5D);
    const sequential: Float32Array[] = [];
    for (const x of xs) {
      const r = await engine.predict(x, 'a');
      sequential.push(r.dataSync() as Float32Array);
      r.dispose();
    }
    const before = tf.memory().numTensors;
    // three calls in flight at once: each needs its own buffer until its run has finished
    const concurrent = await Promise.all(xs.map((x) => engine.predict(x, 'a')));
    concurrent.forEach((r, i) => expect(Array.from(r.dataSync()), `prediction ${i}`).toEqual(Array.from(sequential[i]!)));
    tf.dispose(concurrent);
    const cot = tf.ones([2, concurrent[0]!.shape[1], concurrent[0]!.shape[2]]) as tf.Tensor3D;
    const grads = await Promise.all(xs.map((x) => engine.inputGradient(x, 'a', cot)));
    const again = await engine.inputGradient(xs[0]!, 'a', cot);
    expect(Array.from(again.grad.dataSync())).toEqual(Array.from(grads[0]!.grad.dataSync()));
    expect(Array.from(grads[1]!.grad.dataSync())).not.toEqual(Array.from(grads[0]!.grad.dataSync()));
    tf.dispose([again.output, again.grad, ...grads.flatMap((g) => [g.output, g.grad])]);
    cot.dispose();
    expect(tf.memory().numTensors).toBe(before);
    engine.dispose();
    tf.dispose(xs);
    model.dispose();
  });
});
