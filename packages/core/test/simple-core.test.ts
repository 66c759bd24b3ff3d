// SimpleCoreWrapper against the real OpenRetina (fixtures/core/make_core_fixtures.py): every convolution type,
// padding forms, max-pooling, input down-sampling, colour squashing, dropout (eval), cut frames, regularizers.
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isOpenRetinaError, type StateDict } from '@openretina/contracts';
import { SimpleCoreWrapper, type SimpleCoreOptions } from '../src/index.js';
import { REPO_ROOT, ndhwcToNcdhw, ncdhwToNdhwc, readRawSafetensors, relativeError, type RawTensor } from '@openretina/test-utils/fixtures';

const dir = join(REPO_ROOT, 'fixtures', 'core');
const cases = JSON.parse(readFileSync(join(dir, 'simple_core_cases.json'), 'utf8')) as Record<
  string,
  { options: Record<string, unknown>; keys: [string, number[]][]; regularizer?: number }
>;
let ref: Map<string, RawTensor>;

const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
function optionsOf(name: string): SimpleCoreOptions {
  return Object.fromEntries(Object.entries(cases[name]!.options).map(([k, v]) => [camel(k), v])) as unknown as SimpleCoreOptions;
}
function stateOf(name: string): StateDict {
  const sd: StateDict = new Map();
  const head = `${name}/state/`;
  for (const [k, t] of ref) {
    if (k.startsWith(head)) sd.set(k.slice(head.length), { shape: t.shape, dtype: t.dtype === 'I64' ? 'int64' : 'float32', data: t.data });
  }
  return sd;
}
function video(name: string): tf.Tensor5D {
  const { data, shape } = ncdhwToNdhwc(ref.get(name)!);
  return tf.tensor5d(data, shape);
}
function build(name: string): SimpleCoreWrapper {
  const core = new SimpleCoreWrapper(optionsOf(name));
  core.loadStateDict(stateOf(name));
  return core;
}

beforeAll(() => {
  ref = readRawSafetensors(join(dir, 'simple_core_reference.safetensors'));
});

