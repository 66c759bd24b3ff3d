// Node entry of @openretina/hub: everything of the browser-safe entry plus the file system (checkpoint folders,
// .ckpt files) and downloads through @openretina/data-io's cache. ONNX lives in @openretina/onnx.
export * from './index.js';
export { saveCheckpoint, writeCheckpointFolder, loadCheckpoint, isCheckpoint } from './node/checkpoint-fs.js';
export {
  huggingFaceCacheDirectory,
  findInHuggingFaceCache,
  downloadPublishedModel,
  resolveModelPath,
  loadCoreReadout,
  loadResponseModel,
  loadEnsemble,
  getCacheDirectory,
} from './node/remote.js';
export type { RemoteOptions, LoadOptions, OnnxLoader, ResponseModelOptions } from './node/remote.js';
export type { LegacySourceOptions } from './node/remote.js';
export {
  loadLegacyHoeflingEnsemble,
  loadLegacyHoeflingMember,
  isLegacyEnsembleSource,
} from './node/legacy-ensemble-fs.js';
export type { LoadLegacyEnsembleOptions } from './node/legacy-ensemble-fs.js';
