import * as tf from '@tensorflow/tfjs-core';
import { UnsupportedError } from '@openretina/contracts';
import { toRng, torchAbs, torchSoftplus, type Rng } from '@openretina/layers';
import { ReadoutBase, makeMaskGrid, reduceBy, type ReadoutInShape } from '@openretina/readout';

/** Options of {@link SpatialXFeature3d}. */
export interface SpatialXFeature3dOptions {
  /** Core output `(c, t, h, w)`. */
  inShape: ReadoutInShape;
  outDims: number;
  gaussianMasks?: boolean;
  gaussianMeanScale?: number;
  gaussianVarScale?: number;
  initializeFromRoiMasks?: boolean;
  positive?: boolean;
  scale?: boolean;
  bias?: boolean;
  /** Softplus at the end (default true). */
  nonlinearity?: boolean;
  /** `gamma_readout`: weight of the feature L1 in {@link SpatialXFeature3d.regularizer}. */
  gammaReadout?: number;
  /** `gamma_masks`: weight of the mask penalty. */
  gammaMasks?: number;
  seed?: number | Rng;
}

/**
 * OpenRetina's legacy `SpatialXFeature3d` readout: `softplus(Σ_hwc x·mask[h,w,n]·features[c,n] · scale + bias)`.
 * With `gaussianMasks` the masks are normalised isotropic Gaussians (as in `GaussianMaskReadout`, with the mean
 * and variance scales of this class); otherwise a free `masks` parameter `[h, w, N]` is used through its absolute
 * value (PyTorch's forward fails on that path; see the hub README).
 *
 * Entries (PyTorch order): gaussian: `mask_mean [N, 2]`, `mask_log_var [N]`, `grid [N, h, w, 2]` (a frozen
 * parameter); free masks: `masks [h, w, N]`; then `features [1, c, 1, N]`, `scale [N]` (with `scale`),
 * `bias [N]` (with `bias`).
 */
export class SpatialXFeature3d extends ReadoutBase {
  readonly outDims: number;
  readonly inShape: ReadoutInShape;
  readonly gaussianMasks: boolean;
  readonly gaussianMeanScale: number;
  readonly gaussianVarScale: number;
  readonly positive: boolean;
  readonly nonlinearity: boolean;
  readonly gammaReadout: number;
  readonly gammaMasks: number;
  readonly maskMean: tf.Variable | undefined;
  readonly maskLogVar: tf.Variable | undefined;
  readonly grid: tf.Variable | undefined;
  readonly masks: tf.Variable | undefined;
  readonly features: tf.Variable;
  readonly scale: tf.Variable | undefined;
  readonly bias: tf.Variable | undefined;

  constructor(options: SpatialXFeature3dOptions) {
    super();
    const rng = toRng(options.seed);
    const [c, , h, w] = options.inShape;
    const n = options.outDims;
    this.inShape = options.inShape;
    this.outDims = n;
    this.gaussianMasks = options.gaussianMasks ?? false;
    this.gaussianMeanScale = options.gaussianMeanScale ?? 1;
    this.gaussianVarScale = options.gaussianVarScale ?? 1;
    this.positive = options.positive ?? false;
    this.nonlinearity = options.nonlinearity ?? true;
    this.gammaReadout = options.gammaReadout ?? 0;
    this.gammaMasks = options.gammaMasks ?? 0;
    if (this.gaussianMasks) {
      this.maskMean = this.registerParameter('mask_mean', tf.zeros([n, 2]));
      this.maskLogVar = this.registerParameter('mask_log_var', tf.zeros([n]));
      this.grid = this.registerParameter('grid', makeMaskGrid(n, h, w), false);
    } else if (options.initializeFromRoiMasks) {
      // PyTorch's constructor calls a method the class does not define (get_normal_pdf_from_roi_mask).
      throw new UnsupportedError(
        'SpatialXFeature3d with initialize_from_roi_masks (and no gaussian_masks) cannot be built: OpenRetina itself fails there.',
      );
    } else {
      this.masks = this.registerParameter('masks', rng.randn([h, w, n], 0.01));
    }
    this.features = this.registerParameter('features', rng.randn([1, c, 1, n], 0.01));
    if (options.scale) this.scale = this.registerParameter('scale', rng.randn([n], 0.01, 1));
    if (options.bias ?? true) this.bias = this.registerParameter('bias', tf.zeros([n]));
  }

