import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { StateDict } from '@openretina/contracts';
import { Rng, type Module } from '@openretina/layers';
import { REPO_ROOT, ncdhwToNdhwc, readRawSafetensors, type RawTensor } from './fixtures.js';

let cache: Map<string, RawTensor> | undefined;
/** The PyTorch reference data of fixtures/models/make_model_family_fixtures.py. */
export function familyRef(name: string): RawTensor {
  cache ??= readRawSafetensors(join(REPO_ROOT, 'fixtures', 'models', 'model_families.safetensors'));
  const t = cache.get(name);
  if (!t) throw new Error(`no reference tensor "${name}"`);
  return t;
}

/** Every reference tensor whose name starts with `prefix` (name without the prefix → float data). */
export function familyEntries(prefix: string): Map<string, Float32Array> {
  cache ??= readRawSafetensors(join(REPO_ROOT, 'fixtures', 'models', 'model_families.safetensors'));
  const out = new Map<string, Float32Array>();
  for (const [k, t] of cache) if (k.startsWith(prefix) && t.data instanceof Float32Array) out.set(k.slice(prefix.length), t.data);
  return out;
}

/** A `(B, C, T, H, W)` reference video as a channels-last tensor. */
export function familyVideo(name: string): tf.Tensor5D {
  const { data, shape } = ncdhwToNdhwc(familyRef(name));
  return tf.tensor5d(data, shape);
}

export function familyTensor(name: string): tf.Tensor {
  const t = familyRef(name);
  return tf.tensor(t.data as Float32Array, t.shape);
}

/** The reference state dict stored under `<prefix>/state/`. */
export function familyStateDict(prefix: string): StateDict {
  cache ??= readRawSafetensors(join(REPO_ROOT, 'fixtures', 'models', 'model_families.safetensors'));
  const out: StateDict = new Map();
  const head = `${prefix}/state/`;
  for (const [k, t] of cache) {
    if (!k.startsWith(head)) continue;
    out.set(k.slice(head.length), {
      shape: t.shape,
      dtype: t.data instanceof BigInt64Array ? 'int64' : 'float32',
      data: t.data,
    });
  }
  return out;
}

/** max |a − b| / max |b| */
export function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let maxRef = 0;
  let maxDiff = 0;
  for (let i = 0; i < expected.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(expected[i]!));
    maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
  }
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}

function dot(values: ArrayLike<number>, r: Float64Array): number {
  let s = 0;
  for (let i = 0; i < r.length; i++) s += values[i]! * r[i]!;
  return s;
}

/**
 * Finite-difference check of the gradient of `Σ f()·r` (fixed random r, sums in float64) with respect to a few
 * random elements of each variable, by central differences, against `tf.variableGrads`. Error measure:
 * `|num − ana| / max(|num|, |ana|, 1e-2·max|ana| over all variables)`. Returns the worst error.
 */
export function gradCheck(
  f: () => tf.Tensor,
  vars: Record<string, tf.Variable>,
  options: { samples?: number; h?: number; tol?: number; seed?: number } = {},
): number {
  const h = options.h ?? 1e-2;
  const samples = options.samples ?? 3;
  const tol = options.tol ?? 1e-3;
  const rng = new Rng(options.seed ?? 11);
  const probe = f();
  const r = Float64Array.from({ length: probe.size }, () => rng.normal());
  const rT = tf.tensor(Float32Array.from(r), probe.shape);
  probe.dispose();
  const { grads, value } = tf.variableGrads(() => tf.sum(tf.mul(f(), rT)) as tf.Scalar, Object.values(vars));
  value.dispose();
  let worst = 0;
  // Floor of the error denominator: 1e-2 of the largest analytic gradient entry over all variables, so entries
  // that are tiny compared with the rest are not judged on float32 rounding alone.
  let maxAna = 0;
  for (const v of Object.values(vars)) {
    const g = grads[v.name];
    if (g) for (const a of g.dataSync()) maxAna = Math.max(maxAna, Math.abs(a));
  }
  for (const [name, v] of Object.entries(vars)) {
    const g = grads[v.name];
    const ana = g ? g.dataSync() : new Float32Array(v.size);
    const base = v.dataSync().slice();
    for (let s = 0; s < Math.min(samples, v.size); s++) {
      const i = rng.int(v.size);
      const at = (delta: number): number => {
        const data = base.slice();
        data[i] = data[i]! + delta;
        tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
        const y = f();
        const out = dot(y.dataSync(), r);
        y.dispose();
        return out;
      };
      const num = (at(h) - at(-h)) / (2 * h);
      tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
      const err = Math.abs(num - ana[i]!) / Math.max(Math.abs(num), Math.abs(ana[i]!), 1e-2 * maxAna, 1e-6);
      worst = Math.max(worst, err);
      expect(err, `${name}[${i}]: numeric ${num}, analytic ${ana[i]}`).toBeLessThan(tol);
    }
  }
  tf.dispose(Object.values(grads));
  rT.dispose();
  return worst;
}

/** Keys and shapes of a module's state dict, in order. */
export function keysAndShapes(m: Module): [string, number[]][] {
  return [...m.stateDict()].map(([k, v]) => [k, [...v.shape]]);
}

/** A forward and a gradient through `f` leave the tensor count unchanged. */
export function expectNoLeak(f: () => tf.Tensor, vars: tf.Variable[]): void {
  const before = tf.memory().numTensors;
  f().dispose();
  expect(tf.memory().numTensors).toBe(before);
  const { value, grads } = tf.variableGrads(() => tf.sum(f()) as tf.Scalar, vars);
  value.dispose();
  tf.dispose(Object.values(grads));
  expect(tf.memory().numTensors).toBe(before);
}
