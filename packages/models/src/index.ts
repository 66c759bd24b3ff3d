export { CoreReadout } from './core-readout.js';
export type { CoreReadoutOptions } from './core-readout.js';
export {
  ExampleCoreReadout,
  exampleCoreReadoutConfig,
  exampleCoreReadoutOptions,
  isExampleCoreReadoutHyperParameters,
} from './example-core-readout.js';
export type { ExampleCoreReadoutOptions } from './example-core-readout.js';
export { TfjsEngine } from './tfjs-engine.js';
export {
  buildCore,
  buildReadout,
  buildLoss,
  buildModel,
  buildCoreReadout,
  registerCore,
  registerReadout,
  registerLoss,
  registerModel,
  coreSchema,
  readoutSchema,
  lossSchema,
  modelSchema,
  registeredTargets,
} from './registry.js';
export type { ConfigObject, CoreReadoutConfig } from './registry.js';
export type { BuildContext, LossBuildContext, ModelBuildContext, StaFilterLoader, StaFilters } from './build-context.js';
export { camelCaseOptions, describeIssues, hydraKeys, parseConfig, snakeToCamel } from './config-schema.js';
export type { CamelCaseOptions, SnakeToCamel } from './config-schema.js';
export { SingleCellSeparatedLNP } from './linear-nonlinear.js';
export type { SingleCellSeparatedLNPOptions, LnNonlinearity } from './linear-nonlinear.js';
export { SingleCellSpatialContrast, SpatialContrastCoreReadout, cropBounds } from './spatial-contrast.js';
export type { SingleCellSpatialContrastOptions, SpatialContrastCoreReadoutOptions, FilterInit } from './spatial-contrast.js';
export { SparsityMSELoss, Autoencoder, AutoencoderWithModel } from './sparse-autoencoder.js';
export type { AutoencoderOptions, AutoencoderStepParts } from './sparse-autoencoder.js';
export { EnsembleModel } from './ensemble.js';
export { ResponseModelEnsemble } from './response-model-ensemble.js';
export type { EnsembleMember } from './ensemble.js';
export {
  ParametricFactorizedBatchConv3dCore,
  LegacyCoreLayer,
  LegacyScale2d,
  SpatialXFeature3d,
  SpatialXFeature3dReadout,
  LegacyEncoder,
  buildLegacyHoeflingModel,
} from './legacy-hoefling.js';
export type {
  ParametricFactorizedBatchConv3dCoreOptions,
  SpatialXFeature3dOptions,
  SpatialXFeature3dReadoutOptions,
  LegacySessionInfo,
  LegacyDataInfo,
  LegacyModelConfig,
} from './legacy-hoefling.js';
export { DEFAULT_LOSS, DEFAULT_EVALUATION_LOSS, applyModelLoss, isDefaultPoissonLoss, lossClassName } from './core-readout.js';
export type { ModelLoss } from './core-readout.js';
