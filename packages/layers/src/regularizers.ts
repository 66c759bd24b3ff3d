import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, formatShape } from '@openretina/contracts';
import { Module } from './module.js';

/** OpenRetina's discrete Laplace kernels (exact values). */
export const LAPLACE_1D: readonly number[] = [-1, 2, -1];
export const LAPLACE_3x3: readonly number[][] = [
  [0, -1, 0],
  [-1, 4, -1],
  [0, -1, 0],
];
export const LAPLACE_5x5: readonly number[][] = [
  [0, 0, 1, 0, 0],
  [0, 1, 2, 1, 0],
  [1, 2, -16, 2, 1],
  [0, 1, 2, 1, 0],
  [0, 0, 1, 0, 0],
];
export const LAPLACE_7x7: readonly number[][] = [
  [0, 0, 1, 1, 1, 0, 0],
  [0, 1, 3, 3, 3, 1, 0],
  [1, 3, 0, -7, 0, 3, 1],
  [1, 3, -7, -24, -7, 3, 1],
  [1, 3, 0, -7, 0, 3, 1],
  [0, 1, 3, 3, 3, 1, 0],
  [0, 0, 1, 1, 1, 0, 0],
];
/** Added to the denominators of the normalised Laplace penalties. */
export const REGULARIZER_EPS = 1e-6;

const KERNELS: Record<number, readonly number[][]> = { 3: LAPLACE_3x3, 5: LAPLACE_5x5, 7: LAPLACE_7x7 };

/** 2-D Laplace filter (buffer `filter` `[1, 1, k, k]`, persistent by default as in OpenRetina). */
export class Laplace extends Module {
  readonly filterSize: number;
  readonly padding: number;
  readonly filter: tf.Variable;
  constructor(options: { padding?: number | null; filterSize?: number; persistentBuffer?: boolean } = {}) {
    super();
    const k = options.filterSize ?? 3;
    const kernel = KERNELS[k];
    if (!kernel) throw new ConfigError(`Laplace filter size must be 3, 5 or 7, got ${k}.`);
    this.filterSize = k;
    this.padding = options.padding ?? Math.floor(k / 2);
    this.filter = this.registerBuffer('filter', tf.tensor(kernel.flat(), [1, 1, k, k]), {
      persistent: options.persistentBuffer ?? true,
    });
  }
  /** `x [N, h, w]` (N images of one channel) → filtered `[N, h', w']`. */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const k = this.filterSize;
      const p = this.padding;
      const y = tf.conv2d(tf.expandDims(x, 3) as tf.Tensor4D, tf.reshape(this.filter, [k, k, 1, 1]) as tf.Tensor4D, 1, [
        [0, 0],
        [p, p],
        [p, p],
        [0, 0],
      ]);
      return tf.squeeze(y, [3]) as tf.Tensor3D;
    });
  }
}

/** 1-D Laplace filter `[-1, 2, -1]` (buffer `filter` `[1, 1, 3]`). */
export class Laplace1d extends Module {
  readonly padding: number;
  readonly filter: tf.Variable;
  constructor(options: { padding?: number | null; persistentBuffer?: boolean } = {}) {
    super();
    this.padding = options.padding ?? 1;
    this.filter = this.registerBuffer('filter', tf.tensor([...LAPLACE_1D], [1, 1, 3]), {
      persistent: options.persistentBuffer ?? true,
    });
  }
  /** `x [N, L]` → `[N, L']`. */
  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const p = this.padding;
      const xp = p
        ? tf.pad(x, [
            [0, 0],
            [p, p],
          ])
        : x;
      const y = tf.conv1d(tf.expandDims(xp, 2) as tf.Tensor3D, tf.reshape(this.filter, [3, 1, 1]) as tf.Tensor3D, 1, 'valid');
      return tf.squeeze(y, [2]) as tf.Tensor2D;
    });
  }
}

type Agg = (t: tf.Tensor) => tf.Scalar;
const aggregate = (avg: boolean): Agg => (avg ? (t) => tf.mean(t) : (t) => tf.sum(t));

