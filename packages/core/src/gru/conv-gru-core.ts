import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, SPECIFICATION_VERSION, ShapeError, UnknownSessionError, formatShape, type Core } from '@openretina/contracts';
import {
  FlatLaplaceL23dnorm,
  GRUModule,
  Module,
  TimeLaplaceL23dnorm,
  createConvolution,
  groupSparsity,
  temporalBasis,
  temporalSmoothing,
  toRng,
  type Padding3d,
  type SpaceTimeConv,
} from '@openretina/layers';
import { GRUCoreFeatures, GRUCoreLayer, GRUCoreProjection, type SessionOption, type Shape4 } from './blocks.js';
import { NONLINEARITIES } from './nonlinearities.js';
import { type ConvGRUCoreOptions, type GruOptions, truthy } from './options.js';

/*
 * OpenRetina's `ConvGRUCore`: builds the blocks from the options, runs them, and computes the core's regularizer.
 */

/**
 * OpenRetina's `ConvGRUCore`: space-time conv blocks (conv → BatchNorm → bias/scale → nonlinearity), an optional
 * 1×1×1 projection after the first block and an optional convolutional GRU over time at the end.
 * Channels-last: `[B, T, H, W, C]` in, `[B, T', H', W', C']` out; no frames are cut besides the valid temporal
 * convolutions.
 *
 * Reproduced quirks: without `finalNonlinearity` layer 0 has no nonlinearity either (OpenRetina tests only
 * `final_nonlinearity` for the first block); the hidden padding of layer n ≥ 1 is the one computed for layer n − 1, and that of layer 0
 * is always 0 (so layer 1 is never padded); `group_sparsity` has no 1e-8 in the denominator; every regularizer
 * term is computed even when its gamma is 0; the regularizer is 0 unless the convolution type is
 * `custom_separable`. With `batchAdaptation`, the per-session `log_speed_<session>` parameters live on the core
 * and are shared by every convolution, so the state dict lists them under the core and under each conv.
 *
 * State dict (PyTorch order): `log_speed_<s>`…, `_input_weights_regularizer_spatial.laplace.filter`,
 * `_input_weights_regularizer_temporal.laplace.filter`, `features.layer0.conv.*`, `features.layer0.norm.*`,
 * [`features.layer0.bias.bias` | `.scale.scale`], [`features.projection.0.*`], `features.layer1.*`, …,
 * [`features.gru.gru.{reset,update,out}_gate_{input,hidden}.{weight,bias}`].
 */
export class ConvGRUCore extends Module implements Core {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly convolutionType: string;
  readonly inChannels: number;
  readonly hiddenChannels: readonly number[];
  readonly sessions: readonly string[];
  readonly batchAdaptation: boolean;
  readonly gammaHidden: number;
  readonly gammaInput: number;
  readonly gammaInSparse: number;
  readonly gammaTemporal: number;
  readonly useAvgReg: boolean;
  /** Padding of the first layer and the per-layer "hidden" paddings as OpenRetina computes them. */
  readonly inputPad: Padding3d;
  readonly hiddenPad: readonly Padding3d[];
  protected readonly features: GRUCoreFeatures;
  private readonly spatialRegularizer: FlatLaplaceL23dnorm;
  private readonly logSpeeds = new Map<string, tf.Variable>();
  private readonly gruOptions: GruOptions | undefined;

