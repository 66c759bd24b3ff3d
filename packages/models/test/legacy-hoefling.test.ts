import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@openretina/backend';
import { ConfigError, ShapeError, StateDictError, UnknownSessionError, UnsupportedError, type StateDict } from '@openretina/contracts';
import { REPO_ROOT, ncdhwToNdhwc, readRawSafetensors, type RawTensor } from '@openretina/test-utils/fixtures';
import {
  EnsembleModel,
  type LegacyEncoder,
  LegacyScale2d,
  type ParametricFactorizedBatchConv3dCore,
  type SpatialXFeature3d,
  buildLegacyHoeflingModel,
  type LegacyDataInfo,
} from '../src/index.js';
import { expectNoLeak, gradCheck, keysAndShapes, relErr } from '@openretina/test-utils/model-families-reference';

const DIR = join(REPO_ROOT, 'fixtures', 'hub', 'legacy');
interface Meta {
  seeds: number[];
  sessions: string[];
  neurons: Record<string, number>;
  members: { seed: number; config: Record<string, unknown>; state: [string, number[]][] }[];
}
const META = JSON.parse(readFileSync(join(DIR, 'reference.json'), 'utf8')) as Meta;
let cache: Map<string, RawTensor> | undefined;
function refT(name: string): RawTensor {
  cache ??= readRawSafetensors(join(DIR, 'reference.safetensors'));
  const t = cache.get(name);
  if (!t) throw new Error(`no reference tensor ${name}`);
  return t;
}
const data = (name: string): Float32Array => refT(name).data as Float32Array;
const TOL = 1e-5;
const backends = (process.env.OPENRETINA_TEST_BACKENDS ?? 'cpu,wasm').split(',');
const SORTED = [...META.sessions].sort();

function dataInfo(): LegacyDataInfo {
  return Object.fromEntries(
    META.sessions.map((s) => [
      s,
      {
        inputDimensions: [32, 2, 150, 18, 16],
        inputChannels: 2,
        outputDimension: META.neurons[s]!,
        meanResponse: new Float32Array(META.neurons[s]!).fill(0.5),
      },
    ]),
  );
}

function memberState(i: number): StateDict {
  cache ??= readRawSafetensors(join(DIR, 'reference.safetensors'));
  const head = `member${i}/state/`;
  const out: StateDict = new Map();
  for (const [k, t] of cache) {
    if (!k.startsWith(head)) continue;
    const key = k.slice(head.length);
    // The safetensors writer stores 0-d tensors (num_batches_tracked) as [1].
    const shape = key.endsWith('num_batches_tracked') ? [] : t.shape;
    out.set(key, { shape, dtype: t.data instanceof BigInt64Array ? 'int64' : 'float32', data: t.data });
  }
  return out;
}

function member(i: number, seed = 3): LegacyEncoder {
  return buildLegacyHoeflingModel(META.members[i]!.config, dataInfo(), { seed });
}

function input(): tf.Tensor5D {
  const { data: d, shape } = ncdhwToNdhwc(refT('input/x'));
  return tf.tensor5d(d, shape);
}

/** A small model for gradient and error tests. */
function tiny(config: Record<string, unknown> = {}): LegacyEncoder {
  return buildLegacyHoeflingModel(
    {
      hidden_channels: [2, 2],
      temporal_kernel_size: [6, 3],
      spatial_kernel_size: [3, 3],
      layers: 2,
      gaussian_masks: true,
      stack: -1,
      ...config,
    },
    {
      b: { inputDimensions: [1, 2, 12, 7, 6], inputChannels: 2, outputDimension: 2, meanResponse: new Float32Array([0.3, 0.6]) },
      a: { inputDimensions: [1, 2, 12, 7, 6], inputChannels: 2, outputDimension: 3, meanResponse: new Float32Array([0.1, 0.2, 0.3]) },
    },
    { seed: 5 },
  );
}

