import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@openretina/contracts';
import { torchAbs, toRng, type Rng } from '@openretina/layers';
import { ReadoutBase, reduceBy, type ReadoutInShape } from './readout-base.js';

export type Nonlinearity = 'softplus' | 'identity' | 'exp' | 'relu' | 'elu' | ((x: tf.Tensor) => tf.Tensor);

export function applyNonlinearity(fn: Nonlinearity, x: tf.Tensor): tf.Tensor {
  if (typeof fn === 'function') return fn(x);
  switch (fn) {
    case 'softplus':
      return tf.softplus(x);
    case 'identity':
      return x;
    case 'exp':
      return tf.exp(x);
    case 'relu':
      return tf.relu(x);
    case 'elu':
      return tf.elu(x);
    default:
      throw new ConfigError(`Unknown nonlinearity "${String(fn)}".`);
  }
}

export interface GaussianMaskReadoutOptions {
  /** Core output `(c, t, h, w)`. */
  inShape: ReadoutInShape;
  outDims: number;
  meanActivity?: Float32Array | undefined;
  gaussianMeanScale?: number;
  gaussianVarScale?: number;
  /** Clamp the feature weights at 0 (in place, at every forward, as OpenRetina). */
  positive?: boolean;
  scale?: boolean;
  bias?: boolean;
  nonlinearity?: Nonlinearity;
  maskL1Reg?: number;
  featureWeightsL1Reg?: number;
  seed?: number | Rng;
}

/**
 * OpenRetina's `GaussianMaskReadout` (Höfling et al. 2024): each neuron integrates the core features under a
 * normalised isotropic Gaussian mask and weights the channels: `softplus((Σ_hw x·mask)·features·scale + bias)`.
 * Entries: `mask_mean [N, 2]`, `mask_log_var [N]`, `features [1, c, 1, N]`, `scale_param [N]`, `bias [N]`,
 * `grid [N, h, w, 2]`.
 */
export class GaussianMaskReadout extends ReadoutBase {
  readonly outDims: number;
  readonly inShape: ReadoutInShape;
  readonly gaussianMeanScale: number;
  readonly gaussianVarScale: number;
  readonly positive: boolean;
  readonly nonlinearity: Nonlinearity;
  readonly maskL1Reg: number;
  readonly featureWeightsL1Reg: number;
  readonly maskMean: tf.Variable;
  readonly maskLogVar: tf.Variable;
  readonly features: tf.Variable;
  readonly scaleParam: tf.Variable;
  readonly bias: tf.Variable;
  readonly grid: tf.Variable;

  constructor(options: GaussianMaskReadoutOptions) {
    super();
    const rng = toRng(options.seed);
    const [c, , h, w] = options.inShape;
    const n = options.outDims;
    this.inShape = options.inShape;
    this.outDims = n;
    this.gaussianMeanScale = options.gaussianMeanScale ?? 1;
    this.gaussianVarScale = options.gaussianVarScale ?? 1;
    this.positive = options.positive ?? false;
    this.nonlinearity = options.nonlinearity ?? 'softplus';
    this.maskL1Reg = options.maskL1Reg ?? 1;
    this.featureWeightsL1Reg = options.featureWeightsL1Reg ?? 1;
    this.maskMean = this.registerParameter('mask_mean', tf.zeros([n, 2]));
    this.maskLogVar = this.registerParameter('mask_log_var', tf.zeros([n]));
    this.features = this.registerParameter('features', rng.randn([1, c, 1, n], 0.01, 1 / c));
    this.scaleParam = options.scale
      ? this.registerParameter('scale_param', rng.randn([n], 0.01, 1))
      : this.registerBuffer('scale_param', tf.ones([n]));
    this.bias = (options.bias ?? true) ? this.registerParameter('bias', tf.zeros([n])) : this.registerBuffer('bias', tf.zeros([n]));
    this.grid = this.registerBuffer('grid', makeMaskGrid(n, h, w));
    this.initializeBias(options.meanActivity);
  }

  protected get biasVariable(): tf.Variable {
    return this.bias;
  }

