import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, SPECIFICATION_VERSION, ShapeError, UnknownSessionError, formatShape, type Core } from '@openretina/contracts';
import {
  FlatLaplaceL23dnorm,
  Module,
  TimeLaplaceL23dnorm,
  createConvolution,
  groupSparsity,
  temporalBasis,
  temporalSmoothing,
  toRng,
  type Padding3d,
  type Rng,
  type SpaceTimeConv,
} from '@openretina/layers';
import { LegacyCoreLayer, LegacyFeatures, type Shape4, type TapFn } from './core-layer.js';
import { TORCH_ACTIVATIONS } from './torch-activations.js';

/*
 * The original Höfling et al. 2024 model as trained with nnfabrik (OpenRetina's `openretina/legacy/models.py`):
 * this core + the SpatialXFeature3d readouts behind the `LocalEncoder` wrapper, built by `SFB3d_core_SxF3d_readout`
 * (build.ts). Needed to load the published GIN ensemble (`state_dict_<seed>.pth.tar`), so every parameter keeps its
 * PyTorch name, shape and registration order.
 */

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
    const nonlin = TORCH_ACTIVATIONS[nonlinName];
    if (!nonlin)
      throw new ConfigError(`Unknown nonlinearity "${nonlinName}". Expected one of: ${Object.keys(TORCH_ACTIVATIONS).join(', ')}.`);
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
