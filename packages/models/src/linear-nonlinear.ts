import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  SPECIFICATION_VERSION,
  ShapeError,
  formatShape,
  type LossParts,
  type StimulusSpec,
  type TrainableModel,
} from '@openretina/contracts';
import {
  GaussianLaplaceL2,
  LaplaceL2norm,
  Module,
  ParametrizedSoftplus,
  TimeLaplaceL23dnorm,
  clipCorrelations,
  poissonLoss,
  toRng,
  torchAbs,
  torchSoftplus,
  xavierNormal,
  type Rng,
} from '@openretina/layers';

/** Output nonlinearities of the LN models: OpenRetina's `parametrized_softplus` or a `torch.nn.functional` name. */
export type LnNonlinearity = 'parametrized_softplus' | 'softplus' | 'relu' | 'elu' | 'sigmoid' | 'tanh' | 'selu' | 'exp';

const FUNCTIONAL: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  softplus: (x) => torchSoftplus(x),
  relu: (x) => tf.relu(x),
  elu: (x) => tf.elu(x),
  sigmoid: (x) => tf.sigmoid(x),
  tanh: (x) => tf.tanh(x),
  selu: (x) => tf.selu(x),
  exp: (x) => tf.exp(x),
};

export interface SingleCellSeparatedLNPOptions {
  /** Stimulus `[C, T, H, W]` (OpenRetina's `in_shape`); the temporal filter spans all `T` frames. */
  inShape: readonly [number, number, number, number];
  /** `[y, x]` centre of the crop when the kernel is smaller than the stimulus; default `[H // 2, W // 2]`. */
  rfLocation?: readonly [number, number] | null;
  /** `[h, w]` of the spatial kernel (and of the crop); default `[15, 15]`. */
  spatKernelSize?: readonly [number, number];
  learningRate?: number;
  /** Number of space/time filter pairs (default 1). */
  rank?: number;
  smoothWeightSpat?: number;
  smoothWeightTemp?: number;
  sparseWeight?: number;
  /** `LaplaceL2norm` (default) or `GaussianLaplaceL2`. */
  smoothRegularizerSpat?: 'LaplaceL2norm' | 'GaussianLaplaceL2';
  /** `TimeLaplaceL23dnorm` (default; the only one OpenRetina can apply to the 5-D time kernel). */
  smoothRegularizerTemp?: 'TimeLaplaceL23dnorm';
  laplacePadding?: number | null;
  nonlinearity?: LnNonlinearity;
  /** Divide each kernel by its L2 norm (in place) before every forward (default true). */
  normalizeWeights?: boolean;
  /** Session name reported by the ResponseModel interface (the model ignores sessions). */
  session?: string;
  seed?: number | Rng;
}

/**
 * OpenRetina's `SingleCellSeparatedLNP` (one neuron): a space-time separable linear filter, rank `R` —
 * `space_conv` `(1, kh, kw)` from C to R channels, `time_conv` `(T, 1, 1)` over the whole input window from R to
 * 1 — and a static nonlinearity. Channels-last: `[B, T', kh, kw, C]` → `[B, T' − T + 1, 1]`.
 *
 * State dict (PyTorch order): `_smooth_reg_fn_spat.laplace.filter`, `_smooth_reg_fn_temp.laplace.filter`,
 * [`nonlinearity.b`, `nonlinearity.w`], `space_conv.weight [R, C, 1, kh, kw]`, `time_conv.weight [1, R, T, 1, 1]`.
 *
 * As in OpenRetina, `normalizeWeights` rescales the weights in place (outside the gradient) at every forward.
 * OpenRetina crops the stimulus in its training step, not in `forward`; here `forward` also accepts the full
 * `[H, W]` stimulus and crops it (`cropInput`) when the kernel is smaller.
 */
