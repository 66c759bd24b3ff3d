import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  SPECIFICATION_VERSION,
  ShapeError,
  UnknownSessionError,
  UnsupportedError,
  formatShape,
  type Core,
  type DataInfo,
} from '@openretina/contracts';
import {
  BatchNorm3d,
  Bias3d,
  FlatLaplaceL23dnorm,
  Module,
  Scale3d,
  TimeLaplaceL23dnorm,
  createConvolution,
  groupSparsity,
  temporalBasis,
  temporalSmoothing,
  toRng,
  torchAbs,
  torchSoftplus,
  type Padding3d,
  type Rng,
  type SpaceTimeConv,
} from '@openretina/layers';
import { MultiReadoutBase, ReadoutBase, makeMaskGrid, reduceBy, type ReadoutInShape } from '@openretina/readout';
import { CoreReadout } from './core-readout.js';

/*
 * The original Höfling et al. 2024 model as trained with nnfabrik (OpenRetina's `openretina/legacy/models.py`):
 * `ParametricFactorizedBatchConv3dCore` + `SpatialXFeature3dReadout` behind the `LocalEncoder` wrapper, built by
 * `SFB3d_core_SxF3d_readout`. Needed to load the published GIN ensemble (`state_dict_<seed>.pth.tar`), so every
 * parameter keeps its PyTorch name, shape and registration order.
 */

type Shape4 = [number, number, number, number];
type TapFn = (name: string, t: tf.Tensor5D) => void;

/** `torch.nn` activations by class name (the builder's `nonlinearity` option). */
const ACTIVATIONS: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  ELU: (x) => tf.elu(x),
  ReLU: (x) => tf.relu(x),
  ReLU6: (x) => tf.relu6(x),
  LeakyReLU: (x) => tf.leakyRelu(x, 0.01),
  SELU: (x) => tf.selu(x),
  Softplus: (x) => torchSoftplus(x),
  Sigmoid: (x) => tf.sigmoid(x),
  Tanh: (x) => tf.tanh(x),
  SiLU: (x) => tf.mul(x, tf.sigmoid(x)),
  Identity: (x) => tf.clone(x),
};

/**
 * PyTorch's `Scale2DLayer` (`scale [1, C, 1, 1]`) applied, as the legacy core does for hidden layers with
 * `bias = False, batch_norm_scale = True`, to 5-D video `(N, C, T, H, W)`: broadcasting aligns the trailing axes, so
 * the C scales multiply the **time** axis (PyTorch raises unless T equals C or C is 1). Reproduced as is.
 */
export class LegacyScale2d extends Module {
  readonly scale: tf.Variable;
  constructor(readonly channels: number) {
    super();
    this.scale = this.registerParameter('scale', tf.ones([1, channels, 1, 1]));
  }
  forward(x: tf.Tensor5D): tf.Tensor5D {
    const t = x.shape[1];
    if (this.channels !== 1 && t !== this.channels) {
      throw new ShapeError(
        `Scale2DLayer(${this.channels}) on 5-D video broadcasts over the time axis (as in PyTorch): it needs ${this.channels} frames, got ${formatShape(x.shape)}.`,
      );
    }
    return tf.tidy(() => tf.mul(x, tf.reshape(this.scale, [1, this.channels, 1, 1, 1])) as tf.Tensor5D);
  }
}

/** One `features.layer<i>` block of the legacy core: conv → [BatchNorm3d] → [Bias3d | Scale3d | Scale2d] → [nonlinearity]. */
export class LegacyCoreLayer extends Module {
  readonly conv: SpaceTimeConv;
  readonly norm: BatchNorm3d | undefined;
  readonly bias: Bias3d | undefined;
  readonly scale: Scale3d | LegacyScale2d | undefined;
  readonly nonlinearity: ((x: tf.Tensor) => tf.Tensor) | undefined;

  constructor(
    conv: SpaceTimeConv,
    options: {
      batchNorm: boolean;
      bias: boolean;
      batchNormScale: boolean;
      momentum: number;
      /** Hidden layers use PyTorch's Scale2DLayer (see {@link LegacyScale2d}), the first layer Scale3DLayer. */
      hidden: boolean;
      nonlinearity?: ((x: tf.Tensor) => tf.Tensor) | undefined;
    },
  ) {
    super();
    const c = conv.outChannels;
    this.conv = this.registerModule('conv', conv);
    if (options.batchNorm) {
      this.norm = this.registerModule(
        'norm',
        new BatchNorm3d(c, { momentum: options.momentum, affine: options.bias && options.batchNormScale }),
      );
      if (options.bias && !options.batchNormScale) this.bias = this.registerModule('bias', new Bias3d(c));
      if (!options.bias && options.batchNormScale)
        this.scale = this.registerModule('scale', options.hidden ? new LegacyScale2d(c) : new Scale3d(c));
    }
    this.nonlinearity = options.nonlinearity;
  }

