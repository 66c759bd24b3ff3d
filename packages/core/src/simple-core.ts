import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, SPECIFICATION_VERSION, ShapeError, formatShape, type Core } from '@openretina/contracts';
import {
  FlatLaplaceL23dnorm,
  Module,
  TimeLaplaceL23dnorm,
  WeightedChannelSum,
  createConvolution,
  groupSparsity,
  temporalSmoothing,
  toRng,
  type ConvolutionType,
  type Padding3d,
  type Rng,
  type SpaceTimeConv,
} from '@openretina/layers';
import { CoreLayer } from './core-layer.js';

/** OpenRetina's padding option: `true` → "same", `false` → 0, or a number / `[t, h, w]` / "same". */
export type CorePadding = boolean | Padding3d | readonly number[];

export interface SimpleCoreOptions {
  /** `[in, hidden_1, …, hidden_L]` */
  channels: readonly number[];
  temporalKernelSizes: readonly number[];
  spatialKernelSizes: readonly number[];
  gammaInput: number;
  gammaTemporal: number;
  gammaInSparse: number;
  gammaHidden: number;
  dropoutRate?: number;
  /** Frames dropped from the start of the output (OpenRetina default 30; every shipped config sets 0). */
  cutFirstNFrames?: number;
  maxpoolEveryNLayers?: number | null;
  /** Average-pooling kernel `[t, h, w]` (stride = kernel) applied to the input. */
  downsampleInputKernelSize?: readonly [number, number, number] | null;
  inputPadding?: CorePadding;
  hiddenPadding?: CorePadding;
  colorSquashingWeights?: readonly number[] | null;
  convolutionType?: ConvolutionType | string;
  seed?: number | Rng;
}

function toPadding(p: CorePadding): Padding3d {
  if (p === true) return 'same';
  if (p === false) return 0;
  if (typeof p === 'number' || p === 'same') return p;
  if (p.length !== 3) throw new ConfigError(`padding must be a bool, a number, "same" or [t, h, w]; got ${JSON.stringify(p)}.`);
  return [p[0]!, p[1]!, p[2]!];
}

/**
 * The default CNN core of OpenRetina (`SimpleCoreWrapper`): L blocks of space-time conv → BatchNorm → bias → ELU,
 * with optional colour squashing, input down-sampling, dropout, max-pooling and a cut of the first frames.
 * Channels-last: `[B, T, H, W, C]` in, `[B, T', H', W', hidden_L]` out.
 */
export class SimpleCoreWrapper extends Module implements Core {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly options: Readonly<SimpleCoreOptions>;
  readonly convolutionType: string;
  readonly features: Module & { layers: CoreLayer[] };
  readonly colorSquashing: WeightedChannelSum | undefined;
  private readonly spatialRegularizer: FlatLaplaceL23dnorm;
  private readonly temporalRegularizer: TimeLaplaceL23dnorm;

