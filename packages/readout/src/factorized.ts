import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, formatShape } from '@openretina/contracts';
import { FlatLaplaceL23dnorm, torchAbs, toRng, type Rng } from '@openretina/layers';
import { ReadoutBase, type ReadoutInShape } from './readout-base.js';

export type FactorizedWeightsConstraint = 'abs' | 'norm' | 'absnorm';
export type FactorizedMaskConstraint = 'abs';

/** A tensor given as values plus shape (row-major, PyTorch layout), or a TF.js tensor (copied, not taken over). */
export type TensorInit = tf.Tensor | { data: ArrayLike<number>; shape: readonly number[] };

export interface FactorizedReadoutOptions {
  /** Core output `(c, t, h, w)`. */
  inShape: ReadoutInShape;
  outDims: number;
  maskL1Reg: number;
  weightsL1Reg: number;
  laplaceMaskReg: number;
  /** `(h, w)` or one size for both; defaults to the core output's `(h, w)` (what the multi-session readout passes). */
  maskSize?: number | readonly [number, number];
  readoutBias?: boolean;
  weightsConstraint?: FactorizedWeightsConstraint | null;
  maskConstraint?: FactorizedMaskConstraint | null;
  /** `[N, 1, H0, W0]`: the centre `h × w` crop becomes the mask. */
  initMask?: TensorInit | null;
  /** `[c, N]` feature weights. */
  initWeights?: TensorInit | null;
  /** `[[maskMean, maskStd], [weightsMean, weightsStd]]` of the normal initialisation. */
  initScales?: readonly (readonly [number, number])[] | null;
  meanActivity?: Float32Array | undefined;
  seed?: number | Rng;
}

/**
 * OpenRetina's `FactorizedReadout` (alias `KlindtReadoutWrapper3D`, Klindt et al. 2017): a free spatial mask and a
 * channel weight vector per neuron, `softplus(Σ_{p,c} x[p, c]·mask[p, n]·w[c, n] (+ bias))`. Constraints are applied
 * in place at every forward. Entries: `mask_weights [h·w, N]`, `feature_weights [c, N]`, `bias [N]` (a parameter
 * with `readoutBias`, else a zero buffer), `_input_weights_regularizer_spatial.laplace.filter [1, 1, 3, 3]`.
 */
export class FactorizedReadout extends ReadoutBase {
  readonly outDims: number;
  readonly inShape: ReadoutInShape;
  readonly maskSize: readonly [number, number];
  readonly reg: readonly [number, number, number];
  readonly readoutBias: boolean;
  readonly weightsConstraint: FactorizedWeightsConstraint | null;
  readonly maskConstraint: FactorizedMaskConstraint | null;
  readonly maskWeights: tf.Variable;
  readonly featureWeights: tf.Variable;
  readonly bias: tf.Variable;
  readonly laplaceRegularizer: FlatLaplaceL23dnorm;

  constructor(options: FactorizedReadoutOptions) {
    super();
    const rng = toRng(options.seed);
    const [c, , inH, inW] = options.inShape;
    const n = options.outDims;
    this.inShape = options.inShape;
    this.outDims = n;
    this.reg = [options.maskL1Reg, options.weightsL1Reg, options.laplaceMaskReg];
    this.readoutBias = options.readoutBias ?? false;
    this.weightsConstraint = options.weightsConstraint ?? null;
    this.maskConstraint = options.maskConstraint ?? null;
    if (this.weightsConstraint !== null && !['abs', 'norm', 'absnorm'].includes(this.weightsConstraint)) {
      throw new ConfigError(`Unknown weightsConstraint "${String(this.weightsConstraint)}": expected abs, norm or absnorm.`);
    }
    if (this.maskConstraint !== null && this.maskConstraint !== 'abs') {
      throw new ConfigError(`Unknown maskConstraint "${String(this.maskConstraint)}": expected abs.`);
    }
    const ms = options.maskSize ?? [inH, inW];
    const [h, w] = typeof ms === 'number' ? [ms, ms] : ms;
    this.maskSize = [h, w];
    const scales = options.initScales ?? null;

    // Child first (PyTorch assigns it first; it comes after the parameters in the state dict either way).
    this.laplaceRegularizer = this.registerModule('_input_weights_regularizer_spatial', new FlatLaplaceL23dnorm({ padding: 0 }));

    let mask: tf.Tensor;
    if (options.initMask) {
      mask = cropMask(options.initMask, n, h, w);
    } else {
      if (!scales?.[0]) throw new ConfigError('FactorizedReadout needs initMask or initScales.');
      const [mean, std] = scales[0];
      mask = rng.randn([h * w, n], std, mean);
    }
    this.maskWeights = this.registerParameter('mask_weights', mask);

    let weights: tf.Tensor;
    if (options.initWeights) {
      weights = toTensor(options.initWeights);
      if (weights.shape.length !== 2 || weights.shape[0] !== c || weights.shape[1] !== n) {
        const got = formatShape(weights.shape);
        weights.dispose();
        throw new ShapeError(`FactorizedReadout initWeights must be [${c}, ${n}], got ${got}.`);
      }
    } else {
      if (!scales?.[1]) throw new ConfigError('FactorizedReadout needs initWeights or initScales.');
      const [mean, std] = scales[1];
      weights = rng.randn([c, n], std, mean);
    }
    this.featureWeights = this.registerParameter('feature_weights', weights);
    this.bias = this.readoutBias ? this.registerParameter('bias', tf.zeros([n])) : this.registerBuffer('bias', tf.zeros([n]));
    // OpenRetina's `initialize`: the bias (parameter or buffer) takes the mean activity when there is one.
    if (options.meanActivity !== undefined) this.initializeBias(options.meanActivity);
  }

