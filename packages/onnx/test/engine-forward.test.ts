import * as tf from '@tensorflow/tfjs-core';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import type { CoreReadout } from '@openretina/models';
import { buildSmallModel, randomizeWeights } from './small-model.js';
import { observedOrt } from './observed-ort.js';
import { relativeError } from '@openretina/test-utils/fixtures';
import { OnnxEngine, exportOnnx, loadOnnxModel, loadOnnxRuntimeNode } from '../src/node.js';
import {
  buildEngineForwardGraph,
  buildEngineForwardWeightsGraph,
  temporalBlockSize,
  type EngineLayerOrder,
  type LayerOrder,
} from '../src/engine/forward-graph.js';
import { enginePlan } from '../src/engine/training-graph.js';

const TOL = 1e-5;
const ORDERS: LayerOrder[][] = [
  ['spatial-first', 'temporal-first'],
  ['temporal-first', 'spatial-first'],
  ['spatial-first', 'spatial-first'],
  ['temporal-first', 'temporal-first'],
];
/** The engine graphs' orders: the exporter's, and row bands (one time block only). */
const ENGINE_ORDERS: EngineLayerOrder[][] = [
  ...ORDERS,
  ['row-bands', 'temporal-first'],
  ['row-bands', 'row-bands'],
  ['temporal-first', 'row-bands'],
  ['row-bands', 'spatial-first'],
];

/** Small core with temporal (unless `temporalPadding` is false) and spatial padding, cut frames and an exp readout (2 sessions). */
function smallModel(temporalPadding = true): CoreReadout {
  const model = buildSmallModel(undefined, { temporalPadding });
  randomizeWeights(model, 11);
  // non-trivial running statistics
  model.train();
  tf.tidy(() => model.forward(tf.randomNormal([3, 16, 9, 8, 2], 0.3, 1.2, 'float32', 3) as tf.Tensor5D, { session: 'b' }));
  model.eval();
  return model;
}

