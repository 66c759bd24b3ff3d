// Node entry of @openretina/hub: everything of the browser-safe entry plus the file system (checkpoint folders,
// .ckpt files), downloads through @openretina/data-io's cache, and ONNX inference with onnxruntime-node.
export * from './index.js';
export { saveCheckpoint, loadCheckpoint, isCheckpoint } from './node/checkpoint-fs.js';
export { loadOnnxModel, loadOnnxRuntimeNode } from './node/onnx-node.js';
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
export type { RemoteOptions, LoadOptions } from './node/remote.js';
export type { LegacySourceOptions } from './node/remote.js';
export {
  loadLegacyHoeflingEnsemble,
  loadLegacyHoeflingMember,
  resolveLegacyEnsemble,
  isLegacyEnsembleSource,
  isLegacyEnsembleDirectory,
  legacySeedsInDirectory,
} from './node/legacy-ensemble-fs.js';
export type { LoadLegacyEnsembleOptions } from './node/legacy-ensemble-fs.js';
