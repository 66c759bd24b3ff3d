// Node entry of @openretina/data-io: everything of the browser-safe entry plus file formats (HDF5, .npy files),
// the generic HDF5 dataset format, synthetic datasets on disk, the download cache and the dataset loaders.
export * from './index.js';
export { loadH5wasm, checkHdf5File, openHdf5, loadH5IntoDict } from './node/hdf5.js';
export { readNpyFile, readNpzFile, writeNpyFile, readMovieNpy, writeMovieNpy } from './node/npy-fs.js';
export {
  readHdf5Dataset,
  writeHdf5Session,
  writeHdf5Dataset,
  STIMULUS_FOLDER,
  RESPONSES_PREFIX,
  SESSION_STIMULUS_PREFIX,
  SESSION_INFO_KEY,
} from './node/generic-hdf5.js';
export type { ReadHdf5DatasetOptions, SessionData, SessionToWrite, DatasetToWrite } from './node/generic-hdf5.js';
export { createSyntheticDataset } from './node/synthetic-fs.js';
export type { CreatedSyntheticDataset } from './node/synthetic-fs.js';
export {
  CACHE_ENV_VAR,
  HF_DATASET_REPO,
  GIN_BASE_URL,
  getCacheDirectory,
  findInCache,
  unzipAndCleanup,
  downloadToCache,
  resolveDataPath,
} from './node/cache.js';
export type { DownloadOptions, DownloadPhase, DownloadProgress, ResolveOptions } from './node/cache.js';
export {
  readH5Array,
  loadHoefling2024,
  renderFixationMovie,
  loadKaramanlis2024,
  MAHESWARANATHAN_2023_URL,
  loadMaheswaranathan2023,
  GOLDIN_2022_URL,
  loadGoldin2022,
  loadSridhar2025Responses,
  loadSridharFrames,
} from './node/datasets.js';
export type {
  Hoefling2024Options,
  Karamanlis2024Options,
  Maheswaranathan2023Options,
  Goldin2022Options,
  Sridhar2025ResponseOptions,
} from './node/datasets.js';
export {
  SRIDHAR_2025_URLS,
  npyNoiseTrialSource,
  sridharStaFileName,
  getSridharLocationsFromStas,
  buildSridharMoviesFromResponses,
  loadSridhar2025,
} from './node/sridhar.js';
export type { Sridhar2025Options, Sridhar2025Data } from './node/sridhar.js';
