import { ConfigError, type DataInfo, type StateDict } from '@openretina/contracts';
import { camelCaseOptions, parseConfig } from './config-schema.js';
import { CoreReadout } from './core-readout.js';
import { exampleCoreReadoutSchema } from './example-core-readout-schema.js';
import { MISSING } from './option-schemas.js';
import { type ConfigObject, type CoreReadoutConfig, coreReadoutParts } from './registry.js';

/**
 * The constructor arguments of OpenRetina's `ExampleCoreReadout` (its checkpoints' flat hyper-parameters), camelCase.
 * Defaults are OpenRetina 1.1.1's.
 */
export interface ExampleCoreReadoutOptions {
  /** `[C, T, H, W]` of the stimulus. */
  inShape: readonly [number, number, number, number];
  hiddenChannels: readonly number[];
  temporalKernelSizes: readonly number[];
  spatialKernelSizes: readonly number[];
  nNeuronsDict: Readonly<Record<string, number>>;
  coreGammaInput?: number;
  coreGammaHidden?: number;
  coreGammaInSparse?: number;
  coreGammaTemporal?: number;
  /** `true` pads "same" (in time too), `false` none, or an int / `[t, h, w]`. Default false. */
  coreInputPadding?: boolean | number | string | readonly number[];
  /** As `coreInputPadding`, for the hidden layers. Default true. */
  coreHiddenPadding?: boolean | number | string | readonly number[];
  readoutScale?: boolean;
  readoutBias?: boolean;
  /** Accepted and unused, as in OpenRetina. */
  readoutGaussianMasks?: boolean;
  readoutGaussianMeanScale?: number;
  readoutGaussianVarScale?: number;
  readoutPositive?: boolean;
  /** Becomes the readout's `mask_l1_reg` (OpenRetina passes the readout arguments positionally). Default 0.4. */
  readoutGamma?: number;
  /** Becomes the readout's `feature_weights_l1_reg` (see `readoutGamma`). Default 0. */
  readoutGammaMasks?: number;
  readoutRegAvg?: boolean;
  learningRate?: number;
  cutFirstNFramesInCore?: number;
  dropoutRate?: number;
  maxpoolEveryNLayers?: number | null;
  downsampleInputKernelSize?: readonly [number, number, number] | null;
  convolutionType?: string;
  colorSquashingWeights?: readonly number[] | null;
  dataInfo?: DataInfo | undefined;
  seed?: number;
}

const REQUIRED = ['inShape', 'hiddenChannels', 'temporalKernelSizes', 'spatialKernelSizes', 'nNeuronsDict'] as const;

/**
 * Keys of an `ExampleCoreReadout` checkpoint's hyper-parameters that are not its architecture: `data_info` (read
 * separately), and what Lightning's `save_hyperparameters` collects from `BaseCoreReadout.__init__` — the core and
 * readout modules themselves (inert pickle records here, never executed), the losses (`correlation_loss` before
 * OpenRetina renamed it `evaluation_loss`).
 */
const NOT_ARCHITECTURE = new Set(['data_info', 'core', 'readout', 'loss', 'evaluation_loss', 'correlation_loss']);

/** True for hyper-parameters in `ExampleCoreReadout`'s flat layout (`core_*`/`readout_*` arguments, no core config). */
export function isExampleCoreReadoutHyperParameters(hp: Readonly<Record<string, unknown>>): boolean {
  const core = hp.core;
  const coreIsConfig = typeof core === 'object' && core !== null && typeof (core as Record<string, unknown>)._target_ === 'string';
  return !coreIsConfig && 'temporal_kernel_sizes' in hp && 'spatial_kernel_sizes' in hp && 'hidden_channels' in hp;
}

/**
 * `ExampleCoreReadout`'s flat hyper-parameters (OpenRetina's snake_case keys, as its checkpoints hold them) as
 * options, validated by the schema the models registry has for the class. Unknown keys are a `ConfigError`; the
 * non-architecture keys listed above are ignored.
 */
export function exampleCoreReadoutOptions(hp: Readonly<Record<string, unknown>>): ExampleCoreReadoutOptions {
  const architecture: ConfigObject = {};
  for (const [k, v] of Object.entries(hp)) if (!NOT_ARCHITECTURE.has(k) && !/^_.*_$/.test(k)) architecture[k] = v;
  const { nNeuronsDict, ...options } = camelCaseOptions(parseConfig(exampleCoreReadoutSchema.strict(), architecture, 'ExampleCoreReadout'));
  if (nNeuronsDict === undefined || nNeuronsDict === MISSING) throw new ConfigError('ExampleCoreReadout: missing n_neurons_dict.');
  return { ...options, nNeuronsDict };
}

