// Browser-safe entry of @openretina/data-io: no fs, no http, no HDF5. Node-only readers, writers, the download cache
// and the dataset loaders are in '@openretina/data-io/node' (which re-exports everything here too).
export const PACKAGE_NAME = '@openretina/data-io';

export { MT19937, deriveSeed } from './random.js';
export {
  makeMovie,
  makeResponses,
  movieFromCTHW,
  movieToCTHW,
  responsesFromNT,
  responsesToNT,
  trialResponsesFromTrialsNT,
  transpose2d,
  frameSize,
  firstNaN,
} from './layout.js';
export type { NumericArray } from './layout.js';
export {
  createMovieSplit,
  createResponseSplit,
  checkMatchingStimulus,
  nNeurons,
  normalizeTrainTestMovies,
  computeDataInfo,
} from './containers.js';
export type { MovieSplitInit, ResponseSplitInit, NormalizedMovies, ComputeDataInfoOptions } from './containers.js';
export { isNdArray, toNumberArray } from './ndarray.js';
export type { NdArray, NdTree } from './ndarray.js';
export { FrameSequence } from './frames.js';
export {
  genShiftsWithBoundaries,
  MovieSampler,
  MovieDataLoader,
  getMovieDataloader,
  computeTestBatchSize,
  drawValidationClips,
  splitClips,
  multipleMoviesDataloaders,
} from './loaders.js';
export type {
  SplitName,
  NanPolicy,
  MovieSamplerOptions,
  MovieDataLoaderOptions,
  ClipSplit,
  MultipleMoviesOptions,
  DataloaderDict,
} from './loaders.js';
export { cycle, LongCycler, ShortCycler } from './cyclers.js';
export type { SizedIterable, LongCyclerOptions } from './cyclers.js';
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
export { resizeBilinearAntialias } from './resize.js';
export {
  HOEFLING_2024,
  HOEFLING_2024_QUALITY_CHECKS,
  filterHoeflingResponses,
  interp,
  upsampleTraces,
  hoeflingResponsesFromFields,
  hoeflingMoviesFromPickle,
  hoefling2024Dataloaders,
} from './datasets/hoefling.js';
export type { HoeflingQualityChecks, UpsampleOptions, HoeflingResponseOptions, HoeflingDataloaderOptions } from './datasets/hoefling.js';
export {
  SRIDHAR_2025,
  parseSridharFixations,
  renderSridharMovie,
  sridharFrameOverhead,
  SridharMovieDataset,
} from './datasets/sridhar.js';
export type {
  SridharFixation,
  SridharFrames,
  SridharRenderOptions,
  FrameOverheadOptions,
  SridharMovieDatasetOptions,
} from './datasets/sridhar.js';
export {
  seedSequenceState,
  Pcg64,
  ChunkedSampler,
  SRIDHAR_LINKED_TRIALS,
  sridharTrialSplit,
  filterSridharTrials,
  SridharDataLoader,
} from './datasets/sridhar-sampling.js';
export type {
  SridharTrialSplitOptions,
  SridharSample,
  SridharSampleSource,
  SridharSampling,
  SridharDataLoaderOptions,
} from './datasets/sridhar-sampling.js';
export {
  SRIDHAR_2025_EXCLUDED_CELLS,
  SRIDHAR_2025_WHITE_NOISE,
  cropNoiseFrames,
  SridharNoiseDataset,
  locationFromSta,
  sridharPlaceholderMovies,
} from './datasets/sridhar-noise.js';
export type {
  SridharCrop,
  NoiseFrames,
  NoiseTrialSource,
  SridharNoiseDatasetOptions,
  SridharPlaceholderOptions,
} from './datasets/sridhar-noise.js';
