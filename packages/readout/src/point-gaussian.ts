import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, UnsupportedError, formatShape } from '@openretina/contracts';
import { Linear, torchAbs, toRng, type Rng } from '@openretina/layers';
import { bilinearSamplingMatrix } from './grid-sample.js';
import { GridMeanPredictor, type GridMeanPredictorOptions } from './grid-mean-predictor.js';
import { sharingIndex } from './match-ids.js';
import { ReadoutBase, reduceBy, type ReadoutInShape } from './readout-base.js';

export type GaussType = 'full' | 'uncorrelated' | 'isotropic';

/**
 * OpenRetina's `shared_features`: neurons with equal `matchIds` share one feature vector (entries ordered by
 * ascending id), each neuron scaled by its own `scales` entry. With `sharedFeatures` (another readout's
 * {@link PointGaussianReadout.features}, `[1, c, 1, distinct ids]`) this readout uses that variable instead of its
 * own, and its feature L1 is 0 (the owner counts it).
 */
export interface SharedFeaturesOptions {
  matchIds: ArrayLike<number>;
  sharedFeatures?: tf.Variable | null;
}

/**
 * OpenRetina's `shared_grid`: neurons with equal `matchIds` share one mean location. With `sharedGrid` (another
 * readout's {@link PointGaussianReadout.mu}, `[1, distinct ids, 1, 2]`) the locations are that variable through a
 * learned 2×2 linear map (`mu_transform`, starting as the identity).
 */
export interface SharedGridOptions {
  matchIds: ArrayLike<number>;
  sharedGrid?: tf.Variable | null;
}

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
  /**
   * OpenRetina's `grid_mean_predictor`: the mean locations are predicted from `sourceGrid` (one row of d
   * coordinates per neuron, centred and scaled to max |value| 1) by a small network instead of being parameters.
   */
  gridMeanPredictor?: GridMeanPredictorOptions | null;
  /** `source_grid`, `[N][d]`: required with `gridMeanPredictor`. */
  sourceGrid?: readonly (readonly number[])[] | null;
  sharedFeatures?: SharedFeaturesOptions | null;
  sharedGrid?: SharedGridOptions | null;
}

export interface PointGaussianForwardOptions {
  /** Draw random locations (default: in training mode) or use the means (default in eval mode). */
  sample?: boolean;
  /**
   * The N(0, 1) draw to use instead of the readout's generator, `[M, N, 1, 2]` with M the number of flattened
   * (batch·time) elements (1 without `batchSample`). Only read when sampling. For reproducing a given draw.
   */
  noise?: tf.Tensor;
  /**
   * OpenRetina's `shift` (from eye tracking): an (x, y) offset added to every neuron's location of a flattened
   * (batch·time) element after the clamp, `[M, 2]` (or `[B, T, 2]` for {@link PointGaussianReadout.forward}).
   */
  shift?: tf.Tensor;
}

/** How the mean locations are obtained: own parameters, shared ones (indexed, maybe transformed), or predicted. */
type GridSource =
  | { kind: 'own' }
  | { kind: 'shared'; index: tf.Variable; transform: Linear | undefined }
  | { kind: 'predicted'; predictor: GridMeanPredictor; sourceGrid: tf.Variable };