/** Random values in every float parameter (so log-speeds, masks and biases matter in the gradient test). */
function perturb(m: LegacyEncoder, seed: number, amp = 0.3): void {
  const sd = m.stateDict();
  let k = 0;
  for (const [name, e] of sd) {
    if (e.dtype !== 'float32' || name.endsWith('grid') || name.includes('laplace')) continue;
    const d = e.data as Float32Array;
    for (let j = 0; j < d.length; j++)
      d[j] = name.includes('running_var') ? 1 + 0.3 * Math.sin(seed + k++) : amp * Math.sin(seed * 7 + k++ * 1.7);
  }
  m.loadStateDict(sd);
}

for (const backend of backends) {
  describe(`legacy Höfling 2024 model on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend(backend as 'cpu' | 'wasm');
    });

    it('has the PyTorch state-dict keys, shapes and order of SFB3d_core_SxF3d_readout', () => {
      for (let i = 0; i < META.members.length; i++) {
        const m = member(i);
        expect(keysAndShapes(m)).toEqual(META.members[i]!.state);
        m.dispose();
      }
    });

    it('reproduces each PyTorch member and the ensemble mean within 1e-5, output (1, T − 30, N)', () => {
      const x = input();
      const members = META.members.map((_, i) => {
        const m = member(i);
        m.loadStateDict(memberState(i));
        return m.eval();
      });
      const ensemble = new EnsembleModel(members);
      expect(ensemble.framesCut).toBe(30);
      expect(ensemble.sessions).toEqual(SORTED);
      for (const s of META.sessions) {
        members.forEach((m, i) => {
          const y = m.forward(x, { session: s });
          expect(y.shape).toEqual([1, x.shape[1] - 30, META.neurons[s]]);
          expect(relErr(y.dataSync(), data(`member${i}/out/${s}`))).toBeLessThan(TOL);
          y.dispose();
        });
        const y = ensemble.forward(x, { session: s });
        expect(relErr(y.dataSync(), data(`ensemble/out/${s}`))).toBeLessThan(TOL);
        y.dispose();
      }
      // No session: all sessions (each with its own log-speed) concatenated in sorted order.
      const all = ensemble.forward(x);
      const expected = new Float32Array(all.size);
      const n = SORTED.map((s) => META.neurons[s]!);
      const N = n.reduce((a, b) => a + b, 0);
      for (let t = 0; t < all.shape[1]; t++) {
        let off = 0;
        SORTED.forEach((s, j) => {
          const ref = data(`ensemble/out/${s}`);
          for (let k = 0; k < n[j]!; k++) expected[t * N + off + k] = ref[t * n[j]! + k]!;
          off += n[j]!;
        });
      }
      expect(relErr(all.dataSync(), expected)).toBeLessThan(TOL);
      tf.dispose([x, all]);
      ensemble.dispose();
    });

    it('reproduces the regularizer terms of PyTorch', () => {
      for (let i = 0; i < META.members.length; i++) {
        const m = member(i);
        m.loadStateDict(memberState(i));
        const core = m.core as ParametricFactorizedBatchConv3dCore;
        const check = (t: tf.Scalar, name: string) => {
          expect(Math.abs(t.dataSync()[0]! / data(`member${i}/reg/${name}`)[0]! - 1), name).toBeLessThan(1e-4);
          t.dispose();
        };
        check(core.spatialLaplace(), 'spatial_laplace');
        check(core.groupSparsity(), 'group_sparsity');
        check(core.temporalSmoothness(), 'temporal_smoothness');
        for (const s of META.sessions) check(m.readout.regularizer(s), `readout/${s}`);
        const total = core.regularizer();
        const expected = 0.1 * data(`member${i}/reg/spatial_laplace`)[0]! + 0.1 * data(`member${i}/reg/temporal_smoothness`)[0]!;
        expect(Math.abs(total.dataSync()[0]! / expected - 1)).toBeLessThan(1e-4);
        total.dispose();
        m.dispose();
      }
    });

    it('round-trips its state dict into a fresh model (identical outputs), shared log-speeds included', () => {
      const a = tiny();
      perturb(a, 1);
      a.eval();
      const b = tiny();
      b.loadStateDict(a.stateDict());
      b.eval();
      const x = tf.randomNormal([1, 12, 7, 6, 2], 0, 1, 'float32', 3) as tf.Tensor5D;
      for (const s of ['a', 'b']) {
        const ya = a.forward(x, { session: s });
        const yb = b.forward(x, { session: s });
        expect(yb.dataSync()).toEqual(ya.dataSync());
        tf.dispose([ya, yb]);
      }
      // The core's log-speed is the very variable every convolution uses.
      const core = b.core as ParametricFactorizedBatchConv3dCore;
      expect(core.features.layers[1]!.conv.namedParameters().size).toBeLessThan(core.features.layers[1]!.conv.stateDict().size);
      const sd = b.stateDict();
      expect(sd.get('core.log_speed_a')!.data).toEqual(sd.get('core.features.layer1.conv.log_speed_a')!.data);
      expect(b.numParameters()).toBe(a.numParameters());
      tf.dispose(x);
      a.dispose();
      b.dispose();
    });

    it('passes a finite-difference gradient check (input, conv weights, log-speed, mask, readout)', () => {
      const m = tiny({ core_bias: true, readout_scale: true });
      perturb(m, 2, 1);
      m.eval(); // running statistics: the batch statistics of training mode make float32 differences too noisy
      const x = tf.variable(tf.randomNormal([2, 12, 7, 6, 2], 0, 1, 'float32', 4));
      const core = m.core as ParametricFactorizedBatchConv3dCore;
      const pick = (name: string): tf.Variable => {
        const v = m.namedParameters().get(name);
        if (!v) throw new Error(name);
        return v;
      };
      const worst = gradCheck(() => m.forward(x as unknown as tf.Tensor5D, { session: 'a' }), {
        x,
        sin: pick('core.features.layer0.conv.sin_weights'),
        spatial: pick('core.features.layer1.conv.weight_spatial'),
        bias3d: pick('core.features.layer0.bias.bias'),
        maskMean: pick('readout.a.mask_mean'),
        maskLogVar: pick('readout.a.mask_log_var'),
        features: pick('readout.a.features'),
        scale: pick('readout.a.scale'),
      });
      expect(worst).toBeLessThan(1e-3);
      // exp(log_speed) stretches a sin/cos basis: strongly curved, so a smaller step.
      gradCheck(() => m.forward(x as unknown as tf.Tensor5D, { session: 'a' }), { logSpeed: core.logSpeed('a') }, { h: 1e-3, samples: 1 });
      x.dispose();
      m.dispose();
    });

    it('leaks no tensors in forward and gradient', () => {
      const m = tiny();
      m.eval();
      const x = tf.randomNormal([1, 12, 7, 6, 2], 0, 1, 'float32', 7) as tf.Tensor5D;
      expectNoLeak(() => m.forward(x), [...m.trainableParameters().values()]);
      const r = m.core.regularizer();
      r.dispose();
      const before = tf.memory().numTensors;
      tf.dispose([m.core.regularizer(), m.readout.regularizer('a')]);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      m.dispose();
    });

    it('follows the builder: stack, padding, log-speed trainability, free masks, Scale2D quirk', () => {
      // stack = None concatenates every layer: impossible when the layers differ in size (PyTorch fails too).
      expect(() => tiny({ stack: null })).toThrow(ShapeError);
      const same = tiny({ stack: [1, -1] });
      expect(same.core.outChannels).toBe(4);
      expect(same.core.outputShape([12, 7, 6, 2])).toEqual([5, 5, 4, 4]); // layer 1 padded by 1 (hidden_padding)
      const both = same.forward(tf.zeros([1, 12, 7, 6, 2]) as tf.Tensor5D, { session: 'a' });
      expect(both.shape).toEqual([1, 5, 3]);
      both.dispose();
      same.dispose();
      const frozen = tiny({ batch_adaptation: false });
      expect((frozen.core as ParametricFactorizedBatchConv3dCore).logSpeed('a').trainable).toBe(false);
      expect(frozen.stateDict().has('core.log_speed_a')).toBe(true);
      frozen.dispose();
      const free = tiny({ gaussian_masks: false });
      const ro = free.readout as unknown as { readout(s: string): SpatialXFeature3d };
      expect(ro.readout('a').masks!.shape).toEqual([5, 4, 3]);
      const y = free.forward(tf.zeros([1, 12, 7, 6, 2]) as tf.Tensor5D, { session: 'a' });
      expect(y.shape).toEqual([1, 5, 3]);
      expect(Math.min(...ro.readout('a').masks!.dataSync())).toBeGreaterThanOrEqual(0); // |masks| in place
      y.dispose();
      free.dispose();
      expect(() => tiny({ gaussian_masks: false, initialize_from_roi_masks: true })).toThrow(UnsupportedError);
      // bias = False, batch_norm_scale = True: Scale3D on layer 0, Scale2D (which scales time) on hidden layers.
      const scaled = tiny({ core_bias: false, batch_norm_scale: true });
      const keys = [...scaled.stateDict().keys()];
      expect(keys).toContain('core.features.layer0.scale.scale');
      expect(scaled.stateDict().get('core.features.layer1.scale.scale')!.shape).toEqual([1, 2, 1, 1]);
      expect(() => scaled.forward(tf.zeros([1, 12, 7, 6, 2]) as tf.Tensor5D, { session: 'a' })).toThrow(ShapeError);
      scaled.dispose();
      const s2 = new LegacyScale2d(3);
      const v = tf.ones([1, 3, 2, 2, 4]) as tf.Tensor5D;
      tf.tidy(() => s2.scale.assign(tf.tensor([1, 2, 3], [1, 3, 1, 1])));
      const out = s2.forward(v);
      expect(Array.from(out.dataSync().filter((_, i) => i % 16 === 0))).toEqual([1, 2, 3]);
      tf.dispose([v, out]);
      s2.dispose();
    });

    it('gives clear errors', () => {
      expect(() => tiny({ hiden_channels: [2] })).toThrow(ConfigError);
      expect(() => tiny({ hiden_channels: [2] })).toThrow(/unknown option\(s\) hiden_channels\. Accepted: hidden_channels, /);
      // The zod schema names the key and the value it got; flags may be 0/1 and integers bigint, as in the YAML files.
      expect(() => tiny({ layers: 'two', core_bias: 'yes' })).toThrow(
        /model_config\.layers is invalid .*got "two".*model_config\.core_bias/,
      );
      expect(() => tiny({ gamma_hidden: Number.POSITIVE_INFINITY })).toThrow(/model_config\.gamma_hidden/);
      const fromYaml = tiny({ batch_norm_scale: 1, layers: 2n });
      expect(fromYaml.stateDict().has('core.features.layer0.scale.scale')).toBe(true); // only with batch_norm_scale and no core_bias
      fromYaml.dispose();
      expect(() => tiny({ nonlinearity: 'Nope' })).toThrow(ConfigError);
      expect(() => tiny({ stack: 5 })).toThrow(ConfigError);
      const m = tiny();
      const x = tf.zeros([1, 12, 7, 6, 2]) as tf.Tensor5D;
      expect(() => m.forward(x, { session: 'zzz' })).toThrow(UnknownSessionError);
      expect(() => m.forward(tf.zeros([1, 12, 6, 7, 2]) as tf.Tensor5D)).toThrow(ShapeError);
      expect(() => m.forward(tf.zeros([1, 5, 7, 6, 2]) as tf.Tensor5D, { session: 'a' })).toThrow(ShapeError);
      const sd = m.stateDict();
      sd.delete('readout.a.bias');
      expect(() => m.loadStateDict(sd)).toThrow(StateDictError);
      tf.dispose(x);
      m.dispose();
    });
  });
}