  outputShape(input: readonly [number, number, number, number]): Shape4 {
    return this.conv.outputShape(input);
  }

  forward(x: tf.Tensor5D, options: { session?: string; tap?: TapFn } = {}): tf.Tensor5D {
    return tf.tidy(() => {
      const tap = options.tap;
      let y = this.conv.forward(x, options.session === undefined ? {} : { session: options.session });
      tap?.('conv', y);
      if (this.norm) {
        y = this.norm.forward(y);
        tap?.('norm', y);
      }
      if (this.bias) {
        y = this.bias.forward(y);
        tap?.('bias', y);
      }
      if (this.scale) {
        y = this.scale.forward(y);
        tap?.('scale', y);
      }
      if (this.nonlinearity) {
        y = this.nonlinearity(y) as tf.Tensor5D;
        tap?.('nonlin', y);
      }
      return y;
    });
  }
}

class LegacyFeatures extends Module {
  readonly layers: LegacyCoreLayer[] = [];
  add(name: string, layer: LegacyCoreLayer): void {
    this.layers.push(this.registerModule(name, layer));
  }
}

/** Options of {@link ParametricFactorizedBatchConv3dCore} (OpenRetina's constructor arguments, camelCase). */
export interface ParametricFactorizedBatchConv3dCoreOptions {
  /** Sessions (only the keys are used: one `log_speed_<session>` each, always — trainable with `batchAdaptation`). */
  nNeuronsDict: Readonly<Record<string, number>>;
  inputChannels?: number;
  hiddenChannels?: number | readonly number[];
  temporalKernelSize?: number | readonly number[];
  /** A list (the padding is computed from it before a number would be expanded, so a number only works with one layer). */
  spatialKernelSize?: number | readonly number[];
  layers?: number;
  gammaHidden?: number;
  gammaInput?: number;
  gammaInSparse?: number;
  gammaTemporal?: number;
  finalNonlinearity?: boolean;
  bias?: boolean;
  momentum?: number;
  inputPadding?: boolean;
  hiddenPadding?: boolean;
  batchNorm?: boolean;
  batchNormScale?: boolean;
  laplacePadding?: number | null;
  /** Layers whose outputs are concatenated along channels: `null` (all), an index (negative from the end) or a list. */
  stack?: number | readonly number[] | null;
  batchAdaptation?: boolean;
  useAvgReg?: boolean;
  /** A `torch.nn` class name (default ELU). */
  nonlinearity?: string;
  /** `custom_separable` (default), `separable`, `full`, `time_independent`. */
  convType?: string;
  seed?: number | Rng;
}

function perLayer(v: number | readonly number[] | undefined, fallback: readonly number[], layers: number, what: string): number[] {
  const list = v === undefined ? [...fallback] : typeof v === 'number' ? new Array<number>(layers).fill(v) : [...v];
  if (list.length < layers) throw new ConfigError(`${layers} layers need ${layers} ${what}, got ${JSON.stringify(v)}.`);
  return list;
}

/**
 * OpenRetina's legacy `ParametricFactorizedBatchConv3dCore` (Höfling 2024, nnfabrik): space-time separable conv
 * blocks whose convolutions share one learnable `log_speed_<session>` per session (batch adaptation), and whose
 * output is the channel concatenation of the `stack` layers. Channels-last: `[B, T, H, W, C]` in, `[B, T', H', W',
 * Σ stacked channels]` out.
 *
 * State dict (PyTorch order): `log_speed_<s>`… (always present, trainable only with `batchAdaptation`),
 * `_input_weights_regularizer_spatial.laplace.filter`, `_input_weights_regularizer_temporal.laplace.filter`,
 * `features.layer<i>.conv.{sin_weights, cos_weights, weight_spatial, log_speed_<s>…, _log_speed_default}`,
 * `features.layer<i>.norm.{[weight, bias], running_mean, running_var, num_batches_tracked}`, then
 * `features.layer<i>.bias.bias` or `.scale.scale` (see below).
 *
 * As in PyTorch: BatchNorm is affine only with `bias && batchNormScale`; `bias && !batchNormScale` adds a Bias3d,
 * `!bias && batchNormScale` a Scale3d (layer 0) or PyTorch's Scale2DLayer (hidden layers, which scales the time
 * axis; see {@link LegacyScale2d}); hidden layer n is padded by `spatialKernelSize[n] // 2` when `hiddenPadding`;
 * the regularizer is 0 unless the convolution is `custom_separable`, and its group sparsity covers layers 1…L−1
 * with the 1e-8.
 */