describe('GEMM forward graphs (engine predict and the exported gemm form) against TF.js', () => {
  it.each([
    ['with', true],
    ['without', false],
  ])(
    'engine forward (%s temporal padding): every stage order per layer, one and several temporal blocks, three stimulus lengths',
    async (_, temporalPadding) => {
      const ort = await loadOnnxRuntimeNode();
      const model = smallModel(temporalPadding);
      // batch 1 with a long stimulus is the demo's prediction: several blocks with the default block size too
      for (const [batch, T] of [
        [2, 16],
        [2, 23],
        [1, 40],
      ] as const) {
        const x = tf.randomNormal([batch, T, 9, 8, 2], 0, 1, 'float32', T) as tf.Tensor5D;
        const expected = model.forward(x, { session: 'b' });
        // the eval weights as the engine computes them (the weights graph's feeds) and the readout
        let feeds: Record<string, unknown> = {};
        const capture = new OnnxEngine(model, { ort: observedOrt(ort, { onRun: (f) => (feeds = { ...feeds, ...f }) }) });
        const viaEngine = await capture.predict(x, 'b');
        expect(relativeError(viaEngine.dataSync(), expected.dataSync()), `engine T=${T}`).toBeLessThan(TOL);
        const plan = enginePlan(model, 'b', T);
        // the default: row bands for these layers (few input channels) where their output is one time block
        const oneBlock = plan.layers.map((p) => temporalBlockSize(p.L, p.tOut) >= p.tOut);
        expect(oneBlock, `T=${T}`).toEqual(T === 16 ? [true, true] : [false, false]);
        const defaultOrders = oneBlock.map((one) => (one ? 'row-bands' : 'spatial-first'));
        expect(buildEngineForwardGraph(plan), `T=${T} default`).toEqual(buildEngineForwardGraph(plan, { orders: defaultOrders }));
        for (const orders of ENGINE_ORDERS)
          for (const blockSize of [undefined, (L: number) => Math.max(L - 1, 2)]) {
            const options = { orders, ...(blockSize ? { blockSize } : {}) };
            const blocks = (l: number) => (blockSize ?? temporalBlockSize)(plan.layers[l]!.L, plan.layers[l]!.tOut);
            if (orders.some((o, l) => o === 'row-bands' && blocks(l) < plan.layers[l]!.tOut)) {
              expect(() => buildEngineForwardGraph(plan, options), `T=${T} ${orders.join('/')}`).toThrow(/row bands need one time block/);
              continue;
            }
            const weightsGraph = await ort.InferenceSession.create(buildEngineForwardWeightsGraph(plan, options));
            const matrices = await weightsGraph.run(Object.fromEntries(weightsGraph.inputNames.map((k) => [k, feeds[k]])));
            const session = await ort.InferenceSession.create(buildEngineForwardGraph(plan, options));
            const out = (await session.run(Object.fromEntries(session.inputNames.map((k) => [k, matrices[k] ?? feeds[k]])))).responses!;
            expect(out.dims).toEqual(expected.shape);
            expect(
              relativeError(out.data as Float32Array, expected.dataSync()),
              `T=${T} ${orders.join('/')} blocks ${blockSize ? 'small' : 'default'}`,
            ).toBeLessThan(TOL);
          }
        capture.dispose();
        tf.dispose([x, expected, viaEngine]);
      }
      model.dispose();
    },
  );

  it.each([
    ['with', true],
    ['without', false],
  ])(
    'exported gemm form (%s temporal padding): dynamic batch and length, every stage order, several blocks, all sessions',
    async (_, temporalPadding) => {
      const model = smallModel(temporalPadding);
      for (const orders of ORDERS)
        for (const blockFrames of [undefined, () => 2]) {
          const bytes = exportOnnx(model, { convForm: 'gemm', layerOrders: orders, ...(blockFrames ? { blockFrames } : {}) });
          // without temporal padding each layer branches on its input length: one window (default blocks: 12
          // frames into layer 0, 10 into layer 1, i.e. stimuli of 12 and 14 frames) or windows
          const ifs = onnxProto.onnx.ModelProto.decode(bytes).graph!.node!.filter((node) => node.opType === 'If');
          expect(ifs.length).toBe(temporalPadding ? 0 : 2);
          const onnxModel = await loadOnnxModel(bytes);
          for (const [B, T] of [
            [1, 12],
            [2, 14],
            [3, 25],
          ] as const) {
            const x = tf.randomNormal([B, T, 9, 8, 2], 0, 1, 'float32', B * T) as tf.Tensor5D;
            const expected = model.forward(x);
            const got = await onnxModel.predict(x);
            expect(got.shape).toEqual(expected.shape);
            expect(
              relativeError(got.dataSync(), expected.dataSync()),
              `${orders.join('/')} B=${B} T=${T} blocks ${blockFrames ? 2 : 'default'}`,
            ).toBeLessThan(TOL);
            tf.dispose([x, expected, got]);
          }
          onnxModel.dispose();
        }
      model.dispose();
    },
  );

  it('engine predict reuses its eval weights only while parameters and buffers are unchanged', async () => {
    const ort = await loadOnnxRuntimeNode();
    const model = smallModel();
    const engine = new OnnxEngine(model, { ort });
    const x = tf.randomNormal([2, 16, 9, 8, 2], 0, 1, 'float32', 9) as tf.Tensor5D;
    let previous: Float32Array | undefined;
    const check = async (label: string) => {
      const expected = model.forward(x, { session: 'a' });
      const got = await engine.predict(x, 'a');
      expect(relativeError(got.dataSync(), expected.dataSync()), label).toBeLessThan(TOL);
      // the change matters (so a stale cache could not pass)
      if (previous && label !== 'cached') expect(relativeError(expected.dataSync() as Float32Array, previous), label).toBeGreaterThan(1e-3);
      previous = Float32Array.from(expected.dataSync());
      tf.dispose([expected, got]);
    };
    await check('first');
    await check('cached');
    const params = model.namedParameters();
    const buffers = model.namedBuffers();
    const names = [...params.keys()].filter((k) => k.includes('weight_spatial') || k.includes('cos_weights') || k.startsWith('readout.a.'));
    expect(names.length).toBeGreaterThanOrEqual(4);
    for (const name of names) {
      const v = params.get(name)!;
      tf.tidy(() => v.assign(tf.add(v, 0.3)));
      await check(`after changing ${name}`);
    }
    const rm = [...buffers.entries()].find(([k]) => k.includes('running_mean'))!;
    tf.tidy(() => rm[1].assign(tf.add(rm[1], 0.5)));
    await check(`after changing ${rm[0]}`);
    const before = tf.memory().numTensors;
    (await engine.predict(x, 'a')).dispose();
    expect(tf.memory().numTensors).toBe(before);
    engine.dispose();
    x.dispose();
    model.dispose();
  });

  it('exportOnnx defaults to the gemm form', () => {
    const model = smallModel();
    const bytes = exportOnnx(model);
    expect(new TextDecoder().decode(bytes)).toContain('toeplitz');
    model.dispose();
  });
});
