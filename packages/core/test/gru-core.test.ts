import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError, StateDictError, UnknownSessionError } from '@openretina/contracts';
import { REPO_ROOT } from '@openretina/test-utils/fixtures';
import { ConditionedGRUCore, ConvGRUCore, type ConditionedGRUCoreOptions, type ConvGRUCoreOptions } from '../src/index.js';
import {
  expectNoLeak,
  gradCheck,
  keysAndShapes,
  familyRef,
  familyEntries,
  familyStateDict,
  familyTensor,
  familyVideo,
  relErr,
} from '@openretina/test-utils/model-families-reference';

const KEYS = JSON.parse(readFileSync(join(REPO_ROOT, 'fixtures', 'models', 'model_families_state_dict_keys.json'), 'utf8')) as Record<
  string,
  [string, number[]][]
>;
const TOL = 1e-5;

/** The configurations of make_model_family_fixtures.py. */
const CONFIG_A: ConvGRUCoreOptions = {
  channels: [2, 3, 4, 3],
  nNeuronsDict: { s2: 4, s1: 3 },
  temporalKernelSizes: [5, 3, 3],
  spatialKernelSizes: [3, 3, 3],
  gammaHidden: 0.5,
  gammaInput: 0.3,
  gammaInSparse: 0.7,
  gammaTemporal: 2,
  inputPadding: true,
  hiddenPadding: [0, 1, 1],
  batchAdaptation: true,
  useProjections: true,
  useGru: true,
  gruKwargs: { recChannels: 3, inputKern: 3, recKern: 3, groups: 1, gammaRec: 1, padInput: true },
};
const CONFIG_B: ConditionedGRUCoreOptions = {
  condDim: 2,
  channels: [1, 3, 2],
  temporalKernelSizes: [4, 3],
  spatialKernelSizes: [3, 3],
  batchNormScale: false,
  finalNonlinearity: false,
  nonlinearity: 'Softplus',
  gammaInput: 0.2,
  gammaTemporal: 1,
  gammaHidden: 0.1,
  gammaInSparse: 0.1,
  useAvgReg: true,
};
const CONFIG_C: ConditionedGRUCoreOptions = {
  condDim: 3,
  channels: [2, 3, 2],
  nNeuronsDict: { a: 1 },
  temporalKernelSizes: 3,
  spatialKernelSizes: 3,
  bias: false,
  batchAdaptation: true,
  useProjections: true,
  useGru: true,
  gruKwargs: { recChannels: 2, inputKern: 3, recKern: 3, padInput: false },
};

type AnyCore = ConvGRUCore | ConditionedGRUCore;
const CASES: { name: string; build: () => AnyCore; session?: string; cond: boolean }[] = [
  { name: 'gru_a', build: () => new ConvGRUCore({ ...CONFIG_A, seed: 1 }), session: 's1', cond: false },
  { name: 'gru_b', build: () => new ConditionedGRUCore({ ...CONFIG_B, seed: 2 }), cond: true },
  { name: 'gru_c', build: () => new ConditionedGRUCore({ ...CONFIG_C, seed: 3 }), session: 'a', cond: true },
];

function run(core: AnyCore, x: tf.Tensor5D, session: string | undefined, cond: tf.Tensor2D | undefined): tf.Tensor5D {
  const opts = { ...(session === undefined ? {} : { session }), ...(cond ? { conditioning: cond } : {}) };
  return core.forward(x, opts);
}

/** `[B, T, H, W, C]` output → PyTorch `(B, C, T, H, W)` order. */
function toNcdhw(t: tf.Tensor): Float32Array {
  return tf.tidy(() => tf.transpose(t, [0, 4, 1, 2, 3]).dataSync() as Float32Array);
}

