// Browser-safe entry of @openretina/data-io: no fs, no http, no HDF5. Node-only readers, writers, the download cache
// and the dataset loaders are in '@openretina/data-io/node' (which re-exports everything here too). Every name here
// is documented in the README; helpers that only this package uses stay behind the package boundary.

// containers and layouts
export {
  createMovieSplit,
  createResponseSplit,
  checkMatchingStimulus,
  nNeurons,
  normalizeTrainTestMovies,
  computeDataInfo,
} from './containers.js';
export type { MovieSplitInit, ResponseSplitInit, NormalizedMovies, ComputeDataInfoOptions } from './containers.js';
export {
  makeMovie,
  makeResponses,
  movieFromCTHW,
  movieToCTHW,
  responsesFromNT,
  responsesToNT,
  trialResponsesFromTrialsNT,
} from './layout.js';
export { isNdArray } from './ndarray.js';
export type { NdArray, NdTree } from './ndarray.js';

// loaders and cyclers
export { FrameSequence } from './frames.js';
export type { FrameRange } from './frames.js';
export { isLazy, frameSource, framesOf, movieInMemory, responsesInMemory } from './lazy-data.js';
export { genShiftsWithBoundaries, MovieSampler } from './loaders/movie-sampler.js';
export type { SplitName, MovieSamplerOptions } from './loaders/movie-sampler.js';
export { MovieDataLoader, getMovieDataloader } from './loaders/movie-dataloader.js';
export type { NanPolicy, MovieDataLoaderOptions } from './loaders/movie-dataloader.js';
export { multipleMoviesDataloaders } from './loaders/multiple-movies.js';
export type { MultipleMoviesOptions, DataloaderDict } from './loaders/multiple-movies.js';
export { LongCycler, ShortCycler } from './cyclers.js';
export type { SizedIterable, LongCyclerOptions } from './cyclers.js';

// numpy's legacy generator (seeded streams that reproduce np.random.RandomState)
export { MT19937 } from './random/mt19937.js';

// statistics of what the loaders serve
export { frameFingerprints, frameTransitions } from './frame-fingerprints.js';
export type { FrameFingerprint, TransitionFingerprint, ClipBatch } from './frame-fingerprints.js';
export { emptyDatasetStatistics, computeDataloaderStatistics } from './dataset-statistics.js';
export type { DatasetStatistics, DataloaderStatisticsOptions } from './dataset-statistics.js';

// synthetic data and artificial stimuli
export { generateSyntheticData } from './synthetic.js';
export type { SyntheticDataOptions, SyntheticData } from './synthetic.js';
export {
  chirpStimulus,
  MOVING_BAR_DIRECTIONS,
  movingBarStimulus,
  movingBarSweepFrames,
  driftingGrating,
  whiteNoise,
  coloredStimulus,
  concatMovies,
} from './stimuli.js';
export type {
  StimulusGeometry,
  ChirpOptions,
  MovingBarOptions,
  DriftingGratingOptions,
  WhiteNoiseOptions,
  ColoredStimulusOptions,
} from './stimuli.js';
export {
  ARTIFICIAL_STIMULUS_FRAME_RATE,
  normalizeStimulus,
  discretizeTriggers,
  alignStimulusToTrigger,
  prepareStimulus,
  trimMovingBar,
  movingBarStack,
} from './artificial-stimuli.js';
export type { AlignStimulusOptions, PrepareStimulusOptions } from './artificial-stimuli.js';