/**
 * OpenRetina's `PointGaussianReadout` (alias `FullGaussian2d`, Lurz et al. 2021): each neuron reads the core
 * features at one location, bilinearly interpolated, and weights the channels. In training the location is drawn
 * from a learned 2-D Gaussian per neuron (a new draw for every flattened batch·time element), in eval it is the
 * mean. `forward` maps `[B, T, h, w, c]` → `[B, T, N]` (no nonlinearity: `MultiSampledGaussianReadout` adds it).
 *
 * Entries in PyTorch's order: parameters `_mu [1, N, 1, 2]` (`[1, distinct ids, 1, 2]` with a shared grid; none with
 * a grid-mean predictor), `sigma` (`[1, N, 2, 2]` full, `[1, N, 1, 2]` uncorrelated, `[1, N, 1, 1]` isotropic),
 * `_features [1, c, 1, N]` (`[1, c, 1, distinct ids]` shared), `scales [1, 1, 1, N]` (shared features), `bias [N]`;
 * buffers `grid_sharing_index` / `source_grid`, `feature_sharing_index`; then `mu_transform.*` (shared grid from
 * another readout, or the predictor). Sharing indices are int64 in the state dict, as in PyTorch.
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
  /** `_mu`: the mean locations, (x, y) in [-1, 1] (one per distinct id with a shared grid; none when predicted). */
  readonly mu: tf.Variable | undefined;
  readonly sigma: tf.Variable;
  /** `_features [1, c, 1, N]`, or one column per distinct id with shared features (OpenRetina's `shared_features`). */
  readonly features: tf.Variable;
  /** Per-neuron scales of shared features `[1, 1, 1, N]`. */
  readonly scales: tf.Variable | undefined;
  readonly bias: tf.Variable | undefined;
  /** False when the features are another readout's (its L1 is counted there). */
  readonly ownsFeatures: boolean;
  private readonly featureIndex: tf.Variable | undefined;
  private readonly gridSource: GridSource;
  private readonly rng: Rng;

  constructor(options: PointGaussianReadoutOptions) {
    super();
    const muRange = options.initMuRange ?? 0.1;
    const sigmaRange = options.initSigmaRange ?? 0.15;
    if (!(muRange > 0 && muRange <= 1) || !(sigmaRange > 0)) {
      throw new ConfigError(`PointGaussianReadout needs 0 < initMuRange ≤ 1 and initSigmaRange > 0, got ${muRange} and ${sigmaRange}.`);
    }
    const gaussType = options.gaussType ?? 'full';
    const sigmaShape = SIGMA_SHAPES[gaussType];
    if (!sigmaShape) throw new ConfigError(`Unknown gaussType "${String(gaussType)}": expected full, uncorrelated or isotropic.`);
    const predictor = options.gridMeanPredictor ?? null;
    const sharedGrid = options.sharedGrid ?? null;
    if (predictor && sharedGrid) {
      throw new ConfigError('PointGaussianReadout: gridMeanPredictor and sharedGrid cannot both be set (as in OpenRetina).');
    }
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
    this.rng = this.registerRng('sample', toRng(options.seed));
    try {
      // PyTorch's registration order: the grid (_mu / mu_transform / its buffer), sigma, the features, bias.
      if (predictor) {
        const grid = normalizedSourceGrid(options.sourceGrid, n);
        this.mu = undefined;
        this.gridSource = {
          kind: 'predicted',
          predictor: this.registerModule('mu_transform', new GridMeanPredictor(grid.shape[1], predictor, this.rng)),
          sourceGrid: this.registerBuffer('source_grid', grid),
        };
      } else if (sharedGrid) {
        const { index, entries } = sharingIndex(sharedGrid.matchIds, n, 'PointGaussianReadout sharedGrid');
        const given = sharedGrid.sharedGrid ?? null;
        let transform: Linear | undefined;
        if (given) {
          // Another readout's locations, as they are (OpenRetina re-initialises the shared variable here).
          checkShape(given, [1, entries, 1, 2], 'sharedGrid.sharedGrid');
          this.mu = this.registerSharedParameter('_mu', given);
          const linear = this.registerModule('mu_transform', new Linear(2, 2, { rng: this.rng }));
          tf.tidy(() => linear.reset(tf.eye(2), tf.zeros([2])));
          transform = linear;
        } else {
          this.mu = this.registerParameter('_mu', this.rng.rand([1, entries, 1, 2], -muRange, muRange));
        }
        const gridIndex = this.registerBuffer('grid_sharing_index', tf.tensor1d(index, 'int32'), { stateDtype: 'int64' });
        this.gridSource = { kind: 'shared', index: gridIndex, transform };
      } else {
        this.mu = this.registerParameter('_mu', this.rng.rand([1, n, 1, 2], -muRange, muRange));
        this.gridSource = { kind: 'own' };
      }
      this.sigma = this.registerParameter(
        'sigma',
        gaussType === 'full' ? this.rng.rand([1, n, ...sigmaShape], -sigmaRange, sigmaRange) : tf.fill([1, n, ...sigmaShape], sigmaRange),
      );
      const sharedFeatures = options.sharedFeatures ?? null;
      if (sharedFeatures) {
        const { index, entries } = sharingIndex(sharedFeatures.matchIds, n, 'PointGaussianReadout sharedFeatures');
        const given = sharedFeatures.sharedFeatures ?? null;
        // Another readout's features, as they are (OpenRetina refills the shared variable with 1/c here).
        if (given) checkShape(given, [1, c, 1, entries], 'sharedFeatures.sharedFeatures');
        this.features = given
          ? this.registerSharedParameter('_features', given)
          : this.registerParameter('_features', tf.fill([1, c, 1, entries], 1 / c));
        this.ownsFeatures = !given;
        this.scales = this.registerParameter('scales', tf.ones([1, 1, 1, n]));
        this.featureIndex = this.registerBuffer('feature_sharing_index', tf.tensor1d(index, 'int32'), { stateDtype: 'int64' });
      } else {
        this.features = this.registerParameter('_features', tf.fill([1, c, 1, n], 1 / c));
        this.ownsFeatures = true;
        this.scales = undefined;
        this.featureIndex = undefined;
      }
      this.bias = (options.bias ?? true) ? this.registerParameter('bias', tf.zeros([n])) : undefined;
      this.initializeBias(options.meanActivity);
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  protected get biasVariable(): tf.Variable | undefined {
    return this.bias;
  }

  /**
   * Clamps `_mu` to [-1, 1] in place, as OpenRetina does before every grid sampling. Only own, unshared locations
   * are clamped: with a shared or predicted grid OpenRetina clamps a computed copy, which changes nothing.
   */
  clampMu(): void {
    const mu = this.mu;
    if (this.gridSource.kind === 'own' && mu) tf.tidy(() => mu.assign(tf.clipByValue(mu, -1, 1)));
  }

  /** The mean locations `[1, N, 1, 2]` before the clamp (OpenRetina's `mu` property); a new tensor. */
  meanLocations(): tf.Tensor4D {
    return tf.tidy(() => {
      const n = this.outDims;
      const source = this.gridSource;
      if (source.kind === 'predicted') return tf.reshape(source.predictor.forward(source.sourceGrid as tf.Tensor2D), [1, n, 1, 2]);
      const mu = this.mu!;
      if (source.kind === 'own') return tf.clone(mu) as tf.Tensor4D;
      let rows: tf.Tensor2D = tf.reshape(mu, [mu.shape[1]!, 2]);
      if (source.transform) rows = source.transform.forward(rows) as tf.Tensor2D;
      return tf.reshape(tf.matMul(oneHot(source.index, rows.shape[0]), rows), [1, n, 1, 2]);
    });
  }

  /** The features each neuron weights the channels with, `[1, c, 1, N]` (OpenRetina's `features` property); a new tensor. */
  readoutFeatures(): tf.Tensor4D {
    return tf.tidy(() => {
      if (!this.featureIndex || !this.scales) return tf.clone(this.features) as tf.Tensor4D;
      const [, c, , entries] = this.features.shape as [number, number, number, number];
      const perNeuron = tf.matMul(tf.reshape(this.features, [c, entries]), oneHot(this.featureIndex, entries), false, true);
      return tf.mul(this.scales, tf.reshape(perNeuron, [1, c, 1, this.outDims])) as tf.Tensor4D;
    });
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
      return tf.clipByValue(tf.add(offset, this.meanLocations()), -1, 1) as tf.Tensor4D;
    });
  }

  /** The mean locations `[1, N, 1, 2]` (OpenRetina's `grid` property). */
  get grid(): tf.Tensor4D {
    return this.sampleGrid(1, { sample: false });
  }

  /** `Σ std_n(_mu)` (unbiased, over the rows of `_mu`), OpenRetina's `mu_dispersion` (not part of the regularizer). */
  muDispersion(): tf.Scalar {
    const mu = this.mu;
    if (!mu) {
      throw new UnsupportedError(
        'PointGaussianReadout.muDispersion needs _mu, which a grid-mean predictor replaces (OpenRetina fails there too).',
      );
    }
    return tf.tidy(() => {
      const rows = mu.shape[1]!;
      const m = tf.reshape(mu, [rows, 2]);
      const mean = tf.mean(m, 0, true);
      const variance = tf.div(tf.sum(tf.square(tf.sub(m, mean)), 0), rows - 1);
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
    const shift = options.shift;
    if (shift && (shift.size !== m * 2 || shift.shape[shift.rank - 1] !== 2)) {
      throw new ShapeError(
        `PointGaussianReadout shift must be one (x, y) per flattened element, [${m}, 2], got ${formatShape(shift.shape)}.`,
      );
    }
    const sample = options.sample ?? this.training;
    const drawn = this.batchSample && sample;
    // A shift moves each element's locations: then every element needs its own sampling matrix.
    const perElement = drawn || shift !== undefined;
    const grid = this.sampleGrid(drawn ? m : 1, { ...options, sample });
    const out = tf.tidy(() => {
      const feat = tf.reshape(this.readoutFeatures(), [c, n]);
      let locations: tf.Tensor = tf.reshape(grid, [drawn ? m : 1, n, 2]);
      if (shift) locations = tf.add(drawn ? locations : tf.tile(locations, [m, 1, 1]), tf.reshape(shift, [m, 1, 2]));
      const s = bilinearSamplingMatrix(locations, h, w, this.alignCorners);
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

  /** `apply_reduction(|features|)` of the features this readout owns; 0 when they are another readout's. */
  featureL1(reduction: 'sum' | 'mean' = 'sum'): tf.Scalar {
    return tf.tidy(() => (this.ownsFeatures ? reduceBy(torchAbs(this.readoutFeatures()), reduction) : tf.scalar(0)));
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

/** `source_grid` centred per column and divided by its largest |value|, as OpenRetina's `init_grid_predictor`. */
function normalizedSourceGrid(sourceGrid: readonly (readonly number[])[] | null | undefined, neurons: number): tf.Tensor2D {
  const d = sourceGrid?.[0]?.length ?? 0;
  if (
    !sourceGrid ||
    sourceGrid.length !== neurons ||
    d < 1 ||
    sourceGrid.some((row) => row.length !== d || row.some((v) => !Number.isFinite(v)))
  ) {
    throw new ConfigError(
      `PointGaussianReadout with a gridMeanPredictor needs sourceGrid: ${neurons} rows of d ≥ 1 finite coordinates (one per neuron), got ${sourceGrid ? `${sourceGrid.length} rows` : 'none'}.`,
    );
  }
  const centred = sourceGrid.map((row) => [...row]);
  for (let j = 0; j < d; j++) {
    const mean = centred.reduce((a, row) => a + row[j]!, 0) / neurons;
    for (const row of centred) row[j] = row[j]! - mean;
  }
  const max = Math.max(...centred.flat().map(Math.abs));
  if (!(max > 0)) throw new ConfigError('PointGaussianReadout sourceGrid: every row is the same point, so it cannot be scaled to [-1, 1].');
  return tf.tensor2d(
    Float32Array.from(centred.flat(), (v) => v / max),
    [neurons, d],
  );
}

/**
 * `[N, entries]` rows selecting each neuron's shared entry: indexing as a matrix product, whose gradient every
 * backend has (a gather's gradient needs UnsortedSegmentSum, which the wasm backend lacks).
 */
function oneHot(index: tf.Tensor, entries: number): tf.Tensor2D {
  return tf.cast(tf.oneHot(index as tf.Tensor1D, entries), 'float32') as tf.Tensor2D;
}

function checkShape(v: tf.Variable, shape: readonly number[], what: string): void {
  if (v.rank !== shape.length || v.shape.some((s, i) => s !== shape[i])) {
    throw new ConfigError(`PointGaussianReadout ${what} must have shape ${formatShape(shape)}, got ${formatShape(v.shape)}.`);
  }
}