export class ParametricFactorizedBatchConv3dCore extends Module implements Core {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly sessions: readonly string[];
  readonly inChannels: number;
  readonly hiddenChannels: readonly number[];
  readonly nLayers: number;
  /** Resolved (non-negative) indices of the stacked layers. */
  readonly stack: readonly number[];
  readonly convType: string;
  readonly batchAdaptation: boolean;
  readonly gammaHidden: number;
  readonly gammaInput: number;
  readonly gammaInSparse: number;
  readonly gammaTemporal: number;
  readonly useAvgReg: boolean;
  readonly features: LegacyFeatures;
  private readonly spatialRegularizer: FlatLaplaceL23dnorm;
  private readonly logSpeeds = new Map<string, tf.Variable>();

  constructor(options: ParametricFactorizedBatchConv3dCoreOptions) {
    super();
    const L = options.layers ?? 1;
    if (!Number.isInteger(L) || L < 1) throw new ConfigError(`layers must be a positive integer, got ${JSON.stringify(options.layers)}.`);
    this.nLayers = L;
    const hidden = perLayer(options.hiddenChannels, [8], L, 'hidden channels');
    const kt = perLayer(options.temporalKernelSize, [21], L, 'temporal kernel sizes');
    const ksRaw = options.spatialKernelSize ?? [14];
    const ks = perLayer(ksRaw, [14], L, 'spatial kernel sizes');
    const nonlinName = options.nonlinearity ?? 'ELU';
    const nonlin = ACTIVATIONS[nonlinName];
    if (!nonlin) throw new ConfigError(`Unknown nonlinearity "${nonlinName}". Expected one of: ${Object.keys(ACTIVATIONS).join(', ')}.`);
    this.convType = options.convType ?? 'custom_separable';
    this.sessions = Object.keys(options.nNeuronsDict);
    this.inChannels = options.inputChannels ?? 2;
    this.hiddenChannels = hidden.slice(0, L);
    this.batchAdaptation = options.batchAdaptation ?? true;
    this.gammaHidden = options.gammaHidden ?? 0;
    this.gammaInput = options.gammaInput ?? 0;
    this.gammaInSparse = options.gammaInSparse ?? 0;
    this.gammaTemporal = options.gammaTemporal ?? 0;
    this.useAvgReg = options.useAvgReg ?? false;
    const rng = toRng(options.seed);

    this.spatialRegularizer = this.registerModule(
      '_input_weights_regularizer_spatial',
      new FlatLaplaceL23dnorm({ padding: options.laplacePadding ?? null }),
    );
    this.registerModule('_input_weights_regularizer_temporal', new TimeLaplaceL23dnorm({ padding: options.laplacePadding ?? null }));
    this.features = this.registerModule('features', new LegacyFeatures());
    const layerRange = Array.from({ length: L }, (_, i) => i);
    const stack = options.stack;
    const pick = (i: number): number => {
      const j = i < 0 ? L + i : i;
      if (!Number.isInteger(j) || j < 0 || j >= L) throw new ConfigError(`stack index ${i} is out of range for ${L} layers.`);
      return j;
    };
    this.stack = stack === undefined || stack === null ? layerRange : typeof stack === 'number' ? [pick(stack)] : stack.map(pick);
    for (const s of this.sessions) this.logSpeeds.set(s, this.registerParameter(`log_speed_${s}`, tf.zeros([1]), this.batchAdaptation));

    // Padding as OpenRetina computes it: from the spatial kernel list, before numbers are expanded per layer.
    const listLength = typeof ksRaw === 'number' ? 1 : ksRaw.length;
    const inputPad: Padding3d = options.inputPadding ? [0, Math.floor(ks[0]! / 2), Math.floor(ks[0]! / 2)] : 0;
    const hiddenPad: Padding3d[] = Array.from({ length: Math.max(0, listLength - 1) }, (_, x) =>
      (options.hiddenPadding ?? true) && listLength > 1 ? [0, Math.floor(ks[x + 1]! / 2), Math.floor(ks[x + 1]! / 2)] : 0,
    );

    const shared = new Map([...this.logSpeeds].map(([s, v]) => [`log_speed_${s}`, v]));
    const block = {
      batchNorm: options.batchNorm ?? true,
      bias: options.bias ?? true,
      batchNormScale: options.batchNormScale ?? true,
      momentum: options.momentum ?? 0.1,
    };
    const finalNonlin = options.finalNonlinearity ?? true;
    for (let n = 0; n < L; n++) {
      const padding = n === 0 ? inputPad : hiddenPad[n - 1];
      if (padding === undefined) {
        throw new ConfigError(`layer ${n} has no hidden padding: spatial_kernel_size must list ${L} sizes, got ${JSON.stringify(ksRaw)}.`);
      }
      const conv = Module.sharingParameters(shared, () =>
        createConvolution(this.convType, {
          inChannels: n === 0 ? this.inChannels : hidden[n - 1]!,
          outChannels: hidden[n]!,
          temporalKernelSize: kt[n]!,
          spatialKernelSize: ks[n]!,
          padding,
          bias: false,
          logSpeedSessions: this.sessions,
          seed: rng.fork(),
        }),
      );
      this.features.add(
        `layer${n}`,
        new LegacyCoreLayer(conv, { ...block, hidden: n > 0, nonlinearity: finalNonlin || n < L - 1 ? nonlin : undefined }),
      );
    }
  }