  constructor(options: SimpleCoreOptions) {
    super();
    const { channels, temporalKernelSizes: kt, spatialKernelSizes: ks } = options;
    if (channels.length < 2) throw new ConfigError(`channels needs at least [in, out], got ${JSON.stringify(channels)}.`);
    if (kt.length !== channels.length - 1 || ks.length !== kt.length) {
      throw new ConfigError(
        `${channels.length - 1} layers need ${channels.length - 1} temporal and spatial kernel sizes; got ${kt.length} temporal and ${ks.length} spatial.`,
      );
    }
    if (options.colorSquashingWeights && channels[0] !== 1) {
      throw new ConfigError(`colour squashing needs channels[0] = 1 (the squashed input), got ${channels[0]}.`);
    }
    this.options = { ...options };
    this.convolutionType = options.convolutionType ?? 'custom_separable';
    const rng = toRng(options.seed);
    this.spatialRegularizer = this.registerModule('_input_weights_regularizer_spatial', new FlatLaplaceL23dnorm({ padding: 0 }));
    this.temporalRegularizer = this.registerModule(
      '_input_weights_regularizer_temporal',
      new TimeLaplaceL23dnorm({ padding: 0, persistentBuffer: false }),
    );
    const features = new FeatureStack();
    this.features = this.registerModule('features', features);
    for (let i = 0; i < kt.length; i++) {
      const padding = toPadding(i === 0 ? (options.inputPadding ?? false) : (options.hiddenPadding ?? true));
      const conv: SpaceTimeConv = createConvolution(this.convolutionType, {
        inChannels: channels[i]!,
        outChannels: channels[i + 1]!,
        temporalKernelSize: kt[i]!,
        spatialKernelSize: ks[i]!,
        padding,
        bias: false,
        seed: rng.fork(),
      });
      const every = options.maxpoolEveryNLayers;
      features.add(
        `layer${i}`,
        new CoreLayer(conv, { dropoutRate: options.dropoutRate ?? 0, pool: every != null && i % every === 0, rng: rng.fork() }),
      );
    }
    this.colorSquashing = options.colorSquashingWeights
      ? this.registerModule('color_squashing_layer', new WeightedChannelSum(options.colorSquashingWeights))
      : undefined;
  }

  get inChannels(): number {
    return this.options.colorSquashingWeights ? this.options.colorSquashingWeights.length : this.options.channels[0]!;
  }

  get outChannels(): number {
    return this.options.channels[this.options.channels.length - 1]!;
  }

  get cutFirstNFrames(): number {
    return this.options.cutFirstNFrames ?? 30;
  }

  get framesCut(): number {
    const T = 10_000;
    return T - this.outputShape([T, 1000, 1000, this.inChannels])[0];
  }

  outputShape(input: readonly [number, number, number, number]): [number, number, number, number] {
    let s: [number, number, number, number] = [input[0], input[1], input[2], this.colorSquashing ? 1 : input[3]];
    const d = this.options.downsampleInputKernelSize;
    if (d) s = [Math.floor(s[0] / d[0]), Math.floor(s[1] / d[1]), Math.floor(s[2] / d[2]), s[3]];
    for (const layer of this.features.layers) s = layer.outputShape(s);
    return [Math.max(0, s[0] - this.cutFirstNFrames), s[1], s[2], s[3]];
  }

  /** `[B, T, H, W, C]` → `[B, T', H', W', hidden_L]`. `tap` sees every block's intermediate outputs (`layer0.conv`, …). */
  forward(x: tf.Tensor5D, options: { session?: string; tap?: (name: string, t: tf.Tensor5D) => void } = {}): tf.Tensor5D {
    if (x.rank !== 5 || x.shape[4] !== this.inChannels) {
      throw new ShapeError(
        `SimpleCoreWrapper expects a stimulus [batch, time, height, width, ${this.inChannels}], got ${formatShape(x.shape)}.`,
      );
    }
    return tf.tidy(() => {
      let h: tf.Tensor5D = x;
      if (this.colorSquashing) h = this.colorSquashing.forward(h);
      const d = this.options.downsampleInputKernelSize;
      if (d) h = tf.avgPool3d(h, [d[0], d[1], d[2]], [d[0], d[1], d[2]], 'valid');
      this.features.layers.forEach((layer, i) => {
        const tap = options.tap;
        h = layer.forward(h, {
          ...(options.session === undefined ? {} : { session: options.session }),
          ...(tap ? { tap: (name: string, t: tf.Tensor5D) => tap(`layer${i}.${name}`, t) } : {}),
        });
      });
      const cut = this.cutFirstNFrames;
      if (cut > 0) {
        const [b, t, hh, ww, c] = h.shape;
        if (cut >= t) throw new ShapeError(`cut_first_n_frames = ${cut} removes all ${t} output frames; use a longer stimulus.`);
        // Slice on a 3-D view: 5-D slices are very slow on wasm.
        h = tf.reshape(tf.slice(tf.reshape(h, [b, t, hh * ww * c]), [0, cut, 0], [b, t - cut, hh * ww * c]), [b, t - cut, hh, ww, c]);
      }
      return h;
    });
  }

