import * as tf from '@tensorflow/tfjs-core';
import type { CoreReadout } from '@openretina/models';

/**
 * In-browser check of the input gradients the MEI relies on, on the backend the MEI runs on: for each conv op, the
 * backend's `tf.grad` of `L(x) = Σ op(x, w) · r` at a few random input elements is compared with float64 central
 * finite differences of a plain-JavaScript reference of the same op (L is linear in x, so the differences are exact up
 * to float64 rounding). The same check the backend package runs in Node, on small shapes.
 */
export interface GradientCheck {
  op: string;
  backend: string;
  relError: number;
  pass: boolean;
  ms: number;
}

export const GRADIENT_TOLERANCE = 1e-3;

/** Deterministic pseudo-random values in [−1, 1). */
function randoms(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

interface Conv2dCase {
  kind: 'conv2d' | 'depthwise';
  h: number;
  w: number;
  ci: number;
  kh: number;
  kw: number;
  co: number;
  same: boolean;
}

/** Float64 reference of conv2d / depthwise conv2d (NHWC, batch 1, stride 1, 'valid' or odd-kernel 'same'). */
function conv2dRef(c: Conv2dCase, x: Float64Array, w: Float32Array): { y: Float64Array; oh: number; ow: number; oc: number } {
  const ph = c.same ? (c.kh - 1) / 2 : 0,
    pw = c.same ? (c.kw - 1) / 2 : 0;
  const oh = c.h + 2 * ph - c.kh + 1,
    ow = c.w + 2 * pw - c.kw + 1;
  const oc = c.kind === 'conv2d' ? c.co : c.ci * c.co;
  const y = new Float64Array(oh * ow * oc);
  for (let i = 0; i < oh; i++)
    for (let j = 0; j < ow; j++)
      for (let a = 0; a < c.kh; a++)
        for (let b = 0; b < c.kw; b++) {
          const yi = i + a - ph,
            xj = j + b - pw;
          if (yi < 0 || yi >= c.h || xj < 0 || xj >= c.w) continue;
          for (let ci = 0; ci < c.ci; ci++) {
            const xv = x[(yi * c.w + xj) * c.ci + ci]!;
            for (let o = 0; o < c.co; o++) {
              const wv = w[((a * c.kw + b) * c.ci + ci) * c.co + o]!;
              const out = c.kind === 'conv2d' ? o : ci * c.co + o;
              y[(i * ow + j) * oc + out]! += xv * wv;
            }
          }
        }
  return { y, oh, ow, oc };
}

interface Conv3dCase {
  d: number;
  h: number;
  w: number;
  ci: number;
  kd: number;
  kh: number;
  kw: number;
  co: number;
}

function conv3dRef(c: Conv3dCase, x: Float64Array, w: Float32Array): Float64Array {
  const od = c.d - c.kd + 1,
    oh = c.h - c.kh + 1,
    ow = c.w - c.kw + 1;
  const y = new Float64Array(od * oh * ow * c.co);
  for (let t = 0; t < od; t++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let a = 0; a < c.kd; a++)
          for (let b = 0; b < c.kh; b++)
            for (let e = 0; e < c.kw; e++)
              for (let ci = 0; ci < c.ci; ci++) {
                const xv = x[(((t + a) * c.h + i + b) * c.w + j + e) * c.ci + ci]!;
                for (let o = 0; o < c.co; o++)
                  y[((t * oh + i) * ow + j) * c.co + o]! += xv * w[(((a * c.kh + b) * c.kw + e) * c.ci + ci) * c.co + o]!;
              }
  return y;
}

function dot(a: Float64Array, r: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * r[i]!;
  return s;
}

/** max |g − fd| / max |fd| over `samples` random elements. */
function compare(grad: Float32Array, n: number, loss: (x: Float64Array) => number, x: Float32Array, seed: number, samples = 8): number {
  const idx = randoms(samples, seed).map((v) => Math.floor(((v + 1) / 2) * n));
  const eps = 1e-3;
  const xx = Float64Array.from(x);
  let maxDiff = 0,
    maxRef = 0;
  for (const i of idx) {
    const k = Math.min(n - 1, i);
    const orig = xx[k]!;
    xx[k] = orig + eps;
    const up = loss(xx);
    xx[k] = orig - eps;
    const down = loss(xx);
    xx[k] = orig;
    const fd = (up - down) / (2 * eps);
    maxDiff = Math.max(maxDiff, Math.abs(grad[k]! - fd));
    maxRef = Math.max(maxRef, Math.abs(fd));
  }
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}

async function check2d(c: Conv2dCase, seed: number): Promise<GradientCheck> {
  const t0 = performance.now();
  const xData = randoms(c.h * c.w * c.ci, seed);
  const wData = randoms(c.kh * c.kw * c.ci * c.co, seed + 1);
  const ref0 = conv2dRef(c, Float64Array.from(xData), wData);
  const rData = randoms(ref0.y.length, seed + 2);
  const g = tf.tidy(() => {
    const x = tf.tensor4d(xData, [1, c.h, c.w, c.ci]);
    const w = tf.tensor4d(wData, [c.kh, c.kw, c.ci, c.co]);
    const r = tf.tensor4d(rData, [1, ref0.oh, ref0.ow, ref0.oc]);
    const pad = c.same ? 'same' : 'valid';
    const f = (xx: tf.Tensor) =>
      tf.sum(tf.mul(c.kind === 'conv2d' ? tf.conv2d(xx as tf.Tensor4D, w, 1, pad) : tf.depthwiseConv2d(xx as tf.Tensor4D, w, 1, pad), r));
    return tf.grad(f)(x);
  });
  const grad = (await g.data()) as Float32Array;
  g.dispose();
  const relError = compare(grad, xData.length, (xx) => dot(conv2dRef(c, xx, wData).y, rData), xData, seed + 3);
  const op = `${c.kind === 'conv2d' ? 'conv2d' : `depthwiseConv2d ×${c.co}`} ${c.kh}×${c.kw} ${c.same ? 'same' : 'valid'} on [1,${c.h},${c.w},${c.ci}]`;
  return { op, backend: tf.getBackend(), relError, pass: relError < GRADIENT_TOLERANCE, ms: performance.now() - t0 };
}

async function check3d(c: Conv3dCase, seed: number): Promise<GradientCheck> {
  const t0 = performance.now();
  const xData = randoms(c.d * c.h * c.w * c.ci, seed);
  const wData = randoms(c.kd * c.kh * c.kw * c.ci * c.co, seed + 1);
  const y0 = conv3dRef(c, Float64Array.from(xData), wData);
  const rData = randoms(y0.length, seed + 2);
  const g = tf.tidy(() => {
    const x = tf.tensor5d(xData, [1, c.d, c.h, c.w, c.ci]);
    const w = tf.tensor5d(wData, [c.kd, c.kh, c.kw, c.ci, c.co]);
    const r = tf.tensor5d(rData, [1, c.d - c.kd + 1, c.h - c.kh + 1, c.w - c.kw + 1, c.co]);
    return tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.conv3d(xx as tf.Tensor5D, w, 1, 'valid'), r)))(x);
  });
  const grad = (await g.data()) as Float32Array;
  g.dispose();
  const relError = compare(grad, xData.length, (xx) => dot(conv3dRef(c, xx, wData), rData), xData, seed + 3);
  return {
    op: `conv3d ${c.kd}×${c.kh}×${c.kw} valid on [1,${c.d},${c.h},${c.w},${c.ci}]`,
    backend: tf.getBackend(),
    relError,
    pass: relError < GRADIENT_TOLERANCE,
    ms: performance.now() - t0,
  };
}

