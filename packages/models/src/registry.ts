import { ConfigError, UnsupportedError, type Core, type DataInfo, type MultiReadout } from '@openretina/contracts';
import { ConditionedGRUCore, ConvGRUCore, DummyCore, SimpleCoreWrapper } from '@openretina/core';
import { MultiFactorizedReadout, MultiGaussianMaskReadout, MultiSampledGaussianReadout, MultipleLNPReadout } from '@openretina/readout';
import { CoreReadout, type CoreReadoutOptions } from './core-readout.js';

/** A plain config object with OpenRetina's (snake_case) keys, optionally with a Hydra `_target_`. */
export type ConfigObject = Record<string, unknown>;

/** What a core or readout factory receives besides its own config. */
export interface BuildContext {
  /** `[C, T, H, W]` of the model input (OpenRetina's `in_shape`). */
  inShape: readonly [number, number, number, number];
  nNeuronsDict: Readonly<Record<string, number>>;
  meanActivityDict?: Readonly<Record<string, Float32Array>> | undefined;
  seed?: number;
}

/** Builds a core from its options: any object satisfying the contracts' `Core` (no base class of ours needed). */
type CoreFactory = (options: Record<string, unknown>, context: BuildContext) => Core;
/** Builds a multi-session readout from its options: any object satisfying the contracts' `MultiReadout`. */
type ReadoutFactory = (options: Record<string, unknown>, context: BuildContext) => MultiReadout;

interface Entry<F> {
  /** Accepted option names (camelCase); anything else is an error, so typos never pass silently. */
  keys: readonly string[];
  create: F;
}

const coreRegistry = new Map<string, Entry<CoreFactory>>();
const readoutRegistry = new Map<string, Entry<ReadoutFactory>>();

/** Short name → registry key, so configs may say `SimpleCoreWrapper` as well as the full class path. */
function shortName(target: string): string {
  return target.split('.').pop() ?? target;
}

/** Registers a core class under an OpenRetina `_target_` path (also reachable by its short class name). */
export function registerCore(target: string, keys: readonly string[], create: CoreFactory): void {
  coreRegistry.set(target, { keys, create });
  coreRegistry.set(shortName(target), { keys, create });
}

/** Registers a multi-session readout class under an OpenRetina `_target_` path. */
export function registerReadout(target: string, keys: readonly string[], create: ReadoutFactory): void {
  readoutRegistry.set(target, { keys, create });
  readoutRegistry.set(shortName(target), { keys, create });
}

/** `temporal_kernel_sizes` → `temporalKernelSizes`. */
export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Converts an OpenRetina config section to our option names, dropping Hydra's `_target_`/`_convert_`/... keys. */
export function toOptions(config: ConfigObject, allowed: readonly string[], what: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (key.startsWith('_')) continue;
    const camel = snakeToCamel(key);
    if (!allowed.includes(camel)) unknown.push(key);
    else out[camel] = value;
  }
  if (unknown.length) {
    throw new ConfigError(`${what}: unknown option(s) ${unknown.join(', ')}. Accepted: ${allowed.join(', ')}.`, {
      details: { unknown, allowed },
    });
  }
  return out;
}

function lookup<F>(registry: Map<string, Entry<F>>, config: ConfigObject, kind: string, fallback: string): [string, Entry<F>] {
  const target = typeof config._target_ === 'string' ? config._target_ : fallback;
  const entry = registry.get(target);
  if (!entry) {
    const known = [...registry.keys()].filter((k) => k.includes('.'));
    throw new ConfigError(`Unknown ${kind} _target_ "${target}". Known: ${known.join(', ')}.`);
  }
  return [target, entry];
}

/** Builds a core from an OpenRetina core config (`_target_` selects the class; SimpleCoreWrapper by default). */
export function buildCore(config: ConfigObject, context: BuildContext): Core {
  const [target, entry] = lookup(coreRegistry, config, 'core', 'openretina.modules.core.base_core.SimpleCoreWrapper');
  return entry.create(toOptions(config, entry.keys, target), context);
}

/** Builds a multi-session readout from an OpenRetina readout config (MultiGaussianMaskReadout by default). */
export function buildReadout(config: ConfigObject, context: BuildContext): MultiReadout {
  const [target, entry] = lookup(readoutRegistry, config, 'readout', 'openretina.modules.readout.multi_readout.MultiGaussianMaskReadout');
  return entry.create(toOptions(config, entry.keys, target), context);
}

function asNumberArray(v: unknown, what: string, length?: number): number[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x)) || (length !== undefined && v.length !== length)) {
    throw new ConfigError(
      `${what} must be ${length === undefined ? 'a list' : `a list of ${length}`} of numbers, got ${JSON.stringify(v)}.`,
    );
  }
  return v as number[];
}

/**
 * The architecture of a core-readout model in OpenRetina's config keys (the `model` section of a Hydra
 * experiment, or `hyper_parameters` of a checkpoint).
 */
export interface CoreReadoutConfig extends ConfigObject {
  in_shape: readonly number[];
  n_neurons_dict: Readonly<Record<string, number>>;
  hidden_channels?: readonly number[] | null;
  core: ConfigObject;
  readout: ConfigObject;
  learning_rate?: number;
}