  private conv(i: number): SpaceTimeConv {
    const layer = this.features.layers[i];
    if (!layer) throw new ConfigError(`the core has no layer ${i}.`);
    return layer.conv;
  }

  private spatialWeight(conv: SpaceTimeConv, what: string): tf.Tensor {
    if (!conv.weightSpatial) {
      throw new ConfigError(
        `${what} needs a convolution with a spatial weight (custom_separable or time_independent), not "${this.convolutionType}".`,
      );
    }
    return conv.weightSpatial;
  }

  /** Laplace smoothness of the first layer's spatial kernels. */
  spatialLaplace(): tf.Scalar {
    return this.spatialRegularizer.forward(this.spatialWeight(this.conv(0), 'spatial_laplace'), false);
  }

  /** Temporal smoothness: sin/cos coefficient penalty (custom_separable) or Laplace of the time kernels (separable). */
  temporalSmoothness(): tf.Scalar {
    return tf.tidy(() => {
      if (this.convolutionType === 'separable') {
        const timeWeight = (this.conv(0) as SpaceTimeConv & { timeWeight?: tf.Tensor }).timeWeight;
        if (!timeWeight) throw new ConfigError('the separable convolution exposes no time kernel.');
        return this.temporalRegularizer.forward(timeWeight, false);
      }
      let total: tf.Scalar = tf.scalar(0);
      for (const layer of this.features.layers) {
        const conv = layer.conv as SpaceTimeConv & { sinWeights?: tf.Tensor; cosWeights?: tf.Tensor };
        if (!conv.sinWeights || !conv.cosWeights) {
          throw new ConfigError(`temporal smoothness (gamma_temporal ≠ 0) is not defined for convolution_type "${this.convolutionType}".`);
        }
        total = tf.add(total, temporalSmoothing(conv.sinWeights, conv.cosWeights));
      }
      return total;
    });
  }

  /** Group sparsity of the spatial weights of layers 1…L−1. */
  groupSparsity(): tf.Scalar {
    return tf.tidy(() => {
      let total: tf.Scalar = tf.scalar(0);
      this.features.layers.slice(1).forEach((l) => {
        total = tf.add(total, groupSparsity(this.spatialWeight(l.conv, 'group_sparsity')));
      });
      return total;
    });
  }

  /** Group sparsity of the spatial weights of all layers. */
  groupSparsity0(): tf.Scalar {
    return tf.tidy(() => {
      let total: tf.Scalar = tf.scalar(0);
      for (const l of this.features.layers) total = tf.add(total, groupSparsity(this.spatialWeight(l.conv, 'group_sparsity_0')));
      return total;
    });
  }

  /** `γ_input·spatial_laplace + γ_hidden·group_sparsity + γ_temporal·temporal_smoothness + γ_in_sparse·group_sparsity_0`, terms with γ = 0 skipped. */
  regularizer(): tf.Scalar {
    return tf.tidy(() => {
      let reg: tf.Scalar = tf.scalar(0);
      const terms: [number, () => tf.Scalar][] = [
        [this.options.gammaInput, () => this.spatialLaplace()],
        [this.options.gammaHidden, () => this.groupSparsity()],
        [this.options.gammaTemporal, () => this.temporalSmoothness()],
        [this.options.gammaInSparse, () => this.groupSparsity0()],
      ];
      for (const [gamma, fn] of terms) if (gamma !== 0) reg = tf.add(reg, tf.mul(fn(), gamma));
      return reg;
    });
  }
}

/** `features`: the ordered blocks `layer0 … layer{L−1}`. */
class FeatureStack extends Module {
  readonly layers: CoreLayer[] = [];
  add(name: string, layer: CoreLayer): void {
    this.layers.push(this.registerModule(name, layer));
  }
}