/** The conv input-gradient checks, on the current backend. */
export async function runGradientChecks(): Promise<GradientCheck[]> {
  const out: GradientCheck[] = [];
  out.push(await check2d({ kind: 'conv2d', h: 7, w: 6, ci: 2, kh: 3, kw: 3, co: 3, same: true }, 11));
  out.push(await check2d({ kind: 'depthwise', h: 9, w: 8, ci: 2, kh: 5, kw: 5, co: 4, same: true }, 21));
  // A temporal filter as the separable conv runs it: time on the height axis, multiplier 1, 21 taps.
  out.push(await check2d({ kind: 'depthwise', h: 30, w: 6, ci: 3, kh: 21, kw: 1, co: 1, same: false }, 31));
  out.push(await check3d({ d: 6, h: 6, w: 5, ci: 2, kd: 3, kh: 3, kw: 3, co: 2 }, 41));
  return out;
}

/**
 * The MEI objective's input gradient (mean response of one neuron) on the current backend vs on TF.js's cpu backend
 * (stock kernels, the backend every parity test runs on). Returns max |Δ| / max |g_cpu|.
 */
export async function compareModelGradientWithCpu(model: CoreReadout, session: string): Promise<GradientCheck> {
  const t0 = performance.now();
  const backend = tf.getBackend();
  const shape = model.stimulusShape(model.framesCut + 4);
  const n = shape.reduce((a, b) => a * b, 1);
  const xData = randoms(n, 5);
  const gradOn = async (): Promise<Float32Array> => {
    const g = tf.tidy(() => {
      const x = tf.tensor5d(xData, shape);
      return tf.grad((xx: tf.Tensor) => tf.mean(tf.slice(model.forward(xx as tf.Tensor5D, { session }), [0, 0, 0], [-1, -1, 1])))(x);
    });
    const d = (await g.data()) as Float32Array;
    g.dispose();
    return d;
  };
  const here = await gradOn();
  await tf.setBackend('cpu');
  let ref: Float32Array;
  try {
    ref = await gradOn();
  } finally {
    await tf.setBackend(backend);
  }
  let maxDiff = 0,
    maxRef = 0;
  for (let i = 0; i < n; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(here[i]! - ref[i]!));
    maxRef = Math.max(maxRef, Math.abs(ref[i]!));
  }
  const relError = maxRef === 0 ? maxDiff : maxDiff / maxRef;
  return {
    op: `model input gradient (${session}, neuron 0) vs cpu`,
    backend,
    relError,
    pass: relError < GRADIENT_TOLERANCE,
    ms: performance.now() - t0,
  };
}
