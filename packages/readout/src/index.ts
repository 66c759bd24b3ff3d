export { ReadoutBase, reduceBy } from './readout-base.js';
export type { ReadoutInShape } from './readout-base.js';
export { GaussianMaskReadout, makeMaskGrid, applyNonlinearity } from './gaussian-mask.js';
export type { GaussianMaskReadoutOptions, Nonlinearity } from './gaussian-mask.js';
export { MultiReadoutBase } from './multi-readout.js';
export type { MultiReadoutOptions, ReadoutFactory } from './multi-readout.js';
export { MultiGaussianMaskReadout } from './multi-gaussian-mask.js';
export type { MultiGaussianMaskReadoutOptions } from './multi-gaussian-mask.js';
export { bilinearSamplingMatrix } from './grid-sample.js';
export { PointGaussianReadout, FullGaussian2d } from './point-gaussian.js';
export type {
  GaussType,
  PointGaussianReadoutOptions,
  PointGaussianForwardOptions,
  SharedFeaturesOptions,
  SharedGridOptions,
} from './point-gaussian.js';
export type { GridMeanPredictorOptions } from './grid-mean-predictor.js';
export { FactorizedReadout, KlindtReadoutWrapper3D } from './factorized.js';
export type { FactorizedReadoutOptions, FactorizedWeightsConstraint, FactorizedMaskConstraint, TensorInit } from './factorized.js';
export { LNPReadout, InnerProductKernel } from './lnp.js';
export type { LNPReadoutOptions, LnpNonlinearity } from './lnp.js';
export { SpatialContrastReadout, MultiSpatialContrastReadout } from './spatial-contrast.js';
export type { SpatialContrastReadoutOptions, MultiSpatialContrastReadoutOptions } from './spatial-contrast.js';
export { ClonedReadout } from './cloned.js';
export { MultiFactorizedReadout, MultiSampledGaussianReadout, MultipleLNPReadout } from './multi-readouts.js';
export type {
  MultiFactorizedReadoutOptions,
  MultiSampledGaussianReadoutOptions,
  MultipleLNPReadoutOptions,
} from './multi-readouts.js';
export type { CloneFactory } from './multi-readout.js';
