import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, UnsupportedError, formatShape } from '@openretina/contracts';
import { torchAbs, toRng, type Rng } from '@openretina/layers';
import { bilinearSamplingMatrix } from './grid-sample.js';
import { ReadoutBase, reduceBy, type ReadoutInShape } from './readout-base.js';

export type GaussType = 'full' | 'uncorrelated' | 'isotropic';

export interface PointGaussianReadoutOptions {
  /** Core output `(c, t, h, w)`. */
  inShape: ReadoutInShape;
  outDims: number;
  /** A per-neuron bias (a parameter, set from the mean activity); OpenRetina requires the flag, default true here. */
  bias?: boolean;
  /** `_mu ~ U(−r, r)`, `0 < r ≤ 1` (default 0.1). */
  initMuRange?: number;
  /** `sigma ~ U(−s, s)` for `full`, the constant `s` otherwise; `s > 0` (default 0.15). */
  initSigmaRange?: number;
  /** One location per batch element (true, default) or one for the whole batch. */
  batchSample?: boolean;
  alignCorners?: boolean;
  gaussType?: GaussType;
  meanActivity?: Float32Array | undefined;
  /** Weight of the feature L1 penalty (`gamma_readout`, default 1). */
  gammaReadout?: number;
  /** Seeds the initialisation and the training-time location samples. */
  seed?: number | Rng;
  /** OpenRetina's grid-mean predictor, shared features and shared grids are not ported. */
  gridMeanPredictor?: never;
  sharedFeatures?: never;
  sharedGrid?: never;
}

export interface PointGaussianForwardOptions {
  /** Draw random locations (default: in training mode) or use the means (default in eval mode). */
  sample?: boolean;
  /**
   * The N(0, 1) draw to use instead of the readout's generator, `[M, N, 1, 2]` with M the number of flattened
   * (batch·time) elements (1 without `batchSample`). Only read when sampling. For reproducing a given draw.
   */
  noise?: tf.Tensor;
}

/**
 * OpenRetina's `PointGaussianReadout` (alias `FullGaussian2d`, Lurz et al. 2021): each neuron reads the core
 * features at one location, bilinearly interpolated, and weights the channels. In training the location is drawn
 * from a learned 2-D Gaussian per neuron (a new draw for every flattened batch·time element), in eval it is the
 * mean. `forward` maps `[B, T, h, w, c]` → `[B, T, N]` (no nonlinearity: `MultiSampledGaussianReadout` adds it).
 * Entries: `_mu [1, N, 1, 2]`, `sigma` (`[1, N, 2, 2]` full, `[1, N, 1, 2]` uncorrelated, `[1, N, 1, 1]`
 * isotropic), `_features [1, c, 1, N]`, `bias [N]`.
 *
 * Random locations come from the seeded `Rng` (layers' random.ts), not torch's generator: the same seed gives the
 * same draws here, but not PyTorch's numbers (pass `noise` to reproduce a given draw).
 */
export class PointGaussianReadout extends ReadoutBase {
  readonly outDims: number;
  readonly inShape: ReadoutInShape;
  readonly gaussType: GaussType;
  readonly batchSample: boolean;
  readonly alignCorners: boolean;
  readonly gammaReadout: number;
  readonly initMuRange: number;
  readonly initSigmaRange: number;
  /** `_mu`: the mean locations, (x, y) in [-1, 1]. */
  readonly mu: tf.Variable;
  readonly sigma: tf.Variable;
  /** `_features [1, c, 1, N]`. */
  readonly features: tf.Variable;
  readonly bias: tf.Variable | undefined;
  private readonly rng: Rng;

