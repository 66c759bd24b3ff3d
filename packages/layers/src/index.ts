// TF.js gradients (tfjs-core registers none by itself): resolved per runtime through package.json's `imports`.
import '#register-gradients';

export { Module } from './module.js';
export { Rng, toRng, xavierNormal } from './random.js';
export type { RngState } from './random.js';
export { assertFinite, firstNonFinite } from './finite.js';
export { hostMemoryBackend, readFloats, readFloatsSync, sameValues, tensorFromHost } from './host-values.js';
export { StateRecord, floatStateVariables, readState, readStateSync } from './state-record.js';
export type { StateReading } from './state-record.js';
export { HostCopies } from './host-copies.js';
export type { HostCopy } from './host-copies.js';
export { resolvePadding3d, temporalDepthwise } from './conv-utils.js';
export type { PadPair, Padding3d } from './conv-utils.js';
export { SpaceTimeSeparableConv3d, temporalBasis } from './separable-conv.js';
export type { SpaceTimeConvOptions } from './separable-conv.js';
export { BatchNorm3d } from './batch-norm.js';
export type { BatchNormOptions } from './batch-norm.js';
export { Bias3d, Scale2d, Scale3d } from './scaling.js';
export {
  LAPLACE_1D,
  LAPLACE_3x3,
  LAPLACE_5x5,
  LAPLACE_7x7,
  REGULARIZER_EPS,
  Laplace,
  Laplace1d,
  FlatLaplaceL23dnorm,
  TimeLaplaceL23dnorm,
  LaplaceL2norm,
  GaussianLaplaceL2,
  gaussian2d,
  temporalSmoothing,
  groupSparsity,
} from './regularizers.js';
export {
  poissonLoss,
  l1PoissonLoss,
  celltypeWeights,
  celltypePoissonLoss,
  clipCorrelations,
  correlationLoss,
  mseLoss,
} from './losses.js';
export type { LossReduction } from './losses.js';
export { createConvolution, registerConvolutionType } from './conv-factory.js';
export type { ConvolutionType, SpaceTimeConv } from './conv-factory.js';
export { toChannelsLast, toChannelsFirst, channelsFirstToLast } from './layout.js';
export { WeightedChannelSum } from './channel-sum.js';
export { torchAbs } from './abs.js';
export { ConvParams, Linear } from './torch-layers.js';
export type { TorchInit } from './torch-layers.js';
export { TorchSeparableConv3d, FullConv3d, TimeIndependentConv3d } from './space-time-convs.js';
export { FiLM } from './film.js';
export { Ensemble, ModuleList } from './ensemble.js';
export type { ForwardModule } from './ensemble.js';
export { ConvGRUCell, GRUModule } from './gru.js';
export type { ConvGRUOptions } from './gru.js';
export { ParametrizedELU, ParametrizedSoftplus, torchSoftplus } from './nonlinearities.js';
export { l1CorrelationLoss, scaledCorrelationLoss, celltypeCorrelationLoss } from './losses-extra.js';
export type { CorrelationLossOptions } from './losses-extra.js';
