/**
 * Float64 reference implementations for the gradient tests: a naive NDHWC correlation (dense or
 * depthwise), central finite differences of `loss = Σ y·r`, and small numeric helpers.
 */
import * as tf from '@tensorflow/tfjs-core';

export type Shape5 = [number, number, number, number, number];

export interface Pads3 {
  front: number;
  back: number;
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Deterministic PRNG (mulberry32) so failures are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` values uniform in [-1, 1), rounded to float32 (so tf and the reference see identical inputs). */
export function randomData(n: number, rand: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rand() * 2 - 1;
  return out;
}

export const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/**
 * Naive correlation, NDHWC input `[N,D,H,W,C]` and filter `[kd,kh,kw,Ci,Co]` (dense) or
 * `[kd,kh,kw,C,M]` (depthwise, output channel c·M+m), stride 1, with the given padding.
 */
export function convRef(
  x: ArrayLike<number>,
  xs: Shape5,
  w: ArrayLike<number>,
  ws: Shape5,
  p: Pads3,
  depthwise: boolean,
): { y: Float64Array; ys: Shape5 } {
  const [n, d, h, wd, c] = xs;
  const [kd, kh, kw, ci, co] = ws;
  if (ci !== c) throw new Error(`channel mismatch ${ci} vs ${c}`);
  const od = d + p.front + p.back - kd + 1;
  const oh = h + p.top + p.bottom - kh + 1;
  const ow = wd + p.left + p.right - kw + 1;
  const oc = depthwise ? c * co : co;
  const ys: Shape5 = [n, od, oh, ow, oc];
  const y = new Float64Array(size(ys));
  for (let b = 0; b < n; b++)
    for (let z = 0; z < od; z++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          const yo = (((b * od + z) * oh + i) * ow + j) * oc;
          for (let a = 0; a < kd; a++) {
            const iz = z + a - p.front;
            if (iz < 0 || iz >= d) continue;
            for (let u = 0; u < kh; u++) {
              const ii = i + u - p.top;
              if (ii < 0 || ii >= h) continue;
              for (let v = 0; v < kw; v++) {
                const jj = j + v - p.left;
                if (jj < 0 || jj >= wd) continue;
                const xo = (((b * d + iz) * h + ii) * wd + jj) * c;
                const wo = ((a * kh + u) * kw + v) * ci * co;
                for (let q = 0; q < c; q++) {
                  const xv = x[xo + q] as number;
                  for (let r = 0; r < co; r++) {
                    const o = depthwise ? q * co + r : r;
                    y[yo + o] = (y[yo + o] as number) + xv * (w[wo + q * co + r] as number);
                  }
                }
              }
            }
          }
        }
  return { y, ys };
}

/** `Σ y·r` in float64. */
export function dot(y: ArrayLike<number>, r: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i] as number) * (r[i] as number);
  return s;
}

/** `count` distinct random indices in [0, n) (all of them when n ≤ count). */
export function sampleIndices(n: number, count: number, rand: () => number): number[] {
  if (n <= count) return Array.from({ length: n }, (_, i) => i);
  const set = new Set<number>();
  while (set.size < count) set.add(Math.floor(rand() * n));
  return [...set].sort((a, b) => a - b);
}

/** Central finite differences of `loss(values)` at the given indices, perturbing a float64 copy. */
export function finiteDifferences(
  values: ArrayLike<number>,
  indices: readonly number[],
  loss: (v: Float64Array) => number,
  eps = 1e-3,
): number[] {
  const v = Float64Array.from(values);
  return indices.map((i) => {
    const orig = v[i] as number;
    v[i] = orig + eps;
    const plus = loss(v);
    v[i] = orig - eps;
    const minus = loss(v);
    v[i] = orig;
    return (plus - minus) / (2 * eps);
  });
}

/** max |a_i − b_i| / max |b_i| (b is the reference). */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs((a[i] as number) - (b[i] as number)));
    den = Math.max(den, Math.abs(b[i] as number));
  }
  return den === 0 ? (num === 0 ? 0 : Infinity) : num / den;
}

/** Resolves TF.js padding (mode or explicit) into per-side numbers, as the TF.js kernels do. */
export function resolvePads(
  kind: '2d' | '3d',
  xs: Shape5,
  ws: Shape5,
  pad: 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]],
  depthwise: boolean,
): Pads3 {
  if (kind === '3d') {
    const info = tf.backend_util.computeConv3DInfo(xs, ws, 1, 1, pad as 'valid' | 'same' | number);
    const p = info.padInfo;
    return { front: p.front, back: p.back, top: p.top, bottom: p.bottom, left: p.left, right: p.right };
  }
  const [n, , h, w, c] = xs;
  const [, kh, kw, ci, co] = ws;
  const info = tf.backend_util.computeConv2DInfo([n, h, w, c], [kh, kw, ci, co], 1, 1, pad, undefined, depthwise);
  const p = info.padInfo;
  return { front: 0, back: 0, top: p.top, bottom: p.bottom, left: p.left, right: p.right };
}

/** Formats an error for the table. */
export const fmt = (e: number): string => (e === 0 ? '0' : e.toExponential(1));