  /** Feature channels of the output: the sum over the stacked layers. */
  get outChannels(): number {
    return this.stack.reduce((a, i) => a + this.hiddenChannels[i]!, 0);
  }

  /** OpenRetina's `outchannels` property as written: `len(features) · hidden_channels[-1]`. */
  get outchannelsQuirk(): number {
    return this.nLayers * this.hiddenChannels[this.hiddenChannels.length - 1]!;
  }

  get framesCut(): number {
    const T = 10_000;
    return T - this.outputShape([T, 1000, 1000, this.inChannels])[0];
  }

  /** The per-session log-speed parameter. */
  logSpeed(session: string): tf.Variable {
    const v = this.logSpeeds.get(session);
    if (!v) throw new UnknownSessionError(session, [...this.sessions].sort());
    return v;
  }

  private layerShapes(input: readonly [number, number, number, number]): Shape4[] {
    const shapes: Shape4[] = [];
    let s: Shape4 = [input[0], input[1], input[2], input[3]];
    for (const layer of this.features.layers) {
      s = layer.outputShape(s);
      shapes.push(s);
    }
    return shapes;
  }

  outputShape(input: readonly [number, number, number, number]): Shape4 {
    const shapes = this.layerShapes(input);
    const picked = this.stack.map((i) => shapes[i]!);
    const [t, h, w] = picked[0]!;
    if (picked.some((p) => p[0] !== t || p[1] !== h || p[2] !== w)) {
      throw new ShapeError(
        `The stacked layers ${JSON.stringify(this.stack)} have different sizes ${picked.map((p) => formatShape(p.slice(0, 3))).join(', ')}: their outputs cannot be concatenated (as in PyTorch).`,
      );
    }
    return [t, h, w, this.outChannels];
  }

  /** `[B, T, H, W, C]` → the stacked layer outputs `[B, T', H', W', C']`; `session` selects the log-speed. */
  forward(x: tf.Tensor5D, options: { session?: string; tap?: TapFn } = {}): tf.Tensor5D {
    if (x.rank !== 5 || x.shape[4] !== this.inChannels) {
      throw new ShapeError(
        `${this.constructor.name} expects a stimulus [batch, time, height, width, ${this.inChannels}], got ${formatShape(x.shape)}.`,
      );
    }
    const [t, h, w] = this.layerShapes([x.shape[1], x.shape[2], x.shape[3], this.inChannels]).reduce<Shape4>(
      (min, s) => [Math.min(min[0], s[0]), Math.min(min[1], s[1]), Math.min(min[2], s[2]), s[3]],
      [Infinity, Infinity, Infinity, 0],
    );
    if (t < 1 || h < 1 || w < 1) {
      throw new ShapeError(`${this.constructor.name}: the input ${formatShape(x.shape)} is too small for the core's kernels.`);
    }
    this.outputShape([x.shape[1], x.shape[2], x.shape[3], this.inChannels]); // stack compatibility
    if (options.session !== undefined) this.logSpeed(options.session);
    return tf.tidy(() => {
      const outs: tf.Tensor5D[] = [];
      let y = x;
      this.features.layers.forEach((layer, i) => {
        const tap = options.tap;
        y = layer.forward(y, {
          ...(options.session === undefined ? {} : { session: options.session }),
          ...(tap ? { tap: (name: string, v: tf.Tensor5D) => tap(`layer${i}.${name}`, v) } : {}),
        });
        outs.push(y);
      });
      const picked = this.stack.map((i) => outs[i]!);
      return picked.length === 1 ? picked[0]! : (tf.concat(picked, -1) as tf.Tensor5D);
    });
  }