function normalisedPenalty(filtered: tf.Tensor, x: tf.Tensor, avg: boolean): tf.Scalar {
  const agg = aggregate(avg);
  return tf.div(agg(tf.square(filtered)), tf.add(agg(tf.square(x)), REGULARIZER_EPS));
}

/** `Σ Laplace(W)² / (Σ W² + 1e-6)` over the spatial maps of a `[O, I, 1, kh, kw]` weight (OpenRetina's `FlatLaplaceL23dnorm`). */
export class FlatLaplaceL23dnorm extends Module {
  readonly laplace: Laplace;
  constructor(options: { padding?: number | null } = {}) {
    super();
    this.laplace = this.registerModule('laplace', new Laplace({ padding: options.padding ?? null }));
  }
  forward(x: tf.Tensor, avg = false): tf.Scalar {
    if (x.rank !== 5 || x.shape[2] !== 1) {
      throw new ShapeError(`FlatLaplaceL23dnorm expects a [O, I, 1, kh, kw] weight, got ${formatShape(x.shape)}.`);
    }
    return tf.tidy(() => {
      const [o, i, , kh, kw] = x.shape as number[];
      return normalisedPenalty(this.laplace.forward(tf.reshape(x, [o! * i!, kh!, kw!])), x, avg);
    });
  }
}

/** `Σ Laplace1d(w)² / (Σ w² + 1e-6)` over the temporal kernels of a `[O, I, kt, 1, 1]` weight (`TimeLaplaceL23dnorm`). */
export class TimeLaplaceL23dnorm extends Module {
  readonly laplace: Laplace1d;
  constructor(options: { padding?: number | null; persistentBuffer?: boolean } = {}) {
    super();
    this.laplace = this.registerModule(
      'laplace',
      new Laplace1d({ padding: options.padding ?? null, persistentBuffer: options.persistentBuffer ?? true }),
    );
  }
  forward(x: tf.Tensor, avg = false): tf.Scalar {
    if (x.rank !== 5 || x.shape[3] !== 1 || x.shape[4] !== 1) {
      throw new ShapeError(`TimeLaplaceL23dnorm expects a [O, I, kt, 1, 1] weight, got ${formatShape(x.shape)}.`);
    }
    return tf.tidy(() => {
      const [o, i, kt] = x.shape as number[];
      return normalisedPenalty(this.laplace.forward(tf.reshape(x, [o! * i!, kt!])), x, avg);
    });
  }
}

/** `Σ Laplace(W)² / (Σ W² + 1e-6)` for a 4-D `[O, I, kh, kw]` weight (`LaplaceL2norm`). */
export class LaplaceL2norm extends Module {
  readonly laplace: Laplace;
  constructor(options: { padding?: number | null } = {}) {
    super();
    this.laplace = this.registerModule('laplace', new Laplace({ padding: options.padding ?? null }));
  }
  forward(x: tf.Tensor, avg = false): tf.Scalar {
    if (x.rank !== 4) throw new ShapeError(`LaplaceL2norm expects a [O, I, kh, kw] weight, got ${formatShape(x.shape)}.`);
    return tf.tidy(() => {
      const [o, i, kh, kw] = x.shape as number[];
      return normalisedPenalty(this.laplace.forward(tf.reshape(x, [o! * i!, kh!, kw!])), x, avg);
    });
  }
}

/**
 * An oriented 2-D Gaussian on a centred grid, min–max normalised to [0, 1] (OpenRetina's `gaussian2d`).
 * Returns row-major `size[0] × size[1]` values.
 */