/**
 * Builds a `CoreReadout` the way OpenRetina's `UnifiedCoreReadout` does: `hidden_channels` fills the core's
 * channels, the readout's `in_shape` comes from the core's output shape when missing, and the readout biases
 * start from the data info's mean activity.
 */
export function buildCoreReadout(config: CoreReadoutConfig, options: { dataInfo?: DataInfo; seed?: number } = {}): CoreReadout {
  return new CoreReadout(coreReadoutParts(config, options));
}

/**
 * The core, readout and options of a `CoreReadout` built from `config` (see {@link buildCoreReadout}); with
 * `meanActivity: false` the readout biases do not start from the data info's mean activity (OpenRetina's
 * `ExampleCoreReadout` does not pass it). Package-internal: subclasses hand it to `CoreReadout`'s constructor.
 */
export function coreReadoutParts(
  config: CoreReadoutConfig,
  options: { dataInfo?: DataInfo | undefined; seed?: number | undefined; meanActivity?: boolean },
): CoreReadoutOptions {
  const inShape = asNumberArray(config.in_shape, 'in_shape', 4) as [number, number, number, number];
  if (!config.n_neurons_dict || typeof config.n_neurons_dict !== 'object') {
    throw new ConfigError('n_neurons_dict must map session names to neuron counts.');
  }
  const nNeuronsDict = config.n_neurons_dict;
  const coreConfig: ConfigObject = { ...config.core };
  if (config.hidden_channels != null) {
    coreConfig.channels = [inShape[0], ...asNumberArray(config.hidden_channels, 'hidden_channels')];
  }
  const context: BuildContext = {
    inShape,
    nNeuronsDict,
    meanActivityDict: options.meanActivity === false ? undefined : options.dataInfo?.meanActivityDict,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  };
  const core = buildCore(coreConfig, context);
  try {
    const readoutConfig: ConfigObject = { ...config.readout };
    if (readoutConfig.in_shape == null) {
      const [t, h, w, c] = core.outputShape([inShape[1], inShape[2], inShape[3], inShape[0]]);
      readoutConfig.in_shape = [c, t, h, w];
    }
    const readout = buildReadout(readoutConfig, context);
    return {
      core,
      readout,
      inputShape: [inShape[0], inShape[2], inShape[3]],
      dataInfo: options.dataInfo,
      ...(typeof config.learning_rate === 'number' ? { learningRate: config.learning_rate } : {}),
    };
  } catch (error) {
    core.dispose(); // a bad readout config must not leak the core's variables
    throw error;
  }
}

// Built-in classes. Other packages and third parties register theirs with registerCore / registerReadout.
registerCore(
  'openretina.modules.core.base_core.SimpleCoreWrapper',
  [
    'channels',
    'temporalKernelSizes',
    'spatialKernelSizes',
    'gammaInput',
    'gammaTemporal',
    'gammaInSparse',
    'gammaHidden',
    'dropoutRate',
    'cutFirstNFrames',
    'maxpoolEveryNLayers',
    'downsampleInputKernelSize',
    'inputPadding',
    'hiddenPadding',
    'colorSquashingWeights',
    'convolutionType',
    'nNeuronsDict',
  ],
  (o, ctx) => {
    const { nNeuronsDict: _ignored, ...rest } = o;
    return new SimpleCoreWrapper({
      ...(rest as unknown as ConstructorParameters<typeof SimpleCoreWrapper>[0]),
      ...(ctx.seed === undefined ? {} : { seed: ctx.seed }),
    });
  },
);
registerCore('openretina.modules.core.base_core.DummyCore', ['cutFirstNFrames', 'nNeuronsDict', 'colorSquashingWeights'], (o, ctx) => {
  if (o.colorSquashingWeights != null) throw new ConfigError('DummyCore does not support color_squashing_weights.');
  const cut = o.cutFirstNFrames as number | null | undefined;
  return new DummyCore(ctx.inShape[0], { cutFirstNFrames: cut ?? 0 });
});
registerReadout(
  'openretina.modules.readout.multi_readout.MultiGaussianMaskReadout',
  [
    'inShape',
    'nNeuronsDict',
    'meanActivityDict',
    'scale',
    'bias',
    'gaussianMeanScale',
    'gaussianVarScale',
    'positive',
    'maskL1Reg',
    'featureWeightsL1Reg',
    'readoutRegAvg',
  ],
  (o, ctx) =>
    new MultiGaussianMaskReadout({
      ...(o as unknown as ConstructorParameters<typeof MultiGaussianMaskReadout>[0]),
      inShape: asNumberArray(o.inShape, 'readout.in_shape', 4) as [number, number, number, number],
      nNeuronsDict: ctx.nNeuronsDict,
      meanActivityDict: ctx.meanActivityDict,
      ...(ctx.seed === undefined ? {} : { seed: ctx.seed + 1 }),
    }),
);

