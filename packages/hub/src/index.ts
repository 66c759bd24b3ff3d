// Browser-safe entry of @openretina/hub: OpenRetina checkpoint reading and writing (torch zip archives through
// @openretina/formats' safe pickle reader and writer), our checkpoint format in memory, the published-model registry and model
// cards. File system and downloads are in '@openretina/hub/node'; ONNX export, inference and the ONNX Runtime engine
// are in '@openretina/onnx'.

export { readTorchArchive } from './torch-archive.js';
export { writeTorchArchive } from './torch-archive-writer.js';
export { writeOpenRetinaCheckpoint, LIGHTNING_LAYOUT_VERSION } from './openretina-checkpoint-writer.js';
export type { WriteOpenRetinaCheckpointOptions } from './openretina-checkpoint-writer.js';
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
} from './model-card.js';
export type { CheckpointFiles, CheckpointMeta } from './model-card.js';
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
// OpenRetina's legacy Höfling ensemble (GIN files: YAML config, data info and state dict per seed)
export {
  LEGACY_HOEFLING_ENSEMBLE_NAME,
  LEGACY_ENSEMBLE_REMOTE_URL,
  LEGACY_ENSEMBLE_MODEL_PATH,
  LEGACY_ENSEMBLE_SEEDS,
} from './legacy/files.js';
export { parseLegacyConfig } from './legacy/config.js';
export type { LegacyConfig } from './legacy/config.js';
export { readLegacyDataInfo } from './legacy/data-info.js';
export { readLegacyStateDict } from './legacy/state-dict.js';
export { loadStateDictFlexible } from './legacy/flexible-load.js';
export type { FlexibleLoadOptions, FlexibleLoadResult } from './legacy/flexible-load.js';
export { centerReadouts } from './legacy/center-readouts.js';
export type { CenterOptions } from './legacy/center-readouts.js';
export { legacyMemberFromFiles, legacyEnsembleFromFiles } from './legacy/ensemble.js';
export type { LegacyMemberFiles, LegacyEnsembleOptions, LegacyEnsemble } from './legacy/ensemble.js';
