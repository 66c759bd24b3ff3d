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
export { isModelCausal } from './causality.js';
export type { CausalityCheckOptions } from './causality.js';
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
export { camelCaseOptions, describeIssues, hydraKeys, parseConfig } from './config-schema.js';
export type { CamelCaseOptions } from './config-schema.js';
export { SingleCellSeparatedLNP } from './linear-nonlinear.js';
export type { SingleCellSeparatedLNPOptions, LnNonlinearity } from './linear-nonlinear.js';
export { SingleCellSpatialContrast, SpatialContrastCoreReadout, cropBounds } from './spatial-contrast.js';
export type { SingleCellSpatialContrastOptions, SpatialContrastCoreReadoutOptions, FilterInit } from './spatial-contrast.js';
export { SparsityMSELoss, Autoencoder, AutoencoderWithModel } from './sparse-autoencoder.js';
export type { AutoencoderOptions, AutoencoderStepParts } from './sparse-autoencoder.js';
export { EnsembleModel } from './ensemble.js';
export { ResponseModelEnsemble } from './response-model-ensemble.js';
export type { EnsembleMember } from './ensemble.js';
export { ParametricFactorizedBatchConv3dCore } from './legacy/core.js';
export type { ParametricFactorizedBatchConv3dCoreOptions } from './legacy/core.js';
export { LegacyCoreLayer } from './legacy/core-layer.js';
export { LegacyScale2d } from './legacy/scale2d.js';
export { SpatialXFeature3d } from './legacy/readout.js';
export type { SpatialXFeature3dOptions } from './legacy/readout.js';
export { SpatialXFeature3dReadout } from './legacy/multi-readout.js';
export type { SpatialXFeature3dReadoutOptions } from './legacy/multi-readout.js';
export { LegacyEncoder } from './legacy/encoder.js';
export { buildLegacyHoeflingModel } from './legacy/build.js';
export type { LegacySessionInfo, LegacyDataInfo } from './legacy/build.js';
export type { LegacyModelConfig } from './legacy/model-config.js';
export { DEFAULT_LOSS, DEFAULT_EVALUATION_LOSS, applyModelLoss, isDefaultPoissonLoss, lossClassName } from './core-readout.js';
export type { ModelLoss } from './core-readout.js';