  protected get biasVariable(): tf.Variable | undefined {
    return this.bias;
  }

  /** The masks `[h, w, N]` the forward uses (normalised Gaussians, or |masks|). */
  getMasks(): tf.Tensor3D {
    return tf.tidy(() => {
      if (!this.gaussianMasks) return torchAbs(this.masks!) as tf.Tensor3D;
      const n = this.outDims;
      const variance = tf.reshape(tf.exp(tf.clipByValue(tf.mul(this.maskLogVar!, this.gaussianVarScale), -20, 20)), [n, 1, 1]);
      const centre = tf.reshape(tf.mul(this.maskMean!, this.gaussianMeanScale), [n, 1, 1, 2]);
      const d2 = tf.div(tf.sum(tf.square(tf.sub(this.grid!, centre)), -1), tf.add(variance, 1e-8));
      const pdf = tf.exp(tf.mul(tf.minimum(d2, 20), -0.5));
      const normalised = tf.div(pdf, tf.sum(pdf, [1, 2], true));
      const clean = tf.where(tf.isNaN(normalised), tf.zerosLike(normalised), normalised);
      return tf.transpose(clean, [1, 2, 0]) as tf.Tensor3D;
    });
  }

  /** `[B, T, h, w, c]` → `[B, T, N]`. */
  forward(x: tf.Tensor5D): tf.Tensor3D {
    const [c, , h, w] = this.inShape;
    this.checkInput(x, c, h, w);
    // In place, as PyTorch: the free masks become |masks|, the features are clamped at 0 with `positive`.
    if (this.masks) tf.tidy(() => this.masks!.assign(tf.abs(this.masks!)));
    if (this.positive) tf.tidy(() => this.features.assign(tf.relu(this.features)));
    return tf.tidy(() => {
      const [b, t] = x.shape;
      const n = this.outDims;
      const masks = tf.reshape(this.getMasks(), [h * w, 1, n]);
      const weights = tf.reshape(tf.mul(masks, tf.reshape(this.features, [1, c, n])), [h * w * c, n]);
      let y: tf.Tensor = tf.matMul(tf.reshape(x, [b * t, h * w * c]), weights);
      if (this.scale) y = tf.mul(y, this.scale);
      if (this.bias) y = tf.add(y, this.bias);
      if (this.nonlinearity) y = torchSoftplus(y);
      return tf.reshape(y, [b, t, n]) as tf.Tensor3D;
    });
  }

  /** `Σ |features|` (or the mean). */
  featureL1(reduction: 'sum' | 'mean' = 'sum'): tf.Scalar {
    return tf.tidy(() => reduceBy(torchAbs(this.features), reduction));
  }

  /** Gaussian: `Σ exp(logvar·vs) + Σ (μ·ms)²` (no clamp, as PyTorch); free masks: `Σ |masks|` (or the means). */
  maskL1(reduction: 'sum' | 'mean' = 'sum'): tf.Scalar {
    return tf.tidy(() => {
      if (!this.gaussianMasks) return reduceBy(torchAbs(this.masks!), reduction);
      return tf.add(
        reduceBy(tf.exp(tf.mul(this.maskLogVar!, this.gaussianVarScale)), reduction),
        reduceBy(tf.square(tf.mul(this.maskMean!, this.gaussianMeanScale)), reduction),
      ) as tf.Scalar;
    });
  }

  /** `feature_l1·gamma_readout + mask_l1·gamma_masks` (SpatialXFeature3dReadout's per-session regularizer). */
  regularizer(reduction: 'sum' | 'mean' = 'sum'): tf.Scalar {
    return tf.tidy(() => tf.add(tf.mul(this.featureL1(reduction), this.gammaReadout), tf.mul(this.maskL1(reduction), this.gammaMasks)));
  }
}