describe('SimpleCoreWrapper matches OpenRetina', () => {
  for (const name of Object.keys(cases)) {
    it(`${name}: state-dict keys, eval output, shapes`, () => {
      const core = new SimpleCoreWrapper(optionsOf(name));
      expect([...core.stateDict()].map(([k, v]) => [k, [...v.shape]])).toEqual(cases[name]!.keys);
      core.loadStateDict(stateOf(name));
      core.eval();
      const x = video(`${name}/input`);
      const before = tf.memory().numTensors;
      const y = core.forward(x);
      const expected = ref.get(`${name}/eval_out`)!;
      const [b, c, t, h, w] = expected.shape as number[];
      expect(y.shape).toEqual([b, t, h, w, c]);
      expect(core.outputShape([x.shape[1], x.shape[2], x.shape[3], x.shape[4]])).toEqual([t, h, w, c]);
      expect(relativeError(ndhwcToNcdhw(y.dataSync(), y.shape), expected.data as Float32Array)).toBeLessThan(1e-5);
      y.dispose();
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      core.dispose();
    });

    if (cases[name]!.regularizer === undefined) continue;
    it(`${name}: training forward, regularizer, gradients and BatchNorm statistics`, () => {
      const core = build(name);
      core.train();
      const x = video(`${name}/input`);
      const expectedOut = ref.get(`${name}/train_out`)!;
      const n = expectedOut.data.length;
      // The reference loss weights the NCDHW output with linspace(−1, 1, n).
      const weightsNcdhw = Float32Array.from({ length: n }, (_, i) => -1 + (2 * i) / (n - 1));
      const [b, c, t, h, w] = expectedOut.shape as number[];
      const weights = tf.tensor5d(ncdhwToNdhwc({ shape: [b!, c!, t!, h!, w!], dtype: 'F32', data: weightsNcdhw }).data, [
        b!,
        t!,
        h!,
        w!,
        c!,
      ]);
      const params = core.trainableParameters();
      const names = new Map([...params].map(([k, v]) => [v.name, k]));
      tf.dispose(core.regularizer()); // lazily built caches (time_independent's detached weight view) exist from here on
      const before = tf.memory().numTensors;
      let outData: Float32Array | undefined;
      let reg = 0;
      const { grads, value } = tf.variableGrads(() => {
        const y = core.forward(x);
        outData = ndhwcToNcdhw(y.dataSync(), y.shape);
        const r = core.regularizer();
        reg = r.dataSync()[0]!;
        return tf.add(tf.sum(tf.mul(y, weights)), r) as tf.Scalar;
      }, [...params.values()]);
      expect(relativeError(outData!, expectedOut.data as Float32Array)).toBeLessThan(1e-5);
      expect(Math.abs(reg - cases[name]!.regularizer!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(cases[name]!.regularizer!)));
      // Gradients that nearly cancel (e.g. a bias followed by another BatchNorm) are compared against a floor of
      // 1 % of the largest gradient of the model, so float32 summation order does not decide the test.
      let globalMax = 0;
      for (const [k, t] of ref)
        if (k.startsWith(`${name}/grad/`)) for (const v of t.data as Float32Array) globalMax = Math.max(globalMax, Math.abs(v));
      for (const [varName, g] of Object.entries(grads)) {
        const key = names.get(varName)!;
        const expected = ref.get(`${name}/grad/${key}`);
        if (!expected) {
          expect(Math.max(...Array.from(g.dataSync(), Math.abs)), `${key} should get no gradient`).toBe(0);
          continue;
        }
        const exp = expected.data as Float32Array;
        const scale = Math.max(...Array.from(exp, Math.abs), 0.01 * globalMax);
        const diff = Math.max(...Array.from(g.dataSync(), (v, i) => Math.abs(v - exp[i]!)));
        // 1e-4: the reference is PyTorch float32 on random 0.5-scale weights; summation order differs per backend.
        expect(diff / scale, key).toBeLessThan(1e-4);
      }
      const inputGrad = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(core.forward(v as tf.Tensor5D), weights)))(x);
      expect(
        relativeError(ndhwcToNcdhw(inputGrad.dataSync(), inputGrad.shape), ref.get(`${name}/input_grad`)!.data as Float32Array),
      ).toBeLessThan(1e-5);
      tf.dispose([value, inputGrad, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, weights]);
      core.dispose();
    });
  }

  it('updates BatchNorm running statistics like PyTorch after one training forward', () => {
    for (const name of Object.keys(cases)) {
      if (cases[name]!.regularizer === undefined) continue;
      const core = build(name);
      core.train();
      const x = video(`${name}/input`);
      tf.dispose(core.forward(x));
      const sd = core.stateDict();
      const head = `${name}/bn_after/`;
      for (const [k, t] of ref) {
        if (!k.startsWith(head)) continue;
        expect(relativeError(sd.get(k.slice(head.length))!.data as Float32Array, t.data as Float32Array), `${name} ${k}`).toBeLessThan(
          1e-5,
        );
      }
      x.dispose();
      core.dispose();
    }
  });

  it('round-trips its state dict: a fresh core loading it gives identical outputs', () => {
    const a = build('custom_separable_same_pool_cut').eval();
    const b = new SimpleCoreWrapper({ ...optionsOf('custom_separable_same_pool_cut'), seed: 99 }).eval();
    b.loadStateDict(a.stateDict());
    const x = video('custom_separable_same_pool_cut/input');
    const [ya, yb] = [a.forward(x), b.forward(x)];
    expect(Array.from(ya.dataSync())).toEqual(Array.from(yb.dataSync()));
    tf.dispose([x, ya, yb]);
    a.dispose();
    b.dispose();
  });

  it('applies Dropout3d only in training mode, zeroing whole channels', () => {
    const core = build('downsample_dropout_eval');
    const x = video('downsample_dropout_eval/input');
    core.train();
    const y = core.forward(x);
    const [B, T, H, W, C] = y.shape;
    const data = y.dataSync();
    let zeroChannels = 0;
    for (let b = 0; b < B; b++)
      for (let c = 0; c < C; c++) {
        let allZero = true;
        for (let p = 0; p < T * H * W && allZero; p++) if (data[(b * T * H * W + p) * C + c] !== 0) allZero = false;
        if (allZero) zeroChannels++;
      }
    expect(zeroChannels).toBeGreaterThan(0);
    tf.dispose([x, y]);
    core.dispose();
  });

  it('gives clear errors for bad configs and inputs', () => {
    const err = (fn: () => unknown, code: string, text: string) => {
      try {
        fn();
        expect.unreachable();
      } catch (e) {
        expect(isOpenRetinaError(e, code as never), String(e)).toBe(true);
        expect((e as Error).message).toContain(text);
      }
    };
    const base = optionsOf('custom_separable_pad_tuple');
    err(() => new SimpleCoreWrapper({ ...base, temporalKernelSizes: [5] }), 'OPENRETINA_CONFIG', 'temporal and spatial kernel sizes');
    err(() => new SimpleCoreWrapper({ ...base, convolutionType: 'fancy' }), 'OPENRETINA_CONFIG', 'Unknown convolution_type "fancy"');
    err(
      () => new SimpleCoreWrapper({ ...base, colorSquashingWeights: [0.5, 0.5] }),
      'OPENRETINA_CONFIG',
      'colour squashing needs channels[0] = 1',
    );
    const core = new SimpleCoreWrapper(base);
    const x = tf.zeros([1, 12, 10, 9, 3]) as tf.Tensor5D;
    err(() => core.forward(x), 'OPENRETINA_SHAPE', 'expects a stimulus [batch, time, height, width, 2]');
    const tiny = tf.zeros([1, 3, 10, 9, 2]) as tf.Tensor5D;
    err(() => core.forward(tiny), 'OPENRETINA_SHAPE', 'too small');
    tf.dispose([x, tiny]);
    core.dispose();
  });
});