  constructor(options: PointGaussianReadoutOptions) {
    super();
    const opts = options as PointGaussianReadoutOptions & Record<string, unknown>;
    for (const key of ['gridMeanPredictor', 'sharedFeatures', 'sharedGrid'] as const) {
      if (opts[key] !== undefined && opts[key] !== null) {
        throw new UnsupportedError(`PointGaussianReadout: "${key}" (OpenRetina's ${snake(key)}) is not supported.`);
      }
    }
    const muRange = options.initMuRange ?? 0.1;
    const sigmaRange = options.initSigmaRange ?? 0.15;
    if (!(muRange > 0 && muRange <= 1) || !(sigmaRange > 0)) {
      throw new ConfigError(`PointGaussianReadout needs 0 < initMuRange ≤ 1 and initSigmaRange > 0, got ${muRange} and ${sigmaRange}.`);
    }
    const gaussType = options.gaussType ?? 'full';
    const sigmaShape = SIGMA_SHAPES[gaussType];
    if (!sigmaShape) throw new ConfigError(`Unknown gaussType "${String(gaussType)}": expected full, uncorrelated or isotropic.`);
    const [c] = options.inShape;
    const n = options.outDims;
    this.inShape = options.inShape;
    this.outDims = n;
    this.gaussType = gaussType;
    this.batchSample = options.batchSample ?? true;
    this.alignCorners = options.alignCorners ?? true;
    this.gammaReadout = options.gammaReadout ?? 1;
    this.initMuRange = muRange;
    this.initSigmaRange = sigmaRange;
    this.rng = toRng(options.seed);
    // PyTorch's registration order: _mu, sigma, _features, bias.
    this.mu = this.registerParameter('_mu', this.rng.rand([1, n, 1, 2], -muRange, muRange));
    this.sigma = this.registerParameter(
      'sigma',
      gaussType === 'full' ? this.rng.rand([1, n, ...sigmaShape], -sigmaRange, sigmaRange) : tf.fill([1, n, ...sigmaShape], sigmaRange),
    );
    this.features = this.registerParameter('_features', tf.fill([1, c, 1, n], 1 / c));
    this.bias = (options.bias ?? true) ? this.registerParameter('bias', tf.zeros([n])) : undefined;
    this.initializeBias(options.meanActivity);
  }

  protected get biasVariable(): tf.Variable | undefined {
    return this.bias;
  }

  /** Clamps `_mu` to [-1, 1] in place, as OpenRetina does before every grid sampling. */
  clampMu(): void {
    tf.tidy(() => this.mu.assign(tf.clipByValue(this.mu, -1, 1)));
  }

  /**
   * Grid locations `[batchSize, N, 1, 2]`: `clamp(σ·z + μ, −1, 1)` (`full`: `σ[n] @ z`), z ~ N(0, 1) when
   * sampling (default: in training), z = 0 otherwise. Clamps `_mu` in place first.
   */
  sampleGrid(batchSize: number, options: PointGaussianForwardOptions = {}): tf.Tensor4D {
    this.clampMu();
    const sample = options.sample ?? this.training;
    return tf.tidy(() => {
      const n = this.outDims;
      let norm: tf.Tensor;
      if (sample) {
        if (options.noise) {
          if (options.noise.size !== batchSize * n * 2) {
            throw new ShapeError(`PointGaussianReadout noise must be [${batchSize}, ${n}, 1, 2], got ${formatShape(options.noise.shape)}.`);
          }
          norm = tf.reshape(options.noise, [batchSize, n, 1, 2]);
        } else {
          norm = this.rng.randn([batchSize, n, 1, 2]);
        }
      } else {
        norm = tf.zeros([batchSize, n, 1, 2]);
      }
      let offset: tf.Tensor;
      if (this.gaussType === 'full') {
        // grid[b, n, 0, c] = Σ_d sigma[0, n, c, d] · norm[b, n, 0, d]
        offset = tf.expandDims(tf.sum(tf.mul(this.sigma, norm), -1), 2);
      } else {
        offset = tf.mul(norm, this.sigma);
      }
      return tf.clipByValue(tf.add(offset, this.mu), -1, 1) as tf.Tensor4D;
    });
  }

  /** The mean locations `[1, N, 1, 2]` (OpenRetina's `grid` property). */
  get grid(): tf.Tensor4D {
    return this.sampleGrid(1, { sample: false });
  }

