// Node entry of @openretina/data-io: everything of the browser-safe entry plus files (HDF5 through h5wasm, .npy),
// the generic HDF5 dataset format, synthetic datasets on disk, the download cache and the dataset readers.
export * from './index.js';

// HDF5 and .npy files
export { loadH5IntoDict } from './node/hdf5.js';
export { loadDatasetFromH5 } from './node/load-dataset-from-h5.js';
export { h5ToFolders } from './node/h5-to-folders.js';
export { h5Structure, formatH5Structure } from './node/h5-structure.js';
export type { H5Structure } from './node/h5-structure.js';
export { readNpyFile, readNpzFile, writeNpyFile, readMovieNpy, writeMovieNpy } from './node/npy-fs.js';

// the generic HDF5 format and synthetic datasets
export {
  readHdf5Dataset,
  writeHdf5Session,
  writeHdf5Dataset,
  STIMULUS_FOLDER,
  RESPONSES_PREFIX,
  SESSION_STIMULUS_PREFIX,
  SESSION_INFO_KEY,
  DEFAULT_LAZY_THRESHOLD_BYTES,
} from './node/generic-hdf5.js';
export type { ReadHdf5DatasetOptions, SessionData, Hdf5Dataset, SessionToWrite, DatasetToWrite } from './node/generic-hdf5.js';
export { createSyntheticDataset } from './node/synthetic-fs.js';
export type { CreatedSyntheticDataset } from './node/synthetic-fs.js';

// the download cache
export { CACHE_ENV_VAR, getCacheDirectory, findInCache } from './node/cache/cache-directory.js';
export { unzipAndCleanup } from './node/cache/unzip.js';
export { downloadToCache } from './node/cache/download.js';
export type { DownloadOptions, DownloadPhase, DownloadProgress } from './node/cache/download.js';
export { HF_DATASET_REPO, GIN_BASE_URL, resolveDataPath } from './node/cache/resolve-data-path.js';
export type { ResolveOptions } from './node/cache/resolve-data-path.js';
export { networkTimeouts, timedFetch } from './node/timed-fetch.js';
export type { NetworkTimeouts, TimedResponse } from './node/timed-fetch.js';

// the pre-rendered chirp and moving-bar stimuli
export { loadStimulus, loadMovingBar, loadMovingBarStack } from './node/artificial-stimuli.js';
export type { LoadMovingBarOptions } from './node/artificial-stimuli.js';

// dataset readers
export { loadHoefling2024 } from './node/datasets/hoefling-2024.js';
export type { Hoefling2024Options } from './node/datasets/hoefling-2024.js';
export { loadKaramanlis2024 } from './node/datasets/karamanlis-2024.js';
export type { Karamanlis2024Options } from './node/datasets/karamanlis-2024.js';
export { MAHESWARANATHAN_2023_URL, loadMaheswaranathan2023 } from './node/datasets/maheswaranathan-2023.js';
export type { Maheswaranathan2023Options } from './node/datasets/maheswaranathan-2023.js';
export { GOLDIN_2022_URL, loadGoldin2022 } from './node/datasets/goldin-2022.js';
export type { Goldin2022Options } from './node/datasets/goldin-2022.js';
export { loadSridhar2025Responses } from './node/datasets/sridhar-2025/responses.js';
export type { Sridhar2025ResponseOptions } from './node/datasets/sridhar-2025/responses.js';
export { loadSridharFrames } from './node/datasets/sridhar-2025/frames.js';
export { npyNoiseTrialSource } from './node/datasets/sridhar-2025/noise-trial-source.js';
export { sridharStaFileName, getSridharLocationsFromStas } from './node/datasets/sridhar-2025/stas.js';
export { buildSridharMoviesFromResponses } from './node/datasets/sridhar-2025/placeholder-movies.js';
export { loadSridhar2025 } from './node/datasets/sridhar-2025/load.js';
export { loadStaAndExtractFilters } from './node/sta-filters.js';
export type { LoadStaFilterOptions } from './node/sta-filters.js';
export type { Sridhar2025Options, Sridhar2025Data } from './node/datasets/sridhar-2025/load.js';
