// Shared helpers of the readout tests: the PyTorch reference fixtures, gradients, finite differences.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { StateDict } from '@openretina/contracts';
import type { Module } from '@openretina/layers';
import { REPO_ROOT, ncdhwToNdhwc, readRawSafetensors, relativeError, type RawTensor } from '@openretina/test-utils/fixtures';

export { relativeError };

const FIXTURE_FILE = join(REPO_ROOT, 'fixtures', 'readout', 'readout_fixtures.safetensors');
let cache: Map<string, RawTensor> | undefined;
let metaCache: Record<string, string> | undefined;

/** A tensor of fixtures/readout/readout_fixtures.safetensors (see make_readout_fixtures.py). */
export function fx(name: string): RawTensor {
  cache ??= readRawSafetensors(FIXTURE_FILE);
  const t = cache.get(name);
  if (!t) throw new Error(`no readout fixture "${name}"`);
  return t;
}

export function fxData(name: string): Float32Array {
  return fx(name).data as Float32Array;
}

export function fxScalar(name: string): number {
  return fxData(name)[0]!;
}

/** The fixture metadata (state-dict key lists as JSON). */
export function fxMeta(key: string): unknown {
  if (!metaCache) {
    const bytes = readFileSync(FIXTURE_FILE);
    const n = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as { __metadata__?: Record<string, string> };
    metaCache = header.__metadata__ ?? {};
  }
  const v = metaCache[key];
  if (v === undefined) throw new Error(`no fixture metadata "${key}"`);
  return JSON.parse(v);
}

/** Every `<case>/<group>/<key>` tensor as a state dict keyed by `<key>`. */
export function fxStateDict(caseName: string, group = 'state'): StateDict {
  cache ??= readRawSafetensors(FIXTURE_FILE);
  const prefix = `${caseName}/${group}/`;
  const out: StateDict = new Map();
  for (const [k, t] of cache) {
    if (k.startsWith(prefix)) out.set(k.slice(prefix.length), { shape: t.shape, dtype: 'float32', data: t.data as Float32Array });
  }
  return out;
}

/** The case's `(B, C, T, H, W)` input as a channels-last `[B, T, H, W, C]` tensor. */
export function fxInput(caseName: string): tf.Tensor5D {
  const { data, shape } = ncdhwToNdhwc(fx(`${caseName}/input`));
  return tf.tensor5d(data, shape);
}

/** `[B, T, H, W, C]` gradient data → `(B, C, T, H, W)` order, to compare with PyTorch's. */
export function toChannelsFirst(t: tf.Tensor): Float32Array {
  const [b, tt, h, w, c] = t.shape as [number, number, number, number, number];
  const src = t.dataSync();
  const out = new Float32Array(src.length);
  const plane = tt * h * w;
  for (let bi = 0; bi < b; bi++)
    for (let ci = 0; ci < c; ci++) for (let p = 0; p < plane; p++) out[bi * c * plane + ci * plane + p] = src[bi * c * plane + p * c + ci]!;
  return out;
}

/**
 * Gradients of `sum(forward(x) · r)` w.r.t. every trainable parameter (by state-dict name) and the input.
 * Everything created here is disposed except the returned tensors.
 */
export function lossGradients(
  module: Module,
  x: tf.Tensor,
  r: tf.Tensor,
  forward: (x: tf.Tensor) => tf.Tensor,
): { loss: number; grads: Map<string, tf.Tensor>; gradInput: tf.Tensor } {
  const named = [...module.trainableParameters()];
  const xv = tf.variable(x, true);
  const vars = [...named.map(([, v]) => v), xv];
  const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.sum(tf.mul(forward(xv), r)) as tf.Scalar), vars);
  const out = new Map<string, tf.Tensor>();
  for (const [k, v] of named) {
    const g = grads[v.name];
    if (g) out.set(k, g);
  }
  const gradInput = grads[xv.name]!;
  const loss = value.dataSync()[0]!;
  value.dispose();
  xv.dispose();
  return { loss, grads: out, gradInput };
}

/** Deterministic pseudo-random numbers in [0, 1) for test data. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  const rnd = prng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, () => (rnd() * 2 - 1) * scale),
    shape,
  );
}

/**
 * Central finite differences of `loss = Σ forward(x)·r` (accumulated in float64) for `count` random elements of
 * each parameter (and of the input), compared with the analytic gradients. Returns the worst relative error,
 * measured against max(|analytic|, |numeric|, 1e-2 · the gradient tensor's largest magnitude).
 */
export function finiteDifferenceError(
  module: Module,
  x: tf.Tensor,
  forward: (x: tf.Tensor) => tf.Tensor,
  options: { count?: number; eps?: number; seed?: number; params?: string[]; skipInput?: boolean } = {},
): { worst: number; where: string } {
  const count = options.count ?? 4;
  const eps = options.eps ?? 1e-2;
  const rnd = prng(options.seed ?? 7);
  const probe = forward(x);
  const r = randomTensor(probe.shape, 99);
  probe.dispose();
  const rData = Float64Array.from(r.dataSync());
  const loss64 = (input: tf.Tensor): number => {
    const y = forward(input);
    const d = y.dataSync();
    y.dispose();
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[i]! * rData[i]!;
    return s;
  };
  const { grads, gradInput } = lossGradients(module, x, r, forward);
  let worst = 0;
  let where = '';
  const check = (name: string, analytic: Float32Array, perturb: (i: number, delta: number) => void, input: tf.Tensor = x): void => {
    let scale = 0;
    for (const g of analytic) scale = Math.max(scale, Math.abs(g));
    for (let k = 0; k < count; k++) {
      const i = Math.floor(rnd() * analytic.length);
      perturb(i, eps);
      const plus = loss64(input);
      perturb(i, -2 * eps);
      const minus = loss64(input);
      perturb(i, eps);
      const numeric = (plus - minus) / (2 * eps);
      const a = analytic[i]!;
      const err = Math.abs(numeric - a) / Math.max(Math.abs(a), Math.abs(numeric), 1e-2 * scale, 1e-6);
      if (err > worst) {
        worst = err;
        where = `${name}[${i}]: analytic ${a}, numeric ${numeric}`;
      }
    }
  };
  const params = module.trainableParameters();
  for (const [name, g] of grads) {
    if (options.params && !options.params.includes(name)) continue;
    const v = params.get(name)!;
    const data = g.dataSync() as Float32Array;
    check(name, data, (i, delta) => {
      const vals = v.dataSync().slice() as Float32Array;
      vals[i] = vals[i]! + delta;
      tf.tidy(() => v.assign(tf.tensor(vals, v.shape)));
    });
  }
  if (!options.skipInput) {
    const xData = x.dataSync().slice() as Float32Array;
    // Perturb a variable copy so `x` itself is untouched.
    const xVar = tf.variable(x, false);
    check(
      'input',
      gradInput.dataSync() as Float32Array,
      (i, delta) => {
        xData[i] = xData[i]! + delta;
        tf.tidy(() => xVar.assign(tf.tensor(xData, x.shape)));
      },
      xVar,
    );
    xVar.dispose();
  }
  tf.dispose([...grads.values(), gradInput, r]);
  return { worst, where };
}