  /** `Σ std_n(_mu)` (unbiased), OpenRetina's `mu_dispersion` (not part of the regularizer). */
  muDispersion(): tf.Scalar {
    return tf.tidy(() => {
      const mu = tf.reshape(this.mu, [this.outDims, 2]);
      const mean = tf.mean(mu, 0, true);
      const variance = tf.div(tf.sum(tf.square(tf.sub(mu, mean)), 0), this.outDims - 1);
      return tf.sum(tf.sqrt(variance)) as tf.Scalar;
    });
  }

  /** `[B, T, h, w, c]` → `[B, T, N]`: every (batch, time) element is one sample (OpenRetina's rearrange). */
  forward(x: tf.Tensor5D, options: PointGaussianForwardOptions = {}): tf.Tensor3D {
    const [c, , h, w] = this.inShape;
    this.checkInput(x, c, h, w);
    const [b, t] = x.shape;
    const flat = tf.reshape(x, [b * t, h, w, c]) as tf.Tensor4D;
    const y = this.forwardFlat(flat, options);
    flat.dispose();
    const out = tf.reshape(y, [b, t, this.outDims]) as tf.Tensor3D;
    y.dispose();
    return out;
  }

  /** OpenRetina's own forward on `[M, h, w, c]` feature maps → `[M, N]`. */
  forwardFlat(x: tf.Tensor4D, options: PointGaussianForwardOptions = {}): tf.Tensor2D {
    const [c, , h, w] = this.inShape;
    if (x.rank !== 4 || x.shape[1] !== h || x.shape[2] !== w || x.shape[3] !== c) {
      throw new ShapeError(`PointGaussianReadout expects feature maps [M, ${h}, ${w}, ${c}], got ${formatShape(x.shape)}.`);
    }
    const m = x.shape[0];
    const n = this.outDims;
    const sample = options.sample ?? this.training;
    const perElement = this.batchSample && sample;
    const grid = this.sampleGrid(perElement ? m : 1, { ...options, sample });
    const out = tf.tidy(() => {
      const feat = tf.reshape(this.features, [c, n]);
      const s = bilinearSamplingMatrix(tf.reshape(grid, [perElement ? m : 1, n, 2]), h, w, this.alignCorners);
      let y: tf.Tensor;
      if (perElement) {
        // [M, N, hw] × [M, hw, c] → [M, N, c], weighted over c.
        const sampled = tf.matMul(s, tf.reshape(x, [m, h * w, c]));
        y = tf.sum(tf.mul(sampled, tf.expandDims(tf.transpose(feat), 0)), -1);
      } else {
        // One location per neuron for all elements: fold sampling and channel weights into one [hw·c, N] matrix.
        const weights = tf.reshape(tf.mul(tf.reshape(tf.transpose(tf.reshape(s, [n, h * w])), [h * w, 1, n]), tf.expandDims(feat, 0)), [
          h * w * c,
          n,
        ]);
        y = tf.matMul(tf.reshape(x, [m, h * w * c]), weights);
      }
      return (this.bias ? tf.add(y, this.bias) : y) as tf.Tensor2D;
    });
    grid.dispose();
    return out;
  }

  /** `apply_reduction(|features|)`. */
  featureL1(reduction: 'sum' | 'mean' = 'sum'): tf.Scalar {
    return tf.tidy(() => reduceBy(torchAbs(this.features), reduction));
  }

  /** `gamma_readout · featureL1(reduction)`. */
  regularizer(reduction: 'sum' | 'mean' = 'sum'): tf.Scalar {
    return tf.tidy(() => tf.mul(this.featureL1(reduction), this.gammaReadout));
  }
}

/** Backward-compatible alias, as in OpenRetina. */
export class FullGaussian2d extends PointGaussianReadout {}

const SIGMA_SHAPES: Record<GaussType, [number, number]> = {
  full: [2, 2],
  uncorrelated: [1, 2],
  isotropic: [1, 1],
};

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
}