/** Options OpenRetina accepts that we do not port: allowed only when null (their default). */
function withoutNullOnly(o: Record<string, unknown>, keys: readonly string[], what: string): Record<string, unknown> {
  const out = { ...o };
  for (const k of keys) {
    if (out[k] != null) throw new UnsupportedError(`${what}: option "${k}" is not supported by @openretina (it must be null).`);
    delete out[k];
  }
  return out;
}

function readoutCommon(o: Record<string, unknown>, ctx: BuildContext, what: string) {
  return {
    inShape: asNumberArray(o.inShape, `${what}.in_shape`, 4) as [number, number, number, number],
    nNeuronsDict: ctx.nNeuronsDict,
    meanActivityDict: ctx.meanActivityDict,
    ...(ctx.seed === undefined ? {} : { seed: ctx.seed + 1 }),
  };
}

registerReadout(
  'openretina.modules.readout.multi_readout.MultiFactorizedReadout',
  [
    'inShape',
    'nNeuronsDict',
    'meanActivityDict',
    'maskL1Reg',
    'weightsL1Reg',
    'laplaceMaskReg',
    'readoutBias',
    'weightsConstraint',
    'maskConstraint',
    'initMask',
    'initWeights',
    'initScales',
    'readoutRegAvg',
    'cloneReadout',
  ],
  (o, ctx) =>
    new MultiFactorizedReadout({
      ...(o as unknown as ConstructorParameters<typeof MultiFactorizedReadout>[0]),
      ...readoutCommon(o, ctx, 'MultiFactorizedReadout'),
    }),
);
registerReadout(
  'openretina.modules.readout.multi_readout.MultiSampledGaussianReadout',
  [
    'inShape',
    'nNeuronsDict',
    'meanActivityDict',
    'bias',
    'initMuRange',
    'initSigmaRange',
    'batchSample',
    'alignCorners',
    'gaussType',
    'gamma',
    'regAvg',
    'readoutRegAvg',
    'cloneReadout',
    'gridMeanPredictor',
    'sharedFeatures',
    'sharedGrid',
    'initGrid',
  ],
  (o, ctx) => {
    const rest = withoutNullOnly(o, ['gridMeanPredictor', 'sharedFeatures', 'sharedGrid', 'initGrid'], 'MultiSampledGaussianReadout');
    return new MultiSampledGaussianReadout({
      ...(rest as unknown as ConstructorParameters<typeof MultiSampledGaussianReadout>[0]),
      ...readoutCommon(o, ctx, 'MultiSampledGaussianReadout'),
    });
  },
);
registerReadout(
  'openretina.modules.readout.multi_readout.MultipleLNPReadout',
  [
    'inShape',
    'nNeuronsDict',
    'meanActivityDict',
    'smoothWeight',
    'sparseWeight',
    'smoothRegularizer',
    'laplacePadding',
    'nonlinearity',
    'bias',
    'readoutRegAvg',
    'cloneReadout',
  ],
  (o, ctx) =>
    new MultipleLNPReadout({
      ...(o as unknown as ConstructorParameters<typeof MultipleLNPReadout>[0]),
      ...readoutCommon(o, ctx, 'MultipleLNPReadout'),
    }),
);

const GRU_CORE_KEYS = [
  'channels',
  'nNeuronsDict',
  'temporalKernelSizes',
  'spatialKernelSizes',
  'gammaHidden',
  'gammaInput',
  'gammaInSparse',
  'gammaTemporal',
  'finalNonlinearity',
  'bias',
  'inputPadding',
  'hiddenPadding',
  'batchNorm',
  'batchNormScale',
  'batchNormMomentum',
  'laplacePadding',
  'batchAdaptation',
  'useAvgReg',
  'nonlinearity',
  'convolutionType',
  'useGru',
  'useProjections',
  'gruKwargs',
] as const;

/** `gru_kwargs` keeps OpenRetina's snake_case keys in configs; our GRU options are camelCase. */
function gruCoreOptions(o: Record<string, unknown>, ctx: BuildContext): Record<string, unknown> {
  const gru = o.gruKwargs;
  return {
    ...o,
    nNeuronsDict: ctx.nNeuronsDict,
    ...(gru && typeof gru === 'object'
      ? {
          gruKwargs: toOptions(
            gru as ConfigObject,
            ['recChannels', 'inputKern', 'recKern', 'groups', 'gammaRec', 'padInput'],
            'gru_kwargs',
          ),
        }
      : {}),
    ...(ctx.seed === undefined ? {} : { seed: ctx.seed }),
  };
}

registerCore(
  'openretina.modules.core.gru_core.ConvGRUCore',
  GRU_CORE_KEYS,
  (o, ctx) => new ConvGRUCore(gruCoreOptions(o, ctx) as unknown as ConstructorParameters<typeof ConvGRUCore>[0]),
);
registerCore(
  'openretina.modules.core.gru_core.ConditionedGRUCore',
  [...GRU_CORE_KEYS, 'condDim'],
  (o, ctx) => new ConditionedGRUCore(gruCoreOptions(o, ctx) as unknown as ConstructorParameters<typeof ConditionedGRUCore>[0]),
);