  protected get biasVariable(): tf.Variable {
    return this.bias;
  }

  /** The in-place constraints OpenRetina applies at the start of every forward. */
  applyConstraints(): void {
    tf.tidy(() => {
      if (this.maskConstraint === 'abs') this.maskWeights.assign(tf.abs(this.maskWeights));
      const wc = this.weightsConstraint;
      if (wc === 'abs' || wc === 'absnorm') this.featureWeights.assign(tf.abs(this.featureWeights));
      if (wc === 'norm' || wc === 'absnorm') {
        const norm = tf.sqrt(tf.add(tf.sum(tf.square(this.featureWeights), 0, true), 1e-5));
        this.featureWeights.assign(tf.div(this.featureWeights, norm));
      }
    });
  }

  /** `[B, T, h, w, c]` → `[B, T, N]`. */
  forward(x: tf.Tensor5D): tf.Tensor3D {
    const [c] = this.inShape;
    const [h, w] = this.maskSize;
    this.checkInput(x, c, h, w);
    this.applyConstraints();
    return tf.tidy(() => {
      const [b, t] = x.shape;
      const n = this.outDims;
      // W[(p, c), n] = mask[p, n] · w[c, n]: one matmul over pixels and channels.
      const weights = tf.reshape(tf.mul(tf.reshape(this.maskWeights, [h * w, 1, n]), tf.reshape(this.featureWeights, [1, c, n])), [
        h * w * c,
        n,
      ]);
      let y = tf.matMul(tf.reshape(x, [b * t, h * w * c]), weights);
      if (this.readoutBias) y = tf.add(y, this.bias);
      return tf.reshape(tf.softplus(y), [b, t, n]) as tf.Tensor3D;
    });
  }

  /** The masks as `[N, h, w]`. */
  spatialMasks(): tf.Tensor3D {
    return tf.tidy(() => tf.reshape(tf.transpose(this.maskWeights), [this.outDims, ...this.maskSize]) as tf.Tensor3D);
  }

  /**
   * `mask_l1·mean_n Σ_p |mask| + weights_l1·mean_n Σ_c |w| + laplace·FlatLaplaceL23dnorm(masks)` (summed Laplace);
   * with `reduction = 'mean'` the Laplace term is divided by 3, as OpenRetina does.
   */
  regularizer(reduction: 'sum' | 'mean' = 'sum'): tf.Scalar {
    return tf.tidy(() => {
      const [maskReg, weightsReg, laplaceReg] = this.reg;
      const maskR = tf.mul(tf.mean(tf.sum(torchAbs(this.maskWeights), 0)), maskReg);
      const weightsR = tf.mul(tf.mean(tf.sum(torchAbs(this.featureWeights), 0)), weightsReg);
      const masks = tf.reshape(tf.transpose(this.maskWeights), [this.outDims, 1, 1, ...this.maskSize]);
      let laplace = tf.mul(this.laplaceRegularizer.forward(masks, false), laplaceReg);
      if (reduction === 'mean') laplace = tf.div(laplace, 3);
      return tf.add(tf.add(maskR, weightsR), laplace) as tf.Scalar;
    });
  }
}

/** Backward-compatible alias, as in OpenRetina. */
export class KlindtReadoutWrapper3D extends FactorizedReadout {}

export function toTensor(init: TensorInit): tf.Tensor {
  if (init instanceof tf.Tensor) return tf.cast(init, 'float32');
  const size = init.shape.reduce((a, b) => a * b, 1);
  if (init.data.length !== size) {
    throw new ShapeError(`Tensor data has ${init.data.length} values, shape ${formatShape(init.shape)} needs ${size}.`);
  }
  return tf.tensor(Float32Array.from(init.data), [...init.shape]);
}

/** Centre crop of an `[N, 1, H0, W0]` mask to `[h·w, N]` (offsets `(H0 − h) // 2`, `(W0 − w) // 2`). */
function cropMask(init: TensorInit, n: number, h: number, w: number): tf.Tensor {
  const full = toTensor(init);
  const [n0, c0, h0, w0] = full.shape;
  if (full.rank !== 4 || n0 !== n || c0 !== 1 || h0! < h || w0! < w) {
    const got = formatShape(full.shape);
    full.dispose();
    throw new ShapeError(`FactorizedReadout initMask must be [${n}, 1, ≥${h}, ≥${w}], got ${got}.`);
  }
  return tf.tidy(() => {
    const dh = Math.floor((h0! - h) / 2);
    const dw = Math.floor((w0! - w) / 2);
    const cropped = tf.slice(full, [0, 0, dh, dw], [n, 1, h, w]);
    full.dispose();
    return tf.transpose(tf.reshape(cropped, [n, h * w]));
  });
}
