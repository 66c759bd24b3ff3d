import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import type { Module } from '../src/index.js';
import { Rng } from '../src/index.js';

/** Deterministic random tensor with N(0, std²) entries. */
export function randn(shape: number[], seed: number, std = 1, mean = 0): tf.Tensor {
  return new Rng(seed).randn(shape, std, mean);
}

/** Dot product of a tensor's values with a fixed weight array, accumulated in float64. */
function dot(values: ArrayLike<number>, r: Float64Array): number {
  let s = 0;
  for (let i = 0; i < r.length; i++) s += values[i]! * r[i]!;
  return s;
}

export interface GradCheckOptions {
  /** How many random elements of each tensor to probe. */
  samples?: number;
  /** Finite-difference step. */
  h?: number;
  seed?: number;
  /** Maximum allowed relative error. */
  tol?: number;
}

/**
 * Finite-difference gradient check of `loss = Σ f()·r` (fixed random `r`) with respect to the given variables:
 * Richardson-extrapolated central differences on a few random elements (the sums in float64), compared with `tf.variableGrads`.
 * The probed elements have |gradient| ≥ 0.1·max; the relative error is `|num − ana| / max(|num|, |ana|)`.
 * Returns the largest error seen.
 */
export function gradCheck(f: () => tf.Tensor, vars: Record<string, tf.Variable>, options: GradCheckOptions = {}): number {
  const h = options.h ?? 0.1;
  const samples = options.samples ?? 4;
  const tol = options.tol ?? 1e-3;
  const rng = new Rng(options.seed ?? 7);
  const probe = f();
  const r = Float64Array.from({ length: probe.size }, () => rng.normal());
  const rT = tf.tensor(Float32Array.from(r), probe.shape);
  probe.dispose();
  const varList = Object.values(vars);
  const { grads, value } = tf.variableGrads(() => tf.sum(tf.mul(f(), rT)) as tf.Scalar, varList);
  value.dispose();
  let worst = 0;
  for (const [name, v] of Object.entries(vars)) {
    const g = grads[v.name];
    const ana = g ? g.dataSync() : new Float32Array(v.size);
    let maxAna = 0;
    for (const a of ana) maxAna = Math.max(maxAna, Math.abs(a));
    const base = v.dataSync().slice();
    // Probe elements whose gradient is not tiny against the tensor's largest: float32 rounding of the outputs
    // puts an absolute noise floor (~1e-5) under the numeric derivative.
    const candidates = [...ana.keys()].filter((i) => Math.abs(ana[i]!) >= 0.1 * maxAna);
    for (let s = 0; s < Math.min(samples, v.size); s++) {
      const i = candidates.length ? candidates[rng.int(candidates.length)]! : rng.int(v.size);
      const evalAt = (delta: number): number => {
        const data = base.slice();
        data[i] = data[i]! + delta;
        tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
        const y = f();
        const out = dot(y.dataSync(), r);
        y.dispose();
        return out;
      };
      // Central differences with one Richardson step (error O(h⁴)), so h can stay large against float32 noise.
      const central = (step: number): number => (evalAt(step) - evalAt(-step)) / (2 * step);
      const num = (4 * central(h / 2) - central(h)) / 3;
      tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
      const err = Math.abs(num - ana[i]!) / Math.max(Math.abs(num), Math.abs(ana[i]!), 1e-2 * maxAna, 1e-6);
      worst = Math.max(worst, err);
      expect(err, `${name}[${i}]: numeric ${num}, analytic ${ana[i]}`).toBeLessThan(tol);
    }
  }
  tf.dispose(Object.values(grads));
  rT.dispose();
  if (process.env.GRADCHECK_VERBOSE) console.log(`gradCheck ${Object.keys(vars).join(',').slice(0, 60)}: worst ${worst.toExponential(2)}`);
  return worst;
}

/** Wraps inputs as variables for a gradient check w.r.t. the input; disposes them afterwards. */
export function withInputVariable<T>(x: tf.Tensor, fn: (v: tf.Variable) => T): T {
  const v = tf.variable(x, true);
  try {
    return fn(v);
  } finally {
    v.dispose();
  }
}

/** All trainable parameters of a module, by state-dict name. */
export function params(m: Module): Record<string, tf.Variable> {
  return Object.fromEntries(m.trainableParameters());
}

/** Keys and shapes of a state dict, in order. */
export function keysAndShapes(m: Module): [string, number[]][] {
  return [...m.stateDict()].map(([k, v]) => [k, [...v.shape]]);
}

/** Saves `a`'s state, loads it into `b` and checks that `run` gives identical outputs for both. */
export function expectRoundTrip(a: Module, b: Module, run: (m: Module) => tf.Tensor): void {
  b.loadStateDict(a.stateDict());
  const ya = run(a);
  const yb = run(b);
  expect(yb.shape).toEqual(ya.shape);
  expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
  tf.dispose([ya, yb]);
}

/** Checks that a forward and a gradient through `f` leave the tensor count unchanged. */
export function expectNoLeak(f: () => tf.Tensor, vars: tf.Variable[]): void {
  const before = tf.memory().numTensors;
  const y = f();
  y.dispose();
  expect(tf.memory().numTensors).toBe(before);
  const { value, grads } = tf.variableGrads(() => tf.sum(f()) as tf.Scalar, vars);
  value.dispose();
  tf.dispose(Object.values(grads));
  expect(tf.memory().numTensors).toBe(before);
}

export function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  let maxRef = 0;
  let maxDiff = 0;
  for (let i = 0; i < expected.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(expected[i]!));
    maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
  }
  expect(maxDiff / Math.max(maxRef, 1e-12)).toBeLessThan(tol);
}