// Höfling et al. 2024
export { HOEFLING_2024, HOEFLING_2024_UPSAMPLING } from './datasets/hoefling-2024/constants.js';
export type { HoeflingStimulus, HoeflingTriggerUpsampling } from './datasets/hoefling-2024/constants.js';
export { RGC_GROUP_NAMES, RGC_GROUP_CLASS_NAMES, BADEN_TYPE_BOUNDARIES } from './datasets/hoefling-2024/cell-types.js';
export { HOEFLING_2024_QUALITY_CHECKS, filterHoeflingResponses } from './datasets/hoefling-2024/quality-checks.js';
export type { HoeflingQualityChecks } from './datasets/hoefling-2024/quality-checks.js';
export { upsampleTraces, upsampleHoeflingResponses } from './datasets/hoefling-2024/upsampling.js';
export type { UpsampleOptions, HoeflingUpsampleOptions, HoeflingUpsampledField } from './datasets/hoefling-2024/upsampling.js';
export { hoeflingResponsesFromFields } from './datasets/hoefling-2024/responses.js';
export type { HoeflingResponseOptions } from './datasets/hoefling-2024/responses.js';
export { hoeflingMoviesFromPickle } from './datasets/hoefling-2024/movies.js';
export { hoefling2024Dataloaders } from './datasets/hoefling-2024/dataloaders.js';
export type { HoeflingDataloaderOptions } from './datasets/hoefling-2024/dataloaders.js';
export { hoeflingChirpDataloaders, hoeflingMovingBarDataloaders } from './datasets/hoefling-2024/artificial-dataloaders.js';
export type { HoeflingArtificialDataloaderOptions } from './datasets/hoefling-2024/artificial-dataloaders.js';

// Karamanlis et al. 2024
export { renderFixationMovie } from './datasets/karamanlis-2024.js';

// Sridhar et al. 2025
export {
  SRIDHAR_2025,
  SRIDHAR_2025_EXCLUDED_CELLS,
  SRIDHAR_2025_WHITE_NOISE,
  SRIDHAR_2025_URLS,
} from './datasets/sridhar-2025/constants.js';
export type { SridharCrop } from './datasets/sridhar-2025/crop.js';
export { parseSridharFixations } from './datasets/sridhar-2025/fixations.js';
export type { SridharFixation } from './datasets/sridhar-2025/fixations.js';
export { renderSridharMovie } from './datasets/sridhar-2025/render.js';
export type { SridharFrames, SridharRenderOptions } from './datasets/sridhar-2025/render.js';
export { sridharFrameOverhead } from './datasets/sridhar-2025/frame-overhead.js';
export type { FrameOverheadOptions } from './datasets/sridhar-2025/frame-overhead.js';
export { SridharMovieDataset } from './datasets/sridhar-2025/movie-dataset.js';
export type { SridharMovieDatasetOptions } from './datasets/sridhar-2025/movie-dataset.js';
export { SridharNoiseDataset } from './datasets/sridhar-2025/noise-dataset.js';
export type { NoiseFrames, NoiseTrialSource, SridharNoiseDatasetOptions } from './datasets/sridhar-2025/noise-dataset.js';
export { locationFromSta } from './datasets/sridhar-2025/sta-location.js';

// STA processing (OpenRetina's utils/sta_processing)
export { fit2dGaussian, gaussian2dGrid } from './sta/gaussian-fit.js';
export type { Gaussian2D, Gaussian2DFit } from './sta/gaussian-fit.js';
export { alignSta, extractFiltersFromSta, gaussianContourMask } from './sta/sta-filters.js';
export type { Sta, StaFilterOptions, StaFilterSet } from './sta/sta-filters.js';
export { sridharPlaceholderMovies } from './datasets/sridhar-2025/placeholder-movies.js';
export type { SridharPlaceholderOptions } from './datasets/sridhar-2025/placeholder-movies.js';
export { sridharTrialSplit, filterSridharTrials } from './datasets/sridhar-2025/trial-split.js';
export type { SridharTrialSplitOptions } from './datasets/sridhar-2025/trial-split.js';
export { ChunkedSampler } from './datasets/sridhar-2025/chunked-sampler.js';
export { SridharDataLoader } from './datasets/sridhar-2025/data-loader.js';
export type {
  SridharSample,
  SridharSampleSource,
  SridharSampling,
  SridharDataLoaderOptions,
} from './datasets/sridhar-2025/data-loader.js';