/**
 * The `UnifiedCoreReadout` architecture (OpenRetina's config keys) that builds the same model as
 * `ExampleCoreReadout(options)`: a `SimpleCoreWrapper` with channels `[C, ...hiddenChannels]` and a
 * `MultiGaussianMaskReadout`. OpenRetina passes the readout's arguments positionally, so `readout_gamma` lands in
 * `mask_l1_reg` and `readout_gamma_masks` in `feature_weights_l1_reg`; reproduced here.
 */
export function exampleCoreReadoutConfig(options: ExampleCoreReadoutOptions): CoreReadoutConfig {
  const o = options;
  for (const key of REQUIRED) {
    if (o[key] == null) throw new ConfigError(`ExampleCoreReadout: ${key} is required.`);
  }
  const inShape = [...o.inShape];
  return {
    in_shape: inShape,
    n_neurons_dict: { ...o.nNeuronsDict },
    hidden_channels: null,
    core: {
      _target_: 'openretina.modules.core.base_core.SimpleCoreWrapper',
      channels: [inShape[0], ...o.hiddenChannels],
      temporal_kernel_sizes: [...o.temporalKernelSizes],
      spatial_kernel_sizes: [...o.spatialKernelSizes],
      gamma_input: o.coreGammaInput ?? 0,
      gamma_temporal: o.coreGammaTemporal ?? 40,
      gamma_in_sparse: o.coreGammaInSparse ?? 0,
      gamma_hidden: o.coreGammaHidden ?? 0,
      cut_first_n_frames: o.cutFirstNFramesInCore ?? 30,
      dropout_rate: o.dropoutRate ?? 0,
      maxpool_every_n_layers: o.maxpoolEveryNLayers ?? null,
      downsample_input_kernel_size: o.downsampleInputKernelSize ?? null,
      input_padding: o.coreInputPadding ?? false,
      color_squashing_weights: o.colorSquashingWeights ?? null,
      hidden_padding: o.coreHiddenPadding ?? true,
      convolution_type: o.convolutionType ?? 'custom_separable',
    },
    readout: {
      _target_: 'openretina.modules.readout.multi_readout.MultiGaussianMaskReadout',
      scale: o.readoutScale ?? true,
      bias: o.readoutBias ?? true,
      gaussian_mean_scale: o.readoutGaussianMeanScale ?? 6,
      gaussian_var_scale: o.readoutGaussianVarScale ?? 4,
      positive: o.readoutPositive ?? true,
      mask_l1_reg: o.readoutGamma ?? 0.4,
      feature_weights_l1_reg: o.readoutGammaMasks ?? 0,
      readout_reg_avg: o.readoutRegAvg ?? false,
    },
    learning_rate: o.learningRate ?? 0.01,
  };
}

/**
 * OpenRetina's `ExampleCoreReadout`: the reference core-readout class built from flat arguments instead of Hydra
 * configs, and the class of the paper's default published model (`hoefling_2024_base_low_res`). A `CoreReadout` of
 * a `SimpleCoreWrapper` and a `MultiGaussianMaskReadout` (see {@link exampleCoreReadoutConfig} for the mapping and
 * its positional quirk); like OpenRetina, the readout biases do not start from the data info's mean activity.
 */
export class ExampleCoreReadout extends CoreReadout {
  /** The equivalent `UnifiedCoreReadout` architecture (what an exported checkpoint records). */
  readonly architecture: CoreReadoutConfig;

  constructor(options: ExampleCoreReadoutOptions) {
    const architecture = exampleCoreReadoutConfig(options);
    super(coreReadoutParts(architecture, { dataInfo: options.dataInfo, seed: options.seed, meanActivity: false }));
    this.architecture = architecture;
  }

  /** Builds the model from a checkpoint's flat hyper-parameters (see {@link exampleCoreReadoutOptions}). */
  static fromHyperParameters(
    hp: Readonly<Record<string, unknown>>,
    options: { dataInfo?: DataInfo | undefined; seed?: number } = {},
  ): ExampleCoreReadout {
    return new ExampleCoreReadout({ ...exampleCoreReadoutOptions(hp), ...options });
  }

  /**
   * OpenRetina's `on_load_checkpoint`: legacy checkpoints name the readout biases `readout.<session>.bias_param`;
   * returns the state dict with them renamed to `.bias` (order kept), and the renamed keys.
   */
  static renameLegacyKeys(stateDict: StateDict): { stateDict: StateDict; renamed: string[] } {
    const out: StateDict = new Map();
    const renamed: string[] = [];
    for (const [key, value] of stateDict) {
      if (key.startsWith('readout.') && key.endsWith('.bias_param')) {
        renamed.push(key);
        out.set(`${key.slice(0, -'.bias_param'.length)}.bias`, value);
      } else out.set(key, value);
    }
    return { stateDict: out, renamed };
  }
}