export class SingleCellSeparatedLNP extends Module implements TrainableModel {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly inShape: readonly [number, number, number, number];
  readonly kernelSize: readonly [number, number];
  readonly location: readonly [number, number];
  readonly crop: boolean;
  readonly rank: number;
  readonly learningRate: number;
  readonly smoothWeightSpat: number;
  readonly smoothWeightTemp: number;
  readonly sparseWeight: number;
  readonly normalizeWeights: boolean;
  readonly session: string;
  readonly spaceWeight: tf.Variable;
  readonly timeWeight: tf.Variable;
  readonly nonlinearityModule: ParametrizedSoftplus | undefined;
  private readonly nonlinearity: (x: tf.Tensor) => tf.Tensor;
  private readonly spatRegularizer: LaplaceL2norm | GaussianLaplaceL2;
  private readonly tempRegularizer: TimeLaplaceL23dnorm;

  constructor(options: SingleCellSeparatedLNPOptions) {
    super();
    const [C, T, H, W] = options.inShape;
    const rng = toRng(options.seed);
    this.inShape = options.inShape;
    this.kernelSize = options.spatKernelSize ?? [15, 15];
    const [kh, kw] = this.kernelSize;
    this.crop = W !== kw || H !== kh;
    this.location = options.rfLocation ?? [Math.floor(H / 2), Math.floor(W / 2)];
    this.rank = options.rank ?? 1;
    this.learningRate = options.learningRate ?? 1e-3;
    this.smoothWeightSpat = options.smoothWeightSpat ?? 0;
    this.smoothWeightTemp = options.smoothWeightTemp ?? 0;
    this.sparseWeight = options.sparseWeight ?? 0;
    this.normalizeWeights = options.normalizeWeights ?? true;
    this.session = options.session ?? 'default';
    const padding = options.laplacePadding ?? null;
    const spatName = options.smoothRegularizerSpat ?? 'LaplaceL2norm';
    if (spatName === 'GaussianLaplaceL2') {
      this.spatRegularizer = this.registerModule('_smooth_reg_fn_spat', new GaussianLaplaceL2([kh, kw], { padding }));
    } else if (spatName === 'LaplaceL2norm') {
      this.spatRegularizer = this.registerModule('_smooth_reg_fn_spat', new LaplaceL2norm({ padding }));
    } else {
      throw new ConfigError(`smooth_regularizer_spat must be "LaplaceL2norm" or "GaussianLaplaceL2", got "${String(spatName)}".`);
    }
    const tempName = options.smoothRegularizerTemp ?? 'TimeLaplaceL23dnorm';
    if (tempName !== 'TimeLaplaceL23dnorm') {
      throw new ConfigError(`smooth_regularizer_temp must be "TimeLaplaceL23dnorm", got "${String(tempName)}".`);
    }
    this.tempRegularizer = this.registerModule('_smooth_reg_fn_temp', new TimeLaplaceL23dnorm({ padding }));
    const nl = options.nonlinearity ?? 'parametrized_softplus';
    if (nl === 'parametrized_softplus') {
      const m = this.registerModule('nonlinearity', new ParametrizedSoftplus());
      this.nonlinearityModule = m;
      this.nonlinearity = (x) => m.forward(x);
    } else {
      const fn = FUNCTIONAL[nl];
      if (!fn)
        throw new ConfigError(
          `Unknown nonlinearity "${nl}". Expected parametrized_softplus or one of ${Object.keys(FUNCTIONAL).join(', ')}.`,
        );
      this.nonlinearity = fn;
    }
    const spaceConv = this.registerModule('space_conv', new WeightHolder(xavierNormal(rng, [this.rank, C, 1, kh, kw])));
    const timeConv = this.registerModule('time_conv', new WeightHolder(xavierNormal(rng, [1, this.rank, T, 1, 1])));
    this.spaceWeight = spaceConv.weight;
    this.timeWeight = timeConv.weight;
  }

  get sessions(): readonly string[] {
    return [this.session];
  }

  get neuronsPerSession(): Record<string, number> {
    return { [this.session]: 1 };
  }

  /** The full stimulus the model was configured for. */
  get stimulus(): StimulusSpec {
    return { channels: this.inShape[0], height: this.inShape[2], width: this.inShape[3] };
  }

