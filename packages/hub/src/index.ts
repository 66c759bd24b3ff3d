// Browser-safe entry of @openretina/hub: OpenRetina checkpoint reading and writing (torch zip archives through
// @openretina/formats' safe pickle reader and writer), our checkpoint format in memory, the published-model registry and model
// cards. File system and downloads are in '@openretina/hub/node'; ONNX export, inference and the ONNX Runtime engine
// are in '@openretina/onnx'.
export const PACKAGE_NAME = '@openretina/hub';

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
  canonicalJson,
  sha256Hex,
} from './model-card.js';
export type { CheckpointMeta } from './model-card.js';
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
