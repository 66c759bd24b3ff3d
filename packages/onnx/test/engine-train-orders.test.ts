import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { OnnxEngine, loadOnnxRuntimeNode, type OrtLike } from '../src/node.js';
import { buildEngineGraph, enginePlan, type EngineGraphKind, type TrainLayerOrder } from '../src/engine/training-graph.js';
import { buildSmallModel, randomizeWeights } from './small-model.js';
import { observedOrt } from './observed-ort.js';

const TOL = 1e-5;
const ORDERS: TrainLayerOrder[][] = [
  ['per-pair', 'per-pair'],
  ['per-pair', 'temporal-first'],
  ['temporal-first', 'per-pair'],
  ['temporal-first', 'temporal-first'],
];

/** The feeds the engine gives its graph of `kind` (captured from one engine call). */
async function engineFeeds(ort: OrtLike, call: (engine: OnnxEngine) => Promise<void>): Promise<Record<string, unknown>> {
  let feeds: Record<string, unknown> = {};
  const engine = new OnnxEngine(model, { ort: observedOrt(ort, { onRun: (f) => (feeds = { ...feeds, ...f }) }) });
  await call(engine);
  engine.dispose();
  return feeds;
}

const model = buildSmallModel();

/**
 * Every stage order per layer gives the default graph's outputs. The small model's default is per-pair in both
 * layers (few channels), the form engine-onnx.test.ts checks against TF.js; the fixture model there runs its
 * hidden layer temporal-first. Here temporal-first also meets temporal and spatial padding and cut frames.
 */
describe('engine training and input-gradient graphs: every stage order per layer', () => {
  it.each(['train', 'vjp'] as const)('%s graph: outputs of every order equal the default within 1e-5', async (kind: EngineGraphKind) => {
    const ort = await loadOnnxRuntimeNode();
    randomizeWeights(model, 21);
    for (const T of [16, 23]) {
      const x = tf.randomNormal([3, T, 9, 8, 2], 0, 1, 'float32', T) as tf.Tensor5D;
      const plan = enginePlan(model, 'b', T);
      const y = tf.randomUniform([3, T, 4], 0, 2, 'float32', 2) as tf.Tensor3D;
      const cot = tf.randomNormal([3, plan.tOut, 4], 0, 1, 'float32', 3) as tf.Tensor3D;
      if (kind === 'train') model.train();
      else model.eval();
      const before = snapshotBuffers();
      const feeds = await engineFeeds(ort, async (e) => {
        if (kind === 'train') tf.dispose([...(await e.lossAndGrads(x, y, 'b')).grads.values()]);
        else tf.dispose(Object.values(await e.inputGradient(x, 'b', cot)));
      });
      restoreBuffers(before);
      const run = async (bytes: Uint8Array) => {
        const s = await ort.InferenceSession.create(bytes);
        return s.run(Object.fromEntries(s.inputNames.map((k) => [k, feeds[k]])));
      };
      const defaultBytes = buildEngineGraph(plan, kind);
      const expected = await run(defaultBytes);
      const names = Object.keys(expected);
      expect(names.length).toBeGreaterThan(kind === 'train' ? 15 : 1);
      // nearly cancelling gradients are measured against a floor of 1 % of the largest gradient (as engine-onnx.test.ts)
      let globalMax = 0;
      for (const k of names)
        if (k.startsWith('d_')) for (const v of expected[k]!.data as Float32Array) globalMax = Math.max(globalMax, Math.abs(v));
      for (const orders of ORDERS) {
        const bytes = buildEngineGraph(plan, kind, { orders });
        if (orders.some((o) => o === 'temporal-first')) expect(bytes, `${orders.join('/')} builds another graph`).not.toEqual(defaultBytes);
        const got = await run(bytes);
        for (const k of names) {
          const want = expected[k]!.data as Float32Array;
          const have = got[k]!.data as Float32Array;
          expect(got[k]!.dims, k).toEqual(expected[k]!.dims);
          const scale = Math.max(...Array.from(want, Math.abs), k.startsWith('d_') ? 0.01 * globalMax : 0);
          const diff = Math.max(...Array.from(have, (v, i) => Math.abs(v - want[i]!)));
          expect(diff / scale, `${kind} T=${T} ${orders.join('/')} ${k}`).toBeLessThan(TOL);
        }
      }
      tf.dispose([x, y, cot]);
    }
  });
});

/** A training call updates the BatchNorm running statistics; the next length starts from the same state. */
function snapshotBuffers(): Map<string, Float32Array> {
  return new Map([...model.namedBuffers()].filter(([, v]) => v.dtype === 'float32').map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
}

function restoreBuffers(values: Map<string, Float32Array>): void {
  const buffers = model.namedBuffers();
  for (const [k, data] of values) tf.tidy(() => buffers.get(k)!.assign(tf.tensor(data, buffers.get(k)!.shape)));
}