  constructor(options: ConvGRUCoreOptions) {
    super();
    const channels = options.channels;
    if (channels.length < 2) throw new ConfigError(`channels needs at least [in, hidden], got ${JSON.stringify(channels)}.`);
    const nLayers = channels.length - 1;
    const perLayer = (v: number | readonly number[], what: string): number[] => {
      const list = typeof v === 'number' ? new Array<number>(nLayers).fill(v) : [...v];
      if (list.length < nLayers) throw new ConfigError(`${nLayers} layers need ${nLayers} ${what}, got ${JSON.stringify(v)}.`);
      return list;
    };
    const kt = perLayer(options.temporalKernelSizes ?? [21], 'temporal kernel sizes');
    const ks = perLayer(options.spatialKernelSizes ?? [14], 'spatial kernel sizes');
    const nonlinName = options.nonlinearity ?? 'ELU';
    const nonlin = NONLINEARITIES[nonlinName];
    if (!nonlin) {
      throw new ConfigError(`Unknown nonlinearity "${nonlinName}". Expected one of: ${Object.keys(NONLINEARITIES).join(', ')}.`);
    }
    this.batchAdaptation = options.batchAdaptation ?? false;
    if (this.batchAdaptation && !options.nNeuronsDict) {
      throw new ConfigError('batch_adaptation needs n_neurons_dict, to learn one adaptation term (log speed) per session.');
    }
    this.sessions = Object.keys(options.nNeuronsDict ?? {});
    this.convolutionType = options.convolutionType ?? 'custom_separable';
    this.inChannels = channels[0]!;
    this.hiddenChannels = channels.slice(1);
    this.gammaHidden = options.gammaHidden ?? 0;
    this.gammaInput = options.gammaInput ?? 0;
    this.gammaInSparse = options.gammaInSparse ?? 0;
    this.gammaTemporal = options.gammaTemporal ?? 0;
    this.useAvgReg = options.useAvgReg ?? false;
    const rng = toRng(options.seed);

    const laplacePadding = options.laplacePadding === undefined ? 0 : options.laplacePadding;
    this.spatialRegularizer = this.registerModule(
      '_input_weights_regularizer_spatial',
      new FlatLaplaceL23dnorm({ padding: laplacePadding }),
    );
    this.registerModule('_input_weights_regularizer_temporal', new TimeLaplaceL23dnorm({ padding: laplacePadding }));
    this.features = this.registerModule('features', new GRUCoreFeatures());
    if (this.batchAdaptation) {
      for (const s of this.sessions) this.logSpeeds.set(s, this.registerParameter(`log_speed_${s}`, tf.zeros([1])));
    }

    this.inputPad = truthy(options.inputPadding) ? [0, Math.floor(ks[0]! / 2), Math.floor(ks[0]! / 2)] : 0;
    const hiddenPadding = options.hiddenPadding === undefined ? true : options.hiddenPadding;
    this.hiddenPad = ks.map((k, x) => (truthy(hiddenPadding) && x > 0 ? [0, Math.floor(k / 2), Math.floor(k / 2)] : 0));

    const shared = new Map([...this.logSpeeds].map(([s, v]) => [`log_speed_${s}`, v]));
    const logSpeedSessions = this.batchAdaptation ? this.sessions : [];
    const makeConv = (type: string, inC: number, outC: number, t: number, s: number, padding: Padding3d): SpaceTimeConv =>
      Module.sharingParameters(shared, () =>
        createConvolution(type, {
          inChannels: inC,
          outChannels: outC,
          temporalKernelSize: t,
          spatialKernelSize: s,
          padding,
          bias: false,
          logSpeedSessions,
          seed: rng.fork(),
        }),
      );
    const finalNonlin = options.finalNonlinearity ?? true;
    const blockOptions = {
      batchNorm: options.batchNorm ?? true,
      bias: options.bias ?? true,
      batchNormScale: options.batchNormScale ?? true,
      momentum: options.batchNormMomentum ?? 0.1,
    };
    const h = this.hiddenChannels;
    this.features.add(
      'layer0',
      new GRUCoreLayer(makeConv(this.convolutionType, this.inChannels, h[0]!, kt[0]!, ks[0]!, this.inputPad), {
        ...blockOptions,
        // OpenRetina checks only final_nonlinearity for layer 0, even when more layers follow.
        ...(finalNonlin ? { nonlinearity: nonlin } : {}),
      }),
    );
    if (options.useProjections) {
      this.features.add('projection', new GRUCoreProjection(makeConv('full', h[0]!, h[0]!, 1, 1, 0), nonlin));
    }
    for (let n = 1; n < nLayers; n++) {
      this.features.add(
        `layer${n}`,
        new GRUCoreLayer(makeConv(this.convolutionType, h[n - 1]!, h[n]!, kt[n]!, ks[n]!, this.hiddenPad[n - 1]!), {
          ...blockOptions,
          ...(finalNonlin || n < nLayers - 1 ? { nonlinearity: nonlin } : {}),
        }),
      );
    }
    if (options.useGru) {
      const g = options.gruKwargs;
      if (!g) throw new ConfigError('use_gru needs gru_kwargs (rec_channels, input_kern, rec_kern).');
      this.gruOptions = { ...g };
      this.features.add(
        'gru',
        new GRUModule({
          inputChannels: h[h.length - 1]!,
          recChannels: g.recChannels,
          inputKern: g.inputKern,
          recKern: g.recKern,
          groups: g.groups ?? 1,
          gammaRec: g.gammaRec ?? 0,
          padInput: g.padInput ?? true,
          seed: rng.fork(),
        }),
      );
    }
  }

