import type { z } from 'zod';
import { ConfigError, type Core, type DataInfo, type MultiReadout, type TrainableModel } from '@openretina/contracts';
import type { BuildContext, LossBuildContext, ModelBuildContext } from './build-context.js';
import { registerBuiltinCores } from './builtin-cores.js';
import { registerBuiltinLosses } from './builtin-losses.js';
import { registerBuiltinModels } from './builtin-models.js';
import { registerBuiltinReadouts } from './builtin-readouts.js';
import { ComponentRegistry } from './component-registry.js';
import type { CamelCaseOptions } from './config-schema.js';
import { CoreReadout, type CoreReadoutOptions, type ModelLoss } from './core-readout.js';
// ExampleCoreReadout imports this module; its class is only used when a model is built, after both are loaded
import { ExampleCoreReadout } from './example-core-readout.js';
import { EXAMPLE_CORE_READOUT_TARGET, exampleCoreReadoutSchema } from './example-core-readout-schema.js';
import { MISSING } from './option-schemas.js';

/** A plain config object with OpenRetina's (snake_case) keys, optionally with a Hydra `_target_`. */
export type ConfigObject = Record<string, unknown>;

const cores = new ComponentRegistry<BuildContext, Core>('core', 'openretina.modules.core.base_core.SimpleCoreWrapper');
const readouts = new ComponentRegistry<BuildContext, MultiReadout>(
  'readout',
  'openretina.modules.readout.multi_readout.MultiGaussianMaskReadout',
);
const losses = new ComponentRegistry<LossBuildContext, ModelLoss>('loss');
const models = new ComponentRegistry<ModelBuildContext, TrainableModel>('model');
registerBuiltinCores(cores);
registerBuiltinReadouts(readouts);
registerBuiltinLosses(losses);
registerBuiltinModels(models);
models.register(EXAMPLE_CORE_READOUT_TARGET, exampleCoreReadoutSchema, ({ nNeuronsDict, ...options }, ctx) => {
  const neurons = nNeuronsDict === undefined || nNeuronsDict === MISSING ? (ctx.nNeuronsDict ?? ctx.dataInfo?.nNeuronsDict) : nNeuronsDict;
  if (!neurons) throw new ConfigError('model: ExampleCoreReadout needs n_neurons_dict (from the data).');
  return new ExampleCoreReadout({
    ...options,
    nNeuronsDict: neurons,
    dataInfo: ctx.dataInfo,
    ...(ctx.seed === undefined ? {} : { seed: ctx.seed }),
  });
});

/**
 * Registers a core class under an OpenRetina `_target_` path (also reachable by its short class name). `schema`
 * is a zod object of the section's snake_case keys (`_target_`, `_convert_` and `_partial_` are added); unknown keys
 * are refused. The factory gets the validated section with camelCase keys, and returns any contracts `Core`.
 */
export function registerCore<S extends z.ZodObject>(
  target: string,
  schema: S,
  factory: (options: CamelCaseOptions<z.output<S>>, context: BuildContext) => Core,
  aliases: readonly string[] = [],
): void {
  cores.register(target, schema, factory, aliases);
}

/** Registers a multi-session readout class (as {@link registerCore}); the factory returns a contracts `MultiReadout`. */
export function registerReadout<S extends z.ZodObject>(
  target: string,
  schema: S,
  factory: (options: CamelCaseOptions<z.output<S>>, context: BuildContext) => MultiReadout,
  aliases: readonly string[] = [],
): void {
  readouts.register(target, schema, factory, aliases);
}

/** Registers a loss class for `model.loss` / `model.evaluation_loss` sections. */
export function registerLoss<S extends z.ZodObject>(
  target: string,
  schema: S,
  factory: (options: CamelCaseOptions<z.output<S>>, context: LossBuildContext) => ModelLoss,
  aliases: readonly string[] = [],
): void {
  losses.register(target, schema, factory, aliases);
}

/** Registers a model class that a `model` section names with its own `_target_` (e.g. the single-cell models). */
export function registerModel<S extends z.ZodObject>(
  target: string,
  schema: S,
  factory: (options: CamelCaseOptions<z.output<S>>, context: ModelBuildContext) => TrainableModel,
  aliases: readonly string[] = [],
): void {
  models.register(target, schema, factory, aliases);
}