  private spatialWeight(n: number): tf.Tensor {
    const w = this.features.layers[n]?.conv.weightSpatial;
    if (!w) throw new ConfigError(`the "${this.convType}" convolution of layer ${n} has no spatial weight.`);
    return w;
  }

  /** Laplace smoothness of the first layer's spatial kernels (`avg = use_avg_reg`). */
  spatialLaplace(): tf.Scalar {
    return this.spatialRegularizer.forward(this.spatialWeight(0), this.useAvgReg);
  }

  /** Group sparsity of the spatial weights of layers 1…L−1 (with the 1e-8). */
  groupSparsity(): tf.Scalar {
    return tf.tidy(() => {
      let total: tf.Scalar = tf.scalar(0);
      for (let n = 1; n < this.nLayers; n++) total = tf.add(total, groupSparsity(this.spatialWeight(n), 1e-8));
      return total;
    });
  }

  /** Group sparsity of the full layer-0 kernel at log-speed 0 (subsampling factor 3). */
  groupSparsity0(): tf.Scalar {
    return tf.tidy(() => {
      const conv = this.features.layers[0]!.conv as SpaceTimeConv & {
        sinWeights?: tf.Tensor;
        cosWeights?: tf.Tensor;
        temporalKernelSize?: number;
      };
      if (!conv.sinWeights || !conv.cosWeights || conv.temporalKernelSize === undefined) {
        throw new ConfigError(`group_sparsity0 needs a custom_separable convolution, not "${this.convType}".`);
      }
      const [O, I, K] = conv.sinWeights.shape as [number, number, number];
      const L = conv.temporalKernelSize;
      const { sines, cosines } = temporalBasis(tf.zeros([1]), L, K);
      const wt = tf.add(
        tf.matMul(tf.reshape(conv.sinWeights, [O * I, K]), sines),
        tf.matMul(tf.reshape(conv.cosWeights, [O * I, K]), cosines),
      );
      const full = tf.mul(tf.reshape(wt, [O, I, L, 1]), tf.reshape(this.spatialWeight(0), [O, I, 1, -1]));
      return groupSparsity(full, 1e-8);
    });
  }

  /** Σ over layers of the sin/cos smoothness penalty. */
  temporalSmoothness(): tf.Scalar {
    return tf.tidy(() => {
      let total: tf.Scalar = tf.scalar(0);
      for (const layer of this.features.layers) {
        const conv = layer.conv as SpaceTimeConv & { sinWeights?: tf.Tensor; cosWeights?: tf.Tensor };
        if (!conv.sinWeights || !conv.cosWeights)
          throw new ConfigError(`temporal smoothness needs a custom_separable convolution, not "${this.convType}".`);
        total = tf.add(total, temporalSmoothing(conv.sinWeights, conv.cosWeights));
      }
      return total;
    });
  }

  /**
   * `γ_hidden·group_sparsity + γ_input·spatial_laplace + γ_temporal·temporal_smoothness + γ_in_sparse·group_sparsity0`
   * for `custom_separable` (terms with γ = 0 skipped), else 0.
   */
  regularizer(): tf.Scalar {
    return tf.tidy(() => {
      if (this.convType !== 'custom_separable') return tf.scalar(0);
      let reg: tf.Scalar = tf.scalar(0);
      const terms: [number, () => tf.Scalar][] = [
        [this.gammaHidden, () => this.groupSparsity()],
        [this.gammaInput, () => this.spatialLaplace()],
        [this.gammaTemporal, () => this.temporalSmoothness()],
        [this.gammaInSparse, () => this.groupSparsity0()],
      ];
      for (const [gamma, fn] of terms) if (gamma !== 0) reg = tf.add(reg, tf.mul(fn(), gamma));
      return reg;
    });
  }
}

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