  get framesCut(): number {
    return this.inShape[1] - 1;
  }

  stimulusShape(frames: number, batch = 1): [number, number, number, number, number] {
    return [batch, frames, this.inShape[2], this.inShape[3], this.inShape[0]];
  }

  /** The boundary-safe crop of `spatKernelSize` around `rfLocation` (OpenRetina's `crop_input`), channels-last. */
  cropInput(x: tf.Tensor5D): tf.Tensor5D {
    const [y0, x0, h, w] = this.cropWindow(x.shape[2], x.shape[3]);
    return tf.slice(x, [0, 0, y0, x0, 0], [-1, -1, h, w, -1]);
  }

  /** `[top, left, height, width]` of the crop in an `h × w` stimulus. */
  private cropWindow(h: number, w: number): [number, number, number, number] {
    const [ly, lx] = this.location;
    const [kh, kw] = this.kernelSize;
    const y0 = ly - Math.min(Math.floor(kh / 2), ly);
    const y1 = ly + Math.min(Math.floor(kh / 2) + (kh % 2), h - ly);
    const x0 = lx - Math.min(Math.floor(kw / 2), lx);
    const x1 = lx + Math.min(Math.floor(kw / 2) + (kw % 2), w - lx);
    return [y0, x0, Math.max(0, y1 - y0), Math.max(0, x1 - x0)];
  }

  /** Divides each kernel by its L2 norm, in place (OpenRetina's `normalize_kernels`). */
  normalizeKernels(): void {
    tf.tidy(() => {
      this.spaceWeight.assign(tf.div(this.spaceWeight, tf.norm(this.spaceWeight)));
      this.timeWeight.assign(tf.div(this.timeWeight, tf.norm(this.timeWeight)));
    });
  }

  /** `[B, T', kh, kw, C]` (or the full `[B, T', H, W, C]` stimulus, cropped first) → `[B, T' − T + 1, 1]`. */
  forward(x: tf.Tensor5D, _options: { session?: string } = {}): tf.Tensor3D {
    const [C, T, H, W] = this.inShape;
    const [kh, kw] = this.kernelSize;
    if (x.rank !== 5 || x.shape[4] !== C) {
      throw new ShapeError(`SingleCellSeparatedLNP expects [batch, time, ${kh}, ${kw}, ${C}], got ${formatShape(x.shape)}.`);
    }
    const full = this.crop && x.shape[2] === H && x.shape[3] === W;
    if (!full && (x.shape[2] !== kh || x.shape[3] !== kw)) {
      throw new ShapeError(
        `SingleCellSeparatedLNP expects a ${kh}×${kw} stimulus (or the full ${H}×${W} one, cropped around the RF), got ${formatShape(x.shape)}.`,
      );
    }
    if (x.shape[1] < T) throw new ShapeError(`SingleCellSeparatedLNP needs at least ${T} frames, got ${formatShape(x.shape)}.`);
    if (full) {
      const [, , ch, cw] = this.cropWindow(H, W);
      if (ch !== kh || cw !== kw) {
        throw new ShapeError(
          `The crop around the RF location [${this.location.join(', ')}] is clipped to ${ch}×${cw} at the stimulus border; the kernel needs ${kh}×${kw}.`,
        );
      }
    }
    if (this.normalizeWeights) this.normalizeKernels();
    return tf.tidy(() => {
      const xc = full ? this.cropInput(x) : x;
      const [B, Tin] = xc.shape;
      const R = this.rank;
      const fs = tf.transpose(tf.reshape(this.spaceWeight, [R, C, kh, kw]), [2, 3, 1, 0]) as tf.Tensor4D;
      const s = tf.conv2d(tf.reshape(xc, [B * Tin, kh, kw, C]) as tf.Tensor4D, fs, 1, 'valid'); // [B·T, 1, 1, R]
      const ft = tf.reshape(tf.transpose(tf.reshape(this.timeWeight, [R, T])), [T, 1, R, 1]) as tf.Tensor4D;
      const t = tf.conv2d(tf.reshape(s, [B, Tin, 1, R]) as tf.Tensor4D, ft, 1, 'valid'); // [B, T', 1, 1]
      return tf.reshape(this.nonlinearity(t), [B, Tin - T + 1, 1]) as tf.Tensor3D;
    });
  }