  /** Feature channels of the output (the GRU's recurrent channels when it has one). */
  get outChannels(): number {
    return this.gruOptions ? this.gruOptions.recChannels : this.hiddenChannels[this.hiddenChannels.length - 1]!;
  }

  /** OpenRetina's `outchannels` property as written: `len(features) · hidden_channels[-1]` (a quirk; not the real count). */
  get outchannelsQuirk(): number {
    return this.features.blocks.length * this.hiddenChannels[this.hiddenChannels.length - 1]!;
  }

  get framesCut(): number {
    const T = 10_000;
    return T - this.outputShape([T, 1000, 1000, this.inChannels])[0];
  }

  /** The `features` blocks in order, by name (`layer0`, `projection`, …, `gru`). */
  get blocks(): readonly { name: string; module: Module }[] {
    return this.features.blocks;
  }

  /** The space-time conv blocks (`features.layer<i>`) in order. */
  get layers(): GRUCoreLayer[] {
    return this.features.blocks.flatMap((b) => (b.module instanceof GRUCoreLayer ? [b.module] : []));
  }

  /** The learnable per-session log-speed (`batchAdaptation`), if any. */
  logSpeed(session: string): tf.Variable | undefined {
    return this.logSpeeds.get(session);
  }

  outputShape(input: readonly [number, number, number, number]): Shape4 {
    let s: Shape4 = [input[0], input[1], input[2], input[3]];
    for (const { module } of this.features.blocks) {
      if (module instanceof GRUModule) {
        const g = this.gruOptions!;
        const shrink = (g.padInput ?? true) ? -2 * Math.floor(g.inputKern / 2) + g.inputKern - 1 : g.inputKern - 1;
        s = [s[0], s[1] - shrink, s[2] - shrink, g.recChannels];
      } else {
        s = module.outputShape(s);
      }
    }
    return s;
  }

  protected checkInput(x: tf.Tensor, what: string): void {
    if (x.rank !== 5 || x.shape[4] !== this.inChannels) {
      throw new ShapeError(`${what} expects a stimulus [batch, time, height, width, ${this.inChannels}], got ${formatShape(x.shape)}.`);
    }
    const [t, h, w] = this.outputShape([x.shape[1]!, x.shape[2]!, x.shape[3]!, this.inChannels]);
    if (t < 1 || h < 1 || w < 1) {
      throw new ShapeError(`${what}: the input ${formatShape(x.shape)} is too small for the core's kernels (output [${t}, ${h}, ${w}]).`);
    }
  }

  /** The session passed on to the convolutions: only with batch adaptation (otherwise every conv uses its default). */
  protected convSession(session: string | undefined): SessionOption {
    if (session === undefined || !this.batchAdaptation) return {};
    if (!this.logSpeeds.has(session)) throw new UnknownSessionError(session, this.sessions);
    return { session };
  }

  /** `[B, T, H, W, C]` → `[B, T', H', W', C']`; `session` selects the log-speed with batch adaptation. */
  forward(x: tf.Tensor5D, options: SessionOption = {}): tf.Tensor5D {
    this.checkInput(x, this.constructor.name);
    const session = this.convSession(options.session);
    return tf.tidy(() => {
      let y = x;
      for (const { module } of this.features.blocks)
        y = module instanceof GRUModule ? (module.forward(y) as tf.Tensor5D) : module.forward(y, session);
      return y;
    });
  }