/** Options of {@link SpatialXFeature3dReadout}. */
export interface SpatialXFeature3dReadoutOptions extends Omit<SpatialXFeature3dOptions, 'inShape' | 'outDims' | 'seed'> {
  /** Core output `(c, t, h, w)` per session (OpenRetina computes it per session from `input_dimensions`). */
  inShapes: Readonly<Record<string, ReadoutInShape>>;
  nNeuronsDict: Readonly<Record<string, number>>;
  /** Mean responses per session: the readout biases. */
  meanActivityDict?: Readonly<Record<string, Float32Array>> | undefined;
  readoutRegAvg?: boolean;
  seed?: number | Rng;
}

/**
 * OpenRetina's legacy `SpatialXFeature3dReadout`: one {@link SpatialXFeature3d} per session (entries
 * `<session>.*` in insertion order), sorted session keys, per-session regularizer
 * `feature_l1·gamma_readout + mask_l1·gamma_masks` (means with `readout_reg_avg`).
 */
export class SpatialXFeature3dReadout extends MultiReadoutBase<SpatialXFeature3d> {
  readonly readoutOptions: Readonly<SpatialXFeature3dReadoutOptions>;

  constructor(options: SpatialXFeature3dReadoutOptions) {
    const sessions = Object.keys(options.nNeuronsDict);
    const first = sessions[0];
    if (first === undefined) throw new ConfigError('SpatialXFeature3dReadout needs at least one session.');
    const shapes = { ...options.inShapes };
    const base = shapes[first];
    if (!base) throw new ConfigError(`No core output shape for session "${first}".`);
    const { inShapes: _s, nNeuronsDict: _n, meanActivityDict: _m, readoutRegAvg: _r, seed: _seed, ...perReadout } = options;
    super(
      {
        inShape: base,
        nNeuronsDict: options.nNeuronsDict,
        meanActivityDict: options.meanActivityDict,
        readoutRegAvg: options.readoutRegAvg ?? false,
        ...(options.seed === undefined ? {} : { seed: options.seed }),
      },
      ({ session, inShape, outDims, meanActivity, seed }) => {
        const r = new SpatialXFeature3d({ ...perReadout, inShape: shapes[session] ?? inShape, outDims, seed });
        if (r.bias && meanActivity) r.initializeBias(meanActivity);
        return r;
      },
    );
    this.readoutOptions = { ...options };
  }

  /** OpenRetina's `readout_keys()`: the sorted session keys. */
  readoutKeys(): string[] {
    return this.sessions;
  }
}

/** Per-session entry of the legacy `data_info` (nnfabrik): what `SFB3d_core_SxF3d_readout` reads from it. */
export interface LegacySessionInfo {
  /** `(B, C, T, H, W)` of the training batches. */
  inputDimensions: readonly number[];
  inputChannels: number;
  outputDimension: number;
  meanResponse: Float32Array;
  /** `(N, 2)` ROI coordinates, row-major (only used with `initialize_from_roi_masks`). */
  roiCoords?: Float32Array | undefined;
}

export type LegacyDataInfo = Readonly<Record<string, LegacySessionInfo>>;

/**
 * OpenRetina's legacy `LocalEncoder(core, readout)`: the core runs with the session (its log-speed) and the
 * session's readout follows. A {@link CoreReadout} (state dict `core.*`, `readout.<session>.*`), so everything that
 * takes a core-readout (MEIs, inner-neuron objectives, export) takes it. Without a session the outputs of all
 * sessions (each with its own log-speed) are concatenated in sorted order.
 */
export class LegacyEncoder extends CoreReadout {
  readonly legacyCore: ParametricFactorizedBatchConv3dCore;
  readonly legacyReadout: SpatialXFeature3dReadout;

  constructor(options: {
    core: ParametricFactorizedBatchConv3dCore;
    readout: SpatialXFeature3dReadout;
    inputShape: readonly [number, number, number];
    dataInfo?: DataInfo | undefined;
  }) {
    super(options);
    this.legacyCore = options.core;
    this.legacyReadout = options.readout;
  }