describe('ConvGRUCore / ConditionedGRUCore: PyTorch parity', () => {
  for (const c of CASES) {
    it(`${c.name}: state-dict keys and shapes equal OpenRetina's`, () => {
      const core = c.build();
      expect(keysAndShapes(core)).toEqual(KEYS[c.name]);
      core.dispose();
    });

    it(`${c.name}: eval and train outputs, regularizer, gradients and BatchNorm stats match PyTorch`, () => {
      const core = c.build();
      core.loadStateDict(familyStateDict(c.name));
      const x = familyVideo(`${c.name}/input`);
      const cond = c.cond ? (familyTensor(`${c.name}/cond`) as tf.Tensor2D) : undefined;
      const before = tf.memory().numTensors;
      core.eval();
      const yEval = run(core, x, c.session, cond);
      expect(relErr(toNcdhw(yEval), familyRef(`${c.name}/eval_out`).data as Float32Array)).toBeLessThan(TOL);
      const yNoKey = run(core, x, undefined, cond);
      expect(relErr(toNcdhw(yNoKey), familyRef(`${c.name}/eval_out_nokey`).data as Float32Array)).toBeLessThan(TOL);
      tf.dispose([yEval, yNoKey]);

      core.train();
      const r = tf.tidy(() => tf.transpose(familyTensor(`${c.name}/r`), [0, 2, 3, 4, 1]));
      const params = core.trainableParameters();
      let trainOut: Float32Array | undefined;
      let reg = NaN;
      const { value, grads } = tf.variableGrads(() => {
        const y = run(core, x, c.session, cond);
        trainOut = toNcdhw(y);
        const regT = core.regularizer();
        reg = regT.dataSync()[0]!;
        return tf.add(tf.sum(tf.mul(y, r)), regT) as tf.Scalar;
      }, [...params.values()]);
      expect(relErr(trainOut!, familyRef(`${c.name}/train_out`).data as Float32Array)).toBeLessThan(TOL);
      const refReg = (familyRef(`${c.name}/regularizer`).data as Float32Array)[0]!;
      expect(Math.abs(reg - refReg) / Math.max(Math.abs(refReg), 1e-12)).toBeLessThan(TOL);
      let compared = 0;
      // Errors relative to the tensor's max |value|, floored at 1e-2 of the largest reference gradient (some
      // gradients are exactly 0 in exact arithmetic, e.g. a FiLM shift followed by a training-mode BatchNorm).
      let globalMax = 0;
      for (const [k, t] of familyEntries(`${c.name}/grad/`)) if (k) for (const a of t) globalMax = Math.max(globalMax, Math.abs(a));
      for (const [name, v] of params) {
        const g = grads[v.name];
        let ref: Float32Array | undefined;
        try {
          ref = familyRef(`${c.name}/grad/${name}`).data as Float32Array;
        } catch {
          ref = undefined;
        }
        if (!ref) {
          // No gradient in PyTorch (e.g. the log-speed of another session): none or zeros here.
          if (g) expect(Math.max(...Array.from(g.dataSync(), Math.abs)), name).toBe(0);
          continue;
        }
        expect(g, name).toBeDefined();
        const refMax = Math.max(...Array.from(ref, Math.abs), 1e-2 * globalMax);
        const diff = Math.max(...Array.from(g!.dataSync(), (a, i) => Math.abs(a - ref![i]!)));
        expect(diff / refMax, name).toBeLessThan(1e-4);
        compared++;
      }
      expect(compared).toBeGreaterThan(10);
      for (const [k, v] of core.stateDict()) {
        if (!k.includes('running')) continue;
        expect(relErr(v.data as Float32Array, familyRef(`${c.name}/after_train/${k}`).data as Float32Array), k).toBeLessThan(TOL);
      }
      value.dispose();
      tf.dispose(Object.values(grads));
      r.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, ...(cond ? [cond] : [])]);
      core.dispose();
    });
  }

  it('gru_a: the individual regularizer terms match', () => {
    const core = new ConvGRUCore({ ...CONFIG_A, seed: 1 });
    core.loadStateDict(familyStateDict('gru_a'));
    const terms: [string, () => tf.Scalar][] = [
      ['group_sparsity', () => core.groupSparsity()],
      ['group_sparsity0', () => core.groupSparsity0()],
      ['spatial_laplace', () => core.spatialLaplace()],
      ['temporal_smoothness', () => core.temporalSmoothness()],
    ];
    for (const [name, fn] of terms) {
      const v = fn();
      const ref = (familyRef(`gru_a/terms/${name}`).data as Float32Array)[0]!;
      expect(Math.abs(v.dataSync()[0]! - ref) / Math.abs(ref), name).toBeLessThan(TOL);
      v.dispose();
    }
    core.dispose();
  });
});