export function gaussian2d(
  size: readonly [number, number],
  options: { sigma?: number; gamma?: number; theta?: number; center?: readonly [number, number]; normalize?: boolean } = {},
): Float32Array {
  const sigma = options.sigma ?? 5;
  const gamma = options.gamma ?? 1;
  const theta = options.theta ?? 0;
  // OpenRetina subtracts center[0] from y (second axis) and center[1] from x (first axis).
  const [cy, cx] = options.center ?? [0, 0];
  const [h, w] = size;
  const out = new Float64Array(h * w); // float64 like NumPy, cast at the end
  const sigmaX = sigma;
  const sigmaY = sigma / gamma;
  // x runs along the first axis, y along the second, both centred (ceil/floor as a symmetric arange).
  for (let a = 0; a < h; a++) {
    for (let b = 0; b < w; b++) {
      const x = a - (h - 1) / 2 - cx;
      const y = b - (w - 1) / 2 - cy;
      const xr = x * Math.cos(theta) + y * Math.sin(theta);
      const yr = -x * Math.sin(theta) + y * Math.cos(theta);
      out[a * w + b] = Math.exp(-0.5 * ((xr * xr) / (sigmaX * sigmaX) + (yr * yr) / (sigmaY * sigmaY)));
    }
  }
  if (options.normalize ?? true) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of out) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    // As OpenRetina: subtract the minimum, then divide by the new maximum (0/0 = NaN for a constant map, e.g. 1×1).
    for (let i = 0; i < out.length; i++) out[i] = (out[i]! - lo) / (hi - lo);
  }
  return Float32Array.from(out);
}

/** Laplace penalty down-weighted at the kernel centre by `1 − gaussian2d` (`GaussianLaplaceL2`). */
export class GaussianLaplaceL2 extends Module {
  readonly laplace: Laplace;
  readonly kernel: readonly [number, number];
  private readonly weighting: Float32Array;
  constructor(kernel: number | readonly [number, number], options: { padding?: number | null } = {}) {
    super();
    this.kernel = typeof kernel === 'number' ? [kernel, kernel] : kernel;
    this.laplace = this.registerModule('laplace', new Laplace({ padding: options.padding ?? null }));
    const g = gaussian2d(this.kernel, { sigma: Math.min(...this.kernel) / 4 });
    this.weighting = g.map((v) => 1 - v);
  }
  forward(x: tf.Tensor, avg = false): tf.Scalar {
    if (x.rank !== 4) throw new ShapeError(`GaussianLaplaceL2 expects a [O, I, kh, kw] weight, got ${formatShape(x.shape)}.`);
    return tf.tidy(() => {
      const [o, i, kh, kw] = x.shape as number[];
      const filtered = this.laplace.forward(tf.reshape(x, [o! * i!, kh!, kw!]));
      const [fh, fw] = filtered.shape.slice(1) as [number, number];
      if (fh !== this.kernel[0] || fw !== this.kernel[1]) {
        throw new ShapeError(`GaussianLaplaceL2 built for a ${this.kernel.join('×')} kernel got filtered maps of ${fh}×${fw}.`);
      }
      const out = tf.mul(filtered, tf.tensor(this.weighting, [1, fh, fw]));
      return normalisedPenalty(out, x, avg);
    });
  }
}

/**
 * OpenRetina's `temporal_smoothing(sin, cos)` for `[O, I, K]` coefficient tensors:
 * `(Σ (s_k·sin)² + Σ (s_k·cos)²) / O` with `s = linspace(0.1, 0.9, K)` (high frequencies cost more).
 */
export function temporalSmoothing(sin: tf.Tensor, cos: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const K = sin.shape[2]!;
    const s = tf.linspace(0.1, 0.9, K);
    const total = tf.add(tf.sum(tf.square(tf.mul(s, sin))), tf.sum(tf.square(tf.mul(s, cos))));
    return tf.div(total, sin.shape[0]!) as tf.Scalar;
  });
}

/**
 * Group sparsity of a conv weight `[O, I, ...]`: `Σ_o (Σ_i ‖W[o,i]‖₂) / sqrt(eps + ‖W[o]‖₂²)`.
 * OpenRetina's SimpleCoreWrapper uses eps = 1e-8; the GRU core's `group_sparsity` uses none (eps = 0).
 */
export function groupSparsity(weight: tf.Tensor, eps = 1e-8): tf.Scalar {
  return tf.tidy(() => {
    const [o, i] = weight.shape as number[];
    const w = tf.reshape(weight, [o!, i!, -1]);
    const sq = tf.sum(tf.square(w), 2); // [O, I]
    const perPair = tf.sqrt(sq);
    const num = tf.sum(perPair, 1);
    const den = tf.sqrt(tf.add(tf.sum(sq, 1), eps));
    return tf.sum(tf.div(num, den)) as tf.Scalar;
  });
}