  override forward(x: tf.Tensor5D, options: { session?: string; tap?: TapFn } = {}): tf.Tensor3D {
    const { channels, height, width } = this.stimulus;
    if (x.rank !== 5 || x.shape[2] !== height || x.shape[3] !== width || x.shape[4] !== channels) {
      throw new ShapeError(
        `The model expects a stimulus [batch, time, ${height}, ${width}, ${channels}] (channels last), got ${formatShape(x.shape)}.`,
      );
    }
    if (options.session === undefined) {
      return tf.tidy(
        () =>
          tf.concat(
            this.sessions.map((s) => this.forward(x, { ...options, session: s })),
            -1,
          ) as tf.Tensor3D,
      );
    }
    const session = options.session;
    this.readout.numNeurons(session);
    return tf.tidy(() => {
      const features = this.legacyCore.forward(x, { session, ...(options.tap ? { tap: options.tap } : {}) });
      options.tap?.('core', features);
      return this.readout.forward(features, { session });
    });
  }

  /** OpenRetina's `LocalEncoder.stimulus_shape` hard-codes (B, 2, T, 18, 16); ours uses the model's input shape. */
  override stimulusShape(frames: number, batch = 1): [number, number, number, number, number] {
    return super.stimulusShape(frames, batch);
  }
}

/** The builder's keyword arguments (`model_config` of the nnfabrik YAML), snake_case as in the file. */
export type LegacyModelConfig = Readonly<Record<string, unknown>>;

const BUILDER_DEFAULTS = {
  hidden_channels: [8],
  temporal_kernel_size: [21],
  spatial_kernel_size: [11],
  layers: 1,
  gamma_hidden: 0,
  gamma_input: 0.1,
  gamma_temporal: 0.1,
  gamma_in_sparse: 0,
  final_nonlinearity: true,
  core_bias: false,
  momentum: 0.1,
  input_padding: false,
  hidden_padding: true,
  batch_norm: true,
  batch_norm_scale: false,
  laplace_padding: null,
  batch_adaptation: true,
  readout_scale: false,
  readout_bias: true,
  gaussian_masks: false,
  gamma_readout: 0.1,
  gamma_masks: 0,
  gaussian_mean_scale: 1,
  gaussian_var_scale: 1,
  initialize_from_roi_masks: false,
  readout_positive: false,
  stack: null,
  readout_reg_avg: false,
  use_avg_reg: false,
  nonlinearity: 'ELU',
  conv_type: 'custom_separable',
} as const;

/** Builder options the legacy files may carry that change nothing here (nnfabrik bookkeeping). */
const IGNORED_KEYS = new Set(['transfer']);

function num(v: unknown, key: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  throw new ConfigError(`model_config.${key} must be a number, got ${JSON.stringify(v)}.`);
}

function bool(v: unknown, key: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  throw new ConfigError(`model_config.${key} must be a boolean, got ${JSON.stringify(v)}.`);
}

function numOrList(v: unknown, key: string): number | number[] {
  if (Array.isArray(v)) return v.map((x, i) => num(x, `${key}[${i}]`));
  return num(v, key);
}

/**
 * OpenRetina's legacy builder `SFB3d_core_SxF3d_readout(dataloaders=None, seed, data_info, **model_config)`: the
 * core and readout from the nnfabrik `model_config` (snake_case keys, defaults as in Python) and the per-session
 * `data_info`; readout biases = `mean_response`. Unknown config keys are an error.
 */