  private spatialWeight(layer: GRUCoreLayer): tf.Tensor {
    const w = layer.conv.weightSpatial;
    if (!w) throw new ConfigError(`the "${this.convolutionType}" convolution has no spatial weight.`);
    return w;
  }

  /** Laplace smoothness of the first layer's spatial kernels (`FlatLaplaceL23dnorm`, `avg = use_avg_reg`). */
  spatialLaplace(): tf.Scalar {
    return this.spatialRegularizer.forward(this.spatialWeight(this.layers[0]!), this.useAvgReg);
  }

  /** `Σ_layers Σ_o (Σ_i ‖W[o,i]‖) / ‖W[o]‖` of the spatial weights, without an epsilon (as OpenRetina). */
  groupSparsity(): tf.Scalar {
    return tf.tidy(() => tf.addN(this.layers.map((l) => groupSparsity(this.spatialWeight(l), 0))) as tf.Scalar);
  }

  /** Group sparsity of the full layer-0 kernel at log-speed 0: `Σ_o (Σ_i ‖W[o,i]‖) / sqrt(1e-8 + ‖W[o]‖²)`. */
  groupSparsity0(): tf.Scalar {
    return tf.tidy(() => {
      const conv = this.layers[0]!.conv as SpaceTimeConv & {
        sinWeights?: tf.Tensor;
        cosWeights?: tf.Tensor;
        temporalKernelSize?: number;
        numFreqs?: number;
      };
      if (!conv.sinWeights || !conv.cosWeights || conv.temporalKernelSize === undefined || conv.numFreqs === undefined) {
        throw new ConfigError(`group_sparsity_0 needs a custom_separable convolution, not "${this.convolutionType}".`);
      }
      const [O, I, K] = conv.sinWeights.shape as [number, number, number];
      const L = conv.temporalKernelSize;
      const { sines, cosines } = temporalBasis(tf.zeros([1]), L, K);
      const wt = tf.add(
        tf.matMul(tf.reshape(conv.sinWeights, [O * I, K]), sines),
        tf.matMul(tf.reshape(conv.cosWeights, [O * I, K]), cosines),
      );
      const ws = this.spatialWeight(this.layers[0]!);
      const full = tf.mul(tf.reshape(wt, [O, I, L, 1]), tf.reshape(ws, [O, I, 1, -1]));
      return groupSparsity(full, 1e-8);
    });
  }

  /** `Σ_layers temporal_smoothing(sin, cos)`. */
  temporalSmoothness(): tf.Scalar {
    return tf.tidy(() => {
      const terms = this.layers.map((l) => {
        const conv = l.conv as SpaceTimeConv & { sinWeights?: tf.Tensor; cosWeights?: tf.Tensor };
        if (!conv.sinWeights || !conv.cosWeights) {
          throw new ConfigError(`temporal smoothness needs a custom_separable convolution, not "${this.convolutionType}".`);
        }
        return temporalSmoothing(conv.sinWeights, conv.cosWeights);
      });
      return tf.addN(terms) as tf.Scalar;
    });
  }

  /**
   * `γ_hidden·group_sparsity + γ_input·spatial_laplace + γ_temporal·temporal_smoothness + γ_in_sparse·group_sparsity0`
   * for `custom_separable` convolutions (every term is computed, as in OpenRetina), 0 for the other types. The GRU's
   * own `gamma_rec` penalty is not part of it (OpenRetina does not add it either).
   */
  regularizer(): tf.Scalar {
    return tf.tidy(() => {
      if (this.convolutionType !== 'custom_separable') return tf.scalar(0);
      return tf.addN([
        tf.mul(this.groupSparsity(), this.gammaHidden),
        tf.mul(this.spatialLaplace(), this.gammaInput),
        tf.mul(this.temporalSmoothness(), this.gammaTemporal),
        tf.mul(this.groupSparsity0(), this.gammaInSparse),
      ]) as tf.Scalar;
    });
  }
}
