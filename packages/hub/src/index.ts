// Browser-safe entry of @openretina/hub: OpenRetina checkpoint reading (torch zip archives through
// @openretina/formats' safe pickle reader), our checkpoint format in memory, ONNX export and the published-model
// registry. File system, downloads and onnxruntime-node are in '@openretina/hub/node'.
export const PACKAGE_NAME = '@openretina/hub';

export { readTorchArchive } from './torch-archive.js';
export {
  readOpenRetinaCheckpoint,
  modelFromCheckpoint,
  coreReadoutFromCheckpointBytes,
  architectureFromHyperParameters,
  dataInfoFromOpenRetina,
  dataInfoToOpenRetina,
} from './openretina-checkpoint.js';
export type { OpenRetinaCheckpoint, ModelFromCheckpointOptions } from './openretina-checkpoint.js';
export { rememberArchitecture, architectureOf, buildRemembered } from './architecture.js';
export {
  WEIGHTS_FILE,
  CARD_FILE,
  MODEL_CARD_FORMAT,
  createModelCard,
  checkpointToBytes,
  checkpointFromBytes,
  parseModelCard,
  canonicalJson,
  sha256Hex,
} from './model-card.js';
export type { CheckpointMeta } from './model-card.js';
export { exportOnnx, readOnnxInfo, ONNX_OPSET, ONNX_INPUT, ONNX_OUTPUT, ONNX_META } from './onnx-export.js';
export type { ExportOnnxOptions } from './onnx-export.js';
export { OnnxResponseModel } from './onnx-model.js';
export type { OnnxModelOptions, OrtLike, OrtSessionLike, OrtTensorLike } from './onnx-model.js';
export {
  HF_REPO,
  MODEL_CHECKPOINTS_FOLDER,
  MODEL_CHECKPOINTS_BASE_URL,
  PUBLISHED_MODELS,
  isPublishedModel,
  publishedModelRepoPath,
  publishedModelUrl,
} from './registry.js';
export type { PublishedModelName } from './registry.js';
export { EngineGraph } from './engine/graph-builder.js';
export { buildEngineGraph, enginePlan, engineNames } from './engine/training-graph.js';
export type { EnginePlan, EngineConvPlan, EngineGraphKind } from './engine/training-graph.js';
export { TfjsEngine, OnnxEngine, createEngine, sessionParameters } from './engine/engine.js';
export type {
  EngineChoice,
  EngineStep,
  LossAndGradsEngine,
  InputGradientEngine,
  PredictionEngine,
  ModelEngine,
  OnnxEngineOptions,
} from './engine/engine.js';
export {
  LEGACY_HOEFLING_ENSEMBLE_NAME,
  LEGACY_ENSEMBLE_REMOTE_URL,
  LEGACY_ENSEMBLE_MODEL_PATH,
  LEGACY_ENSEMBLE_SEEDS,
  legacyMemberFileNames,
  formatSeed,
  seedOfConfigFile,
  parseLegacyConfig,
  readLegacyDataInfo,
  readLegacyStateDict,
  findPrefix,
  loadStateDictFlexible,
  centerReadouts,
  legacyMemberFromFiles,
  legacyEnsembleFromFiles,
} from './legacy-ensemble.js';
export type {
  LegacyConfig,
  FlexibleLoadOptions,
  FlexibleLoadResult,
  CenterOptions,
  LegacyMemberFiles,
  LegacyEnsembleOptions,
  LegacyEnsemble,
} from './legacy-ensemble.js';
export {
  buildEngineForwardGraph,
  buildEngineForwardWeightsGraph,
  forwardWeightNames,
  temporalBlockSize,
  defaultLayerOrder,
} from './engine/forward-graph.js';
export type { LayerOrder, EngineForwardOptions } from './engine/forward-graph.js';