describe('ConvGRUCore: structure, shapes, gradients, memory, errors', () => {
  it('reproduces the hidden-padding index shift and computes output shapes and framesCut', () => {
    const core = new ConvGRUCore({ ...CONFIG_A, seed: 1 });
    expect(core.inputPad).toEqual([0, 1, 1]);
    expect(core.hiddenPad).toEqual([0, [0, 1, 1], [0, 1, 1]]);
    // layer0 padded (0,1,1); layer1 gets hidden_pad[0] = 0; layer2 gets hidden_pad[1] = (0,1,1); GRU keeps the size.
    expect(core.outputShape([10, 8, 7, 2])).toEqual([2, 6, 5, 3]);
    expect(core.framesCut).toBe(8);
    expect(core.outChannels).toBe(3);
    expect(core.outchannelsQuirk).toBe(5 * 3);
    expect(core.blocks.map((b) => b.name)).toEqual(['layer0', 'projection', 'layer1', 'layer2', 'gru']);
    const x = tf.randomNormal([1, 10, 8, 7, 2], 0, 1, 'float32', 7) as tf.Tensor5D;
    const y = core.forward(x, { session: 's2' });
    expect(y.shape).toEqual([1, 2, 6, 5, 3]);
    tf.dispose([x, y]);
    core.dispose();
  });

  it('shares one log-speed per session between the core and every conv (counted and disposed once)', () => {
    const before = tf.memory().numTensors;
    const core = new ConvGRUCore({ ...CONFIG_A, seed: 1 });
    const names = [...core.namedParameters().keys()];
    expect(names.filter((n) => n.includes('log_speed'))).toEqual(['log_speed_s2', 'log_speed_s1']);
    const sd = core.stateDict();
    for (const k of ['features.layer0.conv.log_speed_s1', 'features.layer2.conv.log_speed_s1', 'features.projection.0.log_speed_s1']) {
      expect(sd.has(k), k).toBe(true);
    }
    // PyTorch's sum(p.numel() for p in core.parameters()) for this config.
    let expected = 0;
    for (const [k, v] of sd) {
      if (/running|num_batches|_log_speed_default|laplace\.filter/.test(k)) continue;
      if (/\.log_speed_/.test(k)) continue;
      expected += v.data.length;
    }
    expect(core.numParameters()).toBe(expected);
    // Changing the core's log-speed changes every conv's.
    tf.tidy(() => core.logSpeed('s1')!.assign(tf.tensor1d([0.5])));
    expect(core.stateDict().get('features.layer1.conv.log_speed_s1')!.data[0]).toBeCloseTo(0.5);
    core.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('finite-difference gradients w.r.t. parameters (incl. the shared log-speed) and the input', () => {
    const core = new ConditionedGRUCore({
      condDim: 2,
      channels: [1, 2, 2],
      nNeuronsDict: { s: 1 },
      temporalKernelSizes: [4, 3],
      spatialKernelSizes: [3, 3],
      batchAdaptation: true,
      useGru: true,
      hiddenPadding: true,
      gammaInput: 0.1,
      gammaHidden: 0.1,
      gammaInSparse: 0.1,
      gammaTemporal: 0.1,
      gruKwargs: { recChannels: 2, inputKern: 3, recKern: 3 },
      seed: 5,
    });
    // Larger weights than the 0.01 init so the check is not dominated by rounding.
    for (const [k, v] of core.trainableParameters()) {
      if (/sin_weights|cos_weights|weight_spatial/.test(k))
        tf.tidy(() => v.assign(tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', 3), 0.5)));
      if (/log_speed/.test(k)) tf.tidy(() => v.assign(tf.fill(v.shape, 0.2)));
    }
    core.eval();
    const x = tf.randomNormal([2, 7, 6, 6, 1], 0, 1, 'float32', 4) as tf.Tensor5D;
    const cond = tf.randomNormal([2, 2], 0, 1, 'float32', 5) as tf.Tensor2D;
    const f = (): tf.Tensor =>
      tf.tidy(() =>
        tf.concat([tf.reshape(core.forward(x, { session: 's', conditioning: cond }), [-1]), tf.reshape(core.regularizer(), [1])]),
      );
    const params = Object.fromEntries(core.trainableParameters());
    expect(params.log_speed_s).toBeDefined();
    gradCheck(f, params, { samples: 2 });
    const xv = tf.variable(x);
    gradCheck(
      () => tf.tidy(() => core.forward(xv as unknown as tf.Tensor5D, { session: 's', conditioning: cond })),
      { input: xv },
      { h: 3e-2 },
    );
    // Training mode (batch statistics).
    core.train();
    gradCheck(
      f,
      { 'features.layer0.conv.weight_spatial': params['features.layer0.conv.weight_spatial']!, log_speed_s: params.log_speed_s! },
      { samples: 3 },
    );
    tf.dispose([x, cond, xv]);
    core.dispose();
  });

  it('state-dict round trip into a fresh core gives identical outputs', () => {
    const a = new ConditionedGRUCore({ ...CONFIG_C, seed: 3 });
    a.loadStateDict(familyStateDict('gru_c'));
    const b = new ConditionedGRUCore({ ...CONFIG_C, seed: 99 });
    b.loadStateDict(a.stateDict());
    a.eval();
    b.eval();
    const x = tf.randomNormal([1, 6, 7, 7, 2], 0, 1, 'float32', 7) as tf.Tensor5D;
    const cond = tf.randomNormal([1, 3], 0, 1, 'float32', 7) as tf.Tensor2D;
    const ya = a.forward(x, { session: 'a', conditioning: cond });
    const yb = b.forward(x, { session: 'a', conditioning: cond });
    expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
    tf.dispose([x, cond, ya, yb]);
    a.dispose();
    b.dispose();
  });

  it('leaves no tensors behind after a forward, a gradient and a regularizer (train and eval)', () => {
    const core = new ConvGRUCore({ ...CONFIG_A, seed: 1 });
    const x = tf.randomNormal([1, 10, 8, 7, 2], 0, 1, 'float32', 7) as tf.Tensor5D;
    const vars = [...core.trainableParameters().values()];
    for (const mode of ['train', 'eval'] as const) {
      core[mode]();
      expectNoLeak(() => tf.tidy(() => tf.add(tf.sum(core.forward(x, { session: 's1' })), core.regularizer())), vars);
    }
    x.dispose();
    core.dispose();
  });

  it('throws clear OpenRetinaErrors', () => {
    const core = new ConvGRUCore({ ...CONFIG_A, seed: 1 });
    const x = tf.zeros([1, 10, 8, 7, 2]) as tf.Tensor5D;
    expect(() => core.forward(tf.zeros([1, 10, 8, 7, 3]) as tf.Tensor5D)).toThrow(ShapeError);
    expect(() => core.forward(tf.zeros([10, 8, 7, 2]) as unknown as tf.Tensor5D)).toThrow(ShapeError);
    expect(() => core.forward(tf.zeros([1, 3, 8, 7, 2]) as tf.Tensor5D)).toThrow(/too small/);
    expect(() => core.forward(x, { session: 'nope' })).toThrow(UnknownSessionError);
    expect(() => new ConvGRUCore({ channels: [1, 2], batchAdaptation: true })).toThrow(ConfigError);
    expect(() => new ConvGRUCore({ channels: [1, 2], nonlinearity: 'Swish' })).toThrow(ConfigError);
    expect(() => new ConvGRUCore({ channels: [1, 2, 3], temporalKernelSizes: [5], spatialKernelSizes: 3 })).toThrow(ConfigError);
    const bad = familyStateDict('gru_a');
    bad.delete('log_speed_s1');
    expect(() => core.loadStateDict(bad)).toThrow(StateDictError);
    expect(() => core.loadStateDict(familyStateDict('gru_c'))).toThrow(/missing keys|unexpected keys|shape/);
    const cc = new ConditionedGRUCore({ ...CONFIG_B, seed: 2 });
    expect(() => cc.forward(tf.zeros([2, 7, 6, 6, 1]) as tf.Tensor5D, { conditioning: tf.zeros([2, 3]) as tf.Tensor2D })).toThrow(
      ShapeError,
    );
    tf.dispose(x);
    core.dispose();
    cc.dispose();
  });

  it('without batch adaptation a session is ignored; other conv types have a zero regularizer', () => {
    const core = new ConvGRUCore({ channels: [1, 2], temporalKernelSizes: 3, spatialKernelSizes: 3, seed: 1 });
    core.eval();
    const x = tf.randomNormal([1, 5, 5, 5, 1], 0, 1, 'float32', 7) as tf.Tensor5D;
    const a = core.forward(x);
    const b = core.forward(x, { session: 'anything' });
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, b]);
    core.dispose();
    const full = new ConvGRUCore({
      channels: [1, 2],
      temporalKernelSizes: 3,
      spatialKernelSizes: 3,
      convolutionType: 'full',
      gammaInput: 1,
      seed: 1,
    });
    const reg = full.regularizer();
    expect(reg.dataSync()[0]).toBe(0);
    expect([...full.stateDict().keys()]).toContain('features.layer0.conv.conv.weight');
    tf.dispose([reg, x]);
    full.dispose();
  });
});