  async predict(x: tf.Tensor5D, options: { session?: string } = {}): Promise<tf.Tensor3D> {
    return this.forward(x, options);
  }

  /** `smooth_spat·spatial Laplace + smooth_temp·temporal Laplace` of the kernels (always both computed). */
  laplace(): tf.Scalar {
    return tf.tidy(() => {
      const [R, C, , kh, kw] = this.spaceWeight.shape as number[];
      const spat = this.spatRegularizer.forward(tf.reshape(this.spaceWeight, [R!, C!, kh!, kw!]));
      const temp = this.tempRegularizer.forward(this.timeWeight);
      return tf.add(tf.mul(spat, this.smoothWeightSpat), tf.mul(temp, this.smoothWeightTemp)) as tf.Scalar;
    });
  }

  /** L1 of both kernels: means (default) or sums of |w|. */
  weightsL1(average = true): tf.Scalar {
    return tf.tidy(() => {
      const agg = (t: tf.Tensor): tf.Scalar => (average ? tf.mean(torchAbs(t)) : tf.sum(torchAbs(t)));
      return tf.add(agg(this.spaceWeight), agg(this.timeWeight)) as tf.Scalar;
    });
  }

  /** `laplace() + sparse_weight · weightsL1()`. */
  regularizer(): tf.Scalar {
    return tf.tidy(() => tf.add(this.laplace(), tf.mul(this.weightsL1(), this.sparseWeight)) as tf.Scalar);
  }

  /** Every trainable parameter (the model has one neuron and ignores sessions). */
  parametersForSession(_session?: string): Map<string, tf.Variable> {
    return this.trainableParameters();
  }

  /** The Poisson loss (sum) of an output against targets, aligned on the last frames. */
  dataLoss(output: tf.Tensor3D, targets: tf.Tensor3D, _session?: string): tf.Scalar {
    return poissonLoss(output, targets) as tf.Scalar;
  }

  /** `{ core: regularizer() }`: OpenRetina logs this model's penalty as `regularization_loss_core`. */
  regularizers(_session?: string): { core: tf.Scalar } {
    return { core: this.regularizer() };
  }

  /**
   * The training objective of one batch (OpenRetina's `training_step`): the stimulus is cropped if needed, then
   * Poisson loss (sum, aligned on the last frames) + regularizer.
   */
  loss(inputs: tf.Tensor5D, targets: tf.Tensor3D, _session?: string): LossParts & { regularizers: { core: tf.Scalar } } {
    return tf.tidy(() => {
      const data = this.dataLoss(this.forward(inputs), targets);
      const regularizers = this.regularizers();
      return { total: tf.add(data, regularizers.core) as tf.Scalar, data, regularizers };
    });
  }

  /** Mean correlation of an output with the targets (OpenRetina's evaluation metric, `CorrelationLoss3d(avg=True)` not negated). */
  evaluationLoss(output: tf.Tensor3D, targets: tf.Tensor3D, _session?: string): tf.Scalar {
    return tf.tidy(() => tf.mean(clipCorrelations(output, targets)) as tf.Scalar);
  }

  /** {@link evaluationLoss} of the model's output on `inputs`. */
  evaluationMetric(inputs: tf.Tensor5D, targets: tf.Tensor3D): tf.Scalar {
    return tf.tidy(() => this.evaluationLoss(this.forward(inputs), targets));
  }
}

/** A bias-free PyTorch `nn.Conv3d` seen from the state dict: only `weight`. */
class WeightHolder extends Module {
  readonly weight: tf.Variable;
  constructor(initial: tf.Tensor) {
    super();
    this.weight = this.registerParameter('weight', initial);
  }
}