export function buildLegacyHoeflingModel(
  modelConfig: LegacyModelConfig,
  dataInfo: LegacyDataInfo,
  options: { seed?: number } = {},
): LegacyEncoder {
  const unknown = Object.keys(modelConfig).filter((k) => !(k in BUILDER_DEFAULTS) && !IGNORED_KEYS.has(k));
  if (unknown.length) {
    throw new ConfigError(
      `SFB3d_core_SxF3d_readout: unknown option(s) ${unknown.join(', ')}. Accepted: ${Object.keys(BUILDER_DEFAULTS).join(', ')}.`,
    );
  }
  const cfg: Record<string, unknown> = { ...BUILDER_DEFAULTS, ...modelConfig };
  const sessions = Object.keys(dataInfo);
  if (sessions.length === 0) throw new ConfigError('data_info has no sessions.');
  const channels = new Set(sessions.map((s) => dataInfo[s]!.inputChannels));
  if (channels.size !== 1) throw new ConfigError(`all input channels must be of equal size, got ${JSON.stringify([...channels])}.`);
  const nNeuronsDict: Record<string, number> = {};
  const meanActivityDict: Record<string, Float32Array> = {};
  for (const s of sessions) {
    const info = dataInfo[s]!;
    nNeuronsDict[s] = info.outputDimension;
    if (info.meanResponse.length !== info.outputDimension) {
      throw new ShapeError(
        `data_info["${s}"].mean_response has ${info.meanResponse.length} values, output_dimension is ${info.outputDimension}.`,
      );
    }
    meanActivityDict[s] = info.meanResponse;
  }
  const stack = cfg.stack;
  const core = new ParametricFactorizedBatchConv3dCore({
    nNeuronsDict,
    inputChannels: dataInfo[sessions[0]!]!.inputChannels,
    hiddenChannels: numOrList(cfg.hidden_channels, 'hidden_channels'),
    temporalKernelSize: numOrList(cfg.temporal_kernel_size, 'temporal_kernel_size'),
    spatialKernelSize: numOrList(cfg.spatial_kernel_size, 'spatial_kernel_size'),
    layers: num(cfg.layers, 'layers'),
    gammaHidden: num(cfg.gamma_hidden, 'gamma_hidden'),
    gammaInput: num(cfg.gamma_input, 'gamma_input'),
    gammaInSparse: num(cfg.gamma_in_sparse, 'gamma_in_sparse'),
    gammaTemporal: num(cfg.gamma_temporal, 'gamma_temporal'),
    finalNonlinearity: bool(cfg.final_nonlinearity, 'final_nonlinearity'),
    bias: bool(cfg.core_bias, 'core_bias'),
    momentum: num(cfg.momentum, 'momentum'),
    inputPadding: bool(cfg.input_padding, 'input_padding'),
    hiddenPadding: bool(cfg.hidden_padding, 'hidden_padding'),
    batchNorm: bool(cfg.batch_norm, 'batch_norm'),
    batchNormScale: bool(cfg.batch_norm_scale, 'batch_norm_scale'),
    laplacePadding: cfg.laplace_padding === null || cfg.laplace_padding === undefined ? null : num(cfg.laplace_padding, 'laplace_padding'),
    stack: stack === null || stack === undefined ? null : numOrList(stack, 'stack'),
    batchAdaptation: bool(cfg.batch_adaptation, 'batch_adaptation'),
    useAvgReg: bool(cfg.use_avg_reg, 'use_avg_reg'),
    nonlinearity: String(cfg.nonlinearity),
    convType: String(cfg.conv_type),
    seed: options.seed ?? 0,
  });
  try {
    const inShapes: Record<string, ReadoutInShape> = {};
    let inputShape: [number, number, number] | undefined;
    for (const s of sessions) {
      const d = dataInfo[s]!.inputDimensions;
      if (d.length !== 5) throw new ConfigError(`data_info["${s}"].input_dimensions must be (B, C, T, H, W), got ${JSON.stringify(d)}.`);
      const [, c, t, h, w] = d as [number, number, number, number, number];
      const [to, ho, wo, co] = core.outputShape([t, h, w, c]);
      inShapes[s] = [co, to, ho, wo];
      inputShape ??= [c, h, w];
    }
    const readout = new SpatialXFeature3dReadout({
      inShapes,
      nNeuronsDict,
      meanActivityDict: bool(cfg.readout_bias, 'readout_bias') ? meanActivityDict : undefined,
      scale: bool(cfg.readout_scale, 'readout_scale'),
      bias: bool(cfg.readout_bias, 'readout_bias'),
      gaussianMasks: bool(cfg.gaussian_masks, 'gaussian_masks'),
      gaussianMeanScale: num(cfg.gaussian_mean_scale, 'gaussian_mean_scale'),
      gaussianVarScale: num(cfg.gaussian_var_scale, 'gaussian_var_scale'),
      positive: bool(cfg.readout_positive, 'readout_positive'),
      initializeFromRoiMasks: bool(cfg.initialize_from_roi_masks, 'initialize_from_roi_masks'),
      gammaReadout: num(cfg.gamma_readout, 'gamma_readout'),
      gammaMasks: num(cfg.gamma_masks, 'gamma_masks'),
      readoutRegAvg: bool(cfg.readout_reg_avg, 'readout_reg_avg'),
      seed: (options.seed ?? 0) + 1,
    });
    const [c, h, w] = inputShape!;
    return new LegacyEncoder({
      core,
      readout,
      inputShape: [c, h, w],
      dataInfo: { nNeuronsDict, meanActivityDict, inputShape: [c, h, w] },
    });
  } catch (error) {
    core.dispose();
    throw error;
  }
}