  /** The normalised masks `[N, h, w]` (each sums to 1). */
  mask(): tf.Tensor3D {
    return tf.tidy(() => {
      const n = this.outDims;
      const variance = tf.reshape(tf.exp(tf.clipByValue(tf.mul(this.maskLogVar, this.gaussianVarScale), -20, 20)), [n, 1, 1]);
      const centre = tf.reshape(tf.mul(this.maskMean, this.gaussianMeanScale), [n, 1, 1, 2]);
      const d2 = tf.div(tf.sum(tf.square(tf.sub(this.grid, centre)), -1), tf.add(variance, 1e-8));
      const pdf = tf.exp(tf.mul(tf.minimum(d2, 20), -0.5));
      const normalised = tf.div(pdf, tf.sum(pdf, [1, 2], true));
      // nan_to_num: a mask whose pdf underflows everywhere contributes nothing.
      return tf.where(tf.isNaN(normalised), tf.zerosLike(normalised), normalised) as tf.Tensor3D;
    });
  }

  /**
   * The readout as one dense matrix `[N, c·h·w]` on the host: row `n`, column `ch·h·w + y·w + x` holds
   * `mask[n, y, x] · features[ch, n] · scale[n]` (the features clamped at 0 when `positive`, without writing the
   * clamp back), so that `forward` is `nonlinearity(W·z + bias)` at each frame of the core's output `z`. For code that
   * folds the readout into its own weights (ONNX export, the WebAssembly predictor).
   */
  denseWeight(): Float32Array {
    const [c, , h, w] = this.inShape;
    const N = this.outDims;
    const Q = h * w;
    const mask = tf.tidy(() => this.mask().dataSync()); // [N, Q]
    const features = this.features.dataSync(); // [1, c, 1, N]
    const scale = this.scaleParam.dataSync();
    const weight = new Float32Array(N * c * Q);
    for (let n = 0; n < N; n++)
      for (let ch = 0; ch < c; ch++) {
        const f = features[ch * N + n]!;
        const fs = (this.positive && f < 0 ? 0 : f) * scale[n]!;
        for (let q = 0; q < Q; q++) weight[(n * c + ch) * Q + q] = mask[n * Q + q]! * fs;
      }
    return weight;
  }

  /** `[B, T, h, w, c]` → `[B, T, N]`. */
  forward(x: tf.Tensor5D): tf.Tensor3D {
    const [c, , h, w] = this.inShape;
    this.checkInput(x, c, h, w);
    if (this.positive) tf.tidy(() => this.features.assign(tf.relu(this.features)));
    return tf.tidy(() => {
      const [b, t] = x.shape;
      const n = this.outDims;
      // One matmul: W[(h·w·c), n] = mask[n, h·w] · features[c, n].
      const maskT = tf.reshape(tf.transpose(tf.reshape(this.mask(), [n, h * w])), [h * w, 1, n]);
      const weights = tf.reshape(tf.mul(maskT, tf.reshape(this.features, [1, c, n])), [h * w * c, n]);
      const y = tf.matMul(tf.reshape(x, [b * t, h * w * c]), weights);
      const out = applyNonlinearity(this.nonlinearity, tf.add(tf.mul(y, this.scaleParam), this.bias));
      return tf.reshape(out, [b, t, n]) as tf.Tensor3D;
    });
  }

  /** `Σ exp(logvar·vs) + Σ (μ·ms)²` (or the means). */
  maskL1(reduction: 'sum' | 'mean' = 'sum'): tf.Scalar {
    return tf.tidy(() =>
      tf.add(
        reduceBy(tf.exp(tf.mul(this.maskLogVar, this.gaussianVarScale)), reduction),
        reduceBy(tf.square(tf.mul(this.maskMean, this.gaussianMeanScale)), reduction),
      ),
    );
  }

  featureL1(reduction: 'sum' | 'mean' = 'sum'): tf.Scalar {
    return tf.tidy(() => reduceBy(torchAbs(this.features), reduction));
  }

  regularizer(reduction: 'sum' | 'mean' = 'sum'): tf.Scalar {
    return tf.tidy(() =>
      tf.add(tf.mul(this.maskL1(reduction), this.maskL1Reg), tf.mul(this.featureL1(reduction), this.featureWeightsL1Reg)),
    );
  }
}

/** `[n, h, w, 2]`: channel 0 runs along h, channel 1 along w, each over ±(size / max(h, w)). */
export function makeMaskGrid(n: number, h: number, w: number): tf.Tensor4D {
  const m = Math.max(h, w);
  const data = new Float32Array(n * h * w * 2);
  const lin = (size: number, i: number): number => (size === 1 ? -size / m : -size / m + (2 * size * i) / (m * (size - 1)));
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const base = (i * w + j) * 2;
      data[base] = lin(h, i);
      data[base + 1] = lin(w, j);
    }
  }
  for (let k = 1; k < n; k++) data.copyWithin(k * h * w * 2, 0, h * w * 2);
  return tf.tensor4d(data, [n, h, w, 2]);
}
