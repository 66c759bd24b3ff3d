export {
  ErrorCodes,
  OpenRetinaError,
  ShapeError,
  UnknownSessionError,
  StateDictError,
  ConfigError,
  FileFormatError,
  DataError,
  BackendError,
  DownloadError,
  UnsupportedError,
  isOpenRetinaError,
  formatShape,
} from './errors.js';
export type { ErrorCode, OpenRetinaErrorOptions } from './errors.js';
export type {
  StateDtype,
  StateArray,
  StateTensor,
  StateDict,
  LoadStateDictOptions,
  LoadStateDictResult,
} from './state-dict.js';
export type {
  Movie,
  Responses,
  FrameReader,
  LazyMovie,
  LazyResponses,
  TrialResponses,
  MovieSplit,
  ResponseSplit,
  DataInfo,
  SessionBatch,
} from './data.js';
export { SPECIFICATION_VERSION } from './modules.js';
export type {
  SpecificationVersion,
  StatefulModule,
  Regularized,
  Core,
  Readout,
  MultiReadout,
  StimulusSpec,
  ResponseModel,
  DifferentiableResponseModel,
} from './modules.js';
export type { ModelCard, ModelMetadata } from './model-card.js';
export type { LossParts, TrainableModel } from './training.js';
export type { ComputeEngine, LossAndGradients, InputGradient, InputGradientValues } from './engine.js';