/** Schemas (discriminated unions on `_target_`) of every registered core, readout, loss and model section. */
export function coreSchema(): z.ZodType<ConfigObject> {
  return cores.schema();
}
export function readoutSchema(): z.ZodType<ConfigObject> {
  return readouts.schema();
}
export function lossSchema(): z.ZodType<ConfigObject> {
  return losses.schema();
}
export function modelSchema(): z.ZodType<ConfigObject> {
  return models.schema();
}

/** The registered `_target_`s of each kind. */
export function registeredTargets(): { cores: string[]; readouts: string[]; losses: string[]; models: string[] } {
  return { cores: cores.targets(), readouts: readouts.targets(), losses: losses.targets(), models: models.targets() };
}

/** Builds a core from an OpenRetina core section (`_target_` selects the class; SimpleCoreWrapper by default). */
export function buildCore(config: ConfigObject, context: BuildContext, what = 'core'): Core {
  return cores.build(config, context, what);
}

/** Builds a multi-session readout from an OpenRetina readout section (MultiGaussianMaskReadout by default). */
export function buildReadout(config: ConfigObject, context: BuildContext, what = 'readout'): MultiReadout {
  return readouts.build(config, context, what);
}

/** A loss from a `model.loss` / `model.evaluation_loss` section (`_target_` + OpenRetina's arguments). */
export function buildLoss(config: ConfigObject, context: LossBuildContext = {}, what = 'loss'): ModelLoss {
  return losses.build(config, context, what);
}

/** A model from a `model` section that names its class with `_target_` (OpenRetina's `hydra.utils.instantiate`). */
export function buildModel(config: ConfigObject, context: ModelBuildContext = {}, what = 'model'): TrainableModel {
  return models.build(config, context, what);
}

function numberList(v: unknown, what: string, length?: number): number[] {
  if (
    !Array.isArray(v) ||
    !v.every((x): x is number => typeof x === 'number' && Number.isFinite(x)) ||
    (length !== undefined && v.length !== length)
  ) {
    const hint = v === MISSING ? ' (it is ???: set it in the experiment config)' : '';
    throw new ConfigError(
      `${what} must be ${length === undefined ? 'a list' : `a list of ${length}`} of numbers, got ${JSON.stringify(v)}${hint}.`,
    );
  }
  return v;
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
 * channels, the readout's `in_shape` comes from the core's output shape when missing (or `???`), and the readout
 * biases start from the data info's mean activity.
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
  const [c, t, h, w] = numberList(config.in_shape, 'in_shape', 4);
  const inShape: [number, number, number, number] = [c!, t!, h!, w!];
  const nNeuronsDict = config.n_neurons_dict;
  if (!nNeuronsDict || typeof nNeuronsDict !== 'object') throw new ConfigError('n_neurons_dict must map session names to neuron counts.');
  const coreConfig: ConfigObject = { ...config.core };
  if (config.hidden_channels != null) coreConfig.channels = [inShape[0], ...numberList(config.hidden_channels, 'hidden_channels')];
  const context: BuildContext = {
    inShape,
    nNeuronsDict,
    meanActivityDict: options.meanActivity === false ? undefined : options.dataInfo?.meanActivityDict,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  };
  const core = buildCore(coreConfig, context, 'core');
  try {
    const readoutConfig: ConfigObject = { ...config.readout };
    if (readoutConfig.in_shape == null || readoutConfig.in_shape === MISSING) {
      const [ot, oh, ow, oc] = core.outputShape([inShape[1], inShape[2], inShape[3], inShape[0]]);
      readoutConfig.in_shape = [oc, ot, oh, ow];
    }
    const readout = buildReadout(readoutConfig, context, 'readout');
    return {
      core,
      readout,
      inputShape: [inShape[0], inShape[2], inShape[3]],
      dataInfo: options.dataInfo,
      ...(typeof config.learning_rate === 'number' ? { learningRate: config.learning_rate } : {}),
    };
  } catch (e) {
    core.dispose();
    throw e;
  }
}
