import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoreReadout } from '@openretina/models';
import { OPENRETINA_FIXTURES, ref, relativeError } from '@openretina/test-utils/fixtures';
import { BackendError, type LossAndGradients } from '@openretina/contracts';
import { SingleCellSeparatedLNP, TfjsEngine } from '@openretina/models';
import { SimpleCoreWrapper } from '@openretina/core';
import type { SpaceTimeSeparableConv3d } from '@openretina/layers';
import { coreReadoutFromCheckpointBytes } from '@openretina/hub';
import { refVideo } from '@openretina/test-utils/fixture-model';
import { OnnxEngine, createEngine, loadOnnxRuntimeNode, onnxSupport, type OrtLike } from '../src/node.js';
import { loadOptionalPeer } from '../src/optional-peer.js';
import { buildSmallModel, randomizeWeights } from './small-model.js';

const TOL = 1e-5;

function snapshot(model: CoreReadout): Map<string, Float32Array> {
  return new Map([...model.stateDict()].map(([k, v]) => [k, Float32Array.from(v.data as ArrayLike<number>, Number)]));
}

/** Both engines on the same model state: one training step's loss parts, every gradient and the BatchNorm stats. */
async function compareStep(model: CoreReadout, x: tf.Tensor5D, y: tf.Tensor3D, session: string, ort: OrtLike): Promise<void> {
  const start = snapshot(model);
  model.train();
  const ref = await new TfjsEngine(model).lossAndGrads(x, y, session);
  const afterRef = snapshot(model);
  model.loadStateDict(new Map([...model.stateDict()].map(([k, v]) => [k, { ...v, data: v.dtype === 'int64' ? v.data : start.get(k)! }])));
  const engine = new OnnxEngine(model, { ort });
  const before = tf.memory().numTensors;
  const got = await engine.lossAndGrads(x, y, session);
  expect(Math.abs(got.data / ref.data - 1)).toBeLessThan(TOL);
  expect(Math.abs(got.total / ref.total - 1)).toBeLessThan(TOL);
  expect(Object.keys(got.regularizers)).toEqual(['core', 'readout']);
  for (const k of ['core', 'readout']) {
    expect(Math.abs(got.regularizers[k]! - ref.regularizers[k]!), k).toBeLessThanOrEqual(TOL * Math.abs(ref.regularizers[k]!));
  }
  expectSameGrads(got, ref);
  const afterOnnx = snapshot(model);
  for (const [k, v] of afterRef) if (k.includes('running_')) expect(relativeError(afterOnnx.get(k)!, v), k).toBeLessThan(TOL);
  tf.dispose([...got.grads.values()]);
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([...ref.grads.values()]);
  engine.dispose();
}

/** The same parameters get gradients, each within 1e-5 of the reference's. */
function expectSameGrads(got: LossAndGradients, ref: LossAndGradients): void {
  expect([...got.grads.keys()].sort()).toEqual([...ref.grads.keys()].sort());
  // Gradients that nearly cancel (a bias followed by another BatchNorm) are measured against a floor of 1 % of the
  // largest gradient of the model, so float32 summation order (which differs per engine and backend) cannot decide.
  let globalMax = 0;
  for (const g of ref.grads.values()) for (const v of g.dataSync()) globalMax = Math.max(globalMax, Math.abs(v));
  for (const [name, g] of ref.grads) {
    const want = g.dataSync();
    const have = got.grads.get(name)!.dataSync();
    const scale = Math.max(...Array.from(want, Math.abs), 0.01 * globalMax);
    const diff = Math.max(...Array.from(have, (v, i) => Math.abs(v - want[i]!)));
    expect(diff / scale, name).toBeLessThan(TOL);
  }
}

describe('ONNX engine (forward + backward graphs) against the TF.js reference', () => {
  let ort: OrtLike;
  beforeAll(async () => {
    // The backend comes from test-utils/backend-setup.ts (cpu, or wasm in the wasm project).
    ort = await loadOnnxRuntimeNode();
  });

  describe('fixture model (OpenRetina 1.1.1 hoefling low-res)', () => {
    let model: CoreReadout;
    beforeAll(() => {
      model = coreReadoutFromCheckpointBytes(new Uint8Array(readFileSync(join(OPENRETINA_FIXTURES, 'model.ckpt'))));
    });
    afterAll(() => model.dispose());

    it('training step: Poisson loss, regularizers, every parameter gradient and BatchNorm running stats within 1e-5', async () => {
      const x = refVideo('input/x');
      const y = tf.tensor3d(ref('train/targets/session_2').data as Float32Array, [2, 50, 35]);
      await compareStep(model, x, y, 'session_2', ort);
      tf.dispose([x, y]);
    });

    it('eval prediction and input gradient (MEI) within 1e-5, on two stimulus lengths', async () => {
      model.eval();
      const engine = new OnnxEngine(model, { ort });
      const tfjs = new TfjsEngine(model);
      for (const name of ['input/x', 'input/x_T40']) {
        const x = refVideo(name);
        const expected = await tfjs.predict(x, 'session_2');
        const got = await engine.predict(x, 'session_2');
        expect(relativeError(got.dataSync(), expected.dataSync()), name).toBeLessThan(TOL);
        const cot = tf.randomNormal(expected.shape, 0, 1, 'float32', 7) as tf.Tensor3D;
        const a = await tfjs.inputGradient(x, 'session_2', cot);
        const b = await engine.inputGradient(x, 'session_2', cot);
        expect(relativeError(b.output.dataSync(), a.output.dataSync())).toBeLessThan(TOL);
        expect(relativeError(b.grad.dataSync(), a.grad.dataSync()), `${name} d_x`).toBeLessThan(TOL);
        tf.dispose([x, expected, got, cot, a.output, a.grad, b.output, b.grad]);
      }
      engine.dispose();
    });
  });

  it('small random model with padding in time and space, cut frames, exp readout, log-speeds per session', async () => {
    const model = buildSmallModel();
    const x = tf.randomNormal([3, 16, 9, 8, 2], 0, 1, 'float32', 1) as tf.Tensor5D;
    const y = tf.randomUniform([3, 16, 4], 0, 2, 'float32', 2) as tf.Tensor3D;
    await compareStep(model, x, y, 'b', ort);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('readout weight and penalties on the host (sum and mean penalties, positive features) or, for other classes, in TF.js', async () => {
    const x = tf.randomNormal([2, 16, 9, 8, 2], 0, 1, 'float32', 5) as tf.Tensor5D;
    const y = tf.randomUniform([2, 16, 4], 0, 2, 'float32', 6) as tf.Tensor3D;
    const kernels: number[] = [];
    for (const fallback of [false, true]) {
      const model = buildSmallModel(undefined, { positive: true, readoutRegAvg: true });
      randomizeWeights(model, 21);
      // a subclass may change the penalty: the engine then takes the whole chain rule to TF.js
      if (fallback) Object.setPrototypeOf(model.core, class extends SimpleCoreWrapper {}.prototype);
      await compareStep(model, x, y, 'b', ort);
      model.train();
      const engine = new OnnxEngine(model, { ort });
      await engine.lossAndGrads(x, y, 'b').then((s) => tf.dispose([...s.grads.values()])); // session and caches
      const info = await tf.profile(async () => tf.dispose([...(await engine.lossAndGrads(x, y, 'b')).grads.values()]));
      kernels.push(info.kernels.length);
      engine.dispose();
      model.dispose();
    }
    // the host chain rule leaves a few kernels (the positive clamp, the spatial kernels' reshapes); TF.js's over 100
    expect(kernels[0]!).toBeLessThan(20);
    expect(kernels[1]!).toBeGreaterThan(100);
    tf.dispose([x, y]);
  });

  it('training steps on one engine: a log speed changed between steps, a parameter subset, a trained log speed', async () => {
    // The engine computes the temporal kernels and their chain rule on the host from a basis cached per log-speed
    // value, and leaves a kernel whose log speed trains to TF.js; the models the engine covers today train none.
    const model = buildSmallModel();
    randomizeWeights(model, 11);
    model.train();
    const x = tf.randomNormal([2, 16, 9, 8, 2], 0, 1, 'float32', 3) as tf.Tensor5D;
    const y = tf.randomUniform([2, 16, 4], 0, 2, 'float32', 4) as tf.Tensor3D;
    const engine = new OnnxEngine(model, { ort });
    const tfjs = new TfjsEngine(model);
    const step = async (params?: ReadonlyMap<string, tf.Variable>): Promise<void> => {
      // The reference on TF.js's cpu backend: on wasm its own float32 kernels put layer 1's cos_weights gradient
      // 4e-5 (relative) off for these random weights, where the engine (host chain rule or not) stays within 7e-6 of cpu.
      const backend = tf.getBackend();
      await tf.setBackend('cpu');
      let ref: LossAndGradients;
      try {
        ref = await tfjs.lossAndGrads(x, y, 'b', params);
      } finally {
        await tf.setBackend(backend);
      }
      const before = tf.memory().numTensors;
      const got = await engine.lossAndGrads(x, y, 'b', params);
      expect(Math.abs(got.total / ref.total - 1)).toBeLessThan(TOL);
      expectSameGrads(got, ref);
      tf.dispose([...got.grads.values()]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([...ref.grads.values()]);
    };
    await step(); // caches the basis at log speed 0
    const layers = (model.core as unknown as { features: { layers: { conv: SpaceTimeSeparableConv3d }[] } }).features.layers;
    const speed = layers[1]!.conv.logSpeed('b');
    speed.assign(tf.tensor1d([0.3]));
    await step();
    const all = model.parametersForSession('b');
    await step(new Map([...all].filter(([name]) => !/layer0\.conv\.sin_weights|weight_spatial|readout\.b\.bias/.test(name))));
    (speed as { trainable: boolean }).trainable = true;
    try {
      await step(new Map([...all, ['core.features.layer1.conv._log_speed_default', speed]]));
    } finally {
      (speed as { trainable: boolean }).trainable = false;
    }
    engine.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });

  it('createEngine: tfjs always, onnx when the model is covered, auto prefers onnx', () => {
    const model = coreReadoutFromCheckpointBytes(new Uint8Array(readFileSync(join(OPENRETINA_FIXTURES, 'model.ckpt'))));
    expect(createEngine(model, 'tfjs', ort).name).toBe('tfjs');
    expect(createEngine(model, 'auto', ort).name).toBe('onnx');
    expect(createEngine(model, 'auto').name).toBe('tfjs');
    expect(() => createEngine(model, 'onnx')).toThrow(/needs onnxruntime: `npm i onnxruntime-node`/);
    model.dispose();
  });

  it('says what it cannot do: a non-default training loss, a model family the graphs do not cover', async () => {
    const model = buildSmallModel();
    model.setLosses({ loss: { type: 'mse' } });
    expect(OnnxEngine.supports(model)).toEqual({ ok: true }); // predictions and MEIs need no training loss
    const support = OnnxEngine.supports(model, { training: true });
    expect(support.ok).toBe(false);
    expect(createEngine(model, 'auto', ort).name).toBe('onnx');
    expect(createEngine(model, 'auto', ort, { training: true }).name).toBe('tfjs');
    expect(() => createEngine(model, 'onnx', ort, { training: true })).toThrow(
      /^engine "onnx": the ONNX graphs compute only the default loss PoissonLoss3d \(sum\), the model trains with MSE3d/,
    );
    const engine = new OnnxEngine(model, { ort });
    const x = tf.randomNormal([1, 16, 9, 8, 2], 0, 1, 'float32', 1) as tf.Tensor5D;
    const y = tf.randomUniform([1, 16, 4], 0, 2, 'float32', 2) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    await expect(engine.lossAndGrads(x, y, 'b')).rejects.toThrow(
      /cannot train this model: the ONNX graphs compute only the default loss .*"type":"mse"/,
    );
    expect(tf.memory().numTensors).toBe(before);
    engine.dispose();
    tf.dispose([x, y]);
    model.dispose();

    const lnp = new SingleCellSeparatedLNP({ inShape: [1, 5, 4, 4], spatKernelSize: [4, 4] });
    expect(onnxSupport(lnp)).toEqual({
      ok: false,
      reason: 'the ONNX graphs do not cover this model (they cover core-readout models only, got SingleCellSeparatedLNP)',
    });
    expect(createEngine(lnp, 'auto', ort)).toBeInstanceOf(TfjsEngine);
    expect(() => createEngine(lnp, 'onnx', ort)).toThrow(/core-readout models only/);
    lnp.dispose();
  });
});

describe('optional onnxruntime peers', () => {
  it('a missing runtime is a BackendError naming the package to install; other load failures keep their cause', async () => {
    const missing = 'onnxruntime-missing-for-this-test';
    const error = await loadOptionalPeer(missing, () => import(/* @vite-ignore */ missing), 'ONNX Runtime').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toBe(`ONNX Runtime needs the optional package ${missing}, which is not installed: npm i ${missing}`);
    const broken = new Error('libonnxruntime.so: cannot open shared object file');
    const other = await loadOptionalPeer('onnxruntime-node', () => Promise.reject(broken), 'ONNX Runtime').catch((e: unknown) => e);
    expect(other).toBeInstanceOf(BackendError);
    expect((other as Error).message).toMatch(/onnxruntime-node could not be loaded: libonnxruntime/);
    expect((other as Error).cause).toBe(broken);
    expect(await loadOptionalPeer('present', async () => ({ default: 42 }), 'x')).toBe(42);
  });
});
