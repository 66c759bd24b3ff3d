// Browser-safe entry of @openretina/insilico: its documented API (README). Helpers behind it (the signal-processing
// ports, the loss-and-gradient step, frame labelling, numpy-style ranges, ...) are imported from their files by the
// package's own code and tests.
export { OptimizationStopper, EarlyStopper, ConvergenceStopper } from './stoppers.js';
export type { EarlyStopperOptions, ConvergenceStopperOptions } from './stoppers.js';
export { MEI_PRESETS, meiPreset, meiConstraints, meiStopper, meiConvergence } from './mei-settings.js';
export type { MeiPreset, MeiPresetName, MeiConvergence } from './mei-settings.js';
export { MeanReducer, SliceMeanReducer } from './reducers.js';
export type { ResponseReducer, SliceMeanReducerOptions } from './reducers.js';
export { IncreaseObjective, ContrastiveNeuronObjective, InnerNeuronVisualizationObjective } from './objectives.js';
export type { StimulusObjective, TapFn, TappableResponseModel } from './objectives.js';
export {
  HOEFLING_STIMULUS_RANGE,
  HOEFLING_MIN_MAX,
  RangeRegularizationLoss,
  ChangeNormJointlyClipRangeSeparately,
  TemporalGaussianLowPassFilterProcessor,
} from './regularizers.js';
export type {
  MinMax,
  StimulusRegularizationLoss,
  StimulusPostprocessor,
  RangeRegularizationOptions,
  ChangeNormClipOptions,
} from './regularizers.js';
export { StimulusSGD, StimulusAdam } from './optimizers.js';
export type { StimulusOptimizer, StimulusSGDOptions, StimulusAdamOptions } from './optimizers.js';
export { optimizeStimulus } from './optimize.js';
export type { OptimizeStimulusOptions, OptimizeStimulusResult } from './optimize.js';
export { videoFromTensor, videoFromChannelsFirst, videoToChannelsFirst } from './video.js';
export type { Video } from './video.js';
export { stimulusComposition, stimulusCompositionSvg, stimulusFrames, stimulusFrameSvgs, objectiveCurveSvg } from './render.js';
export type {
  StimulusComposition,
  CompositionOptions,
  CompositionPlotOptions,
  VideoFramesOptions,
  GifOptions,
  LabelledFrameOptions,
  ObjectiveCurveOptions,
} from './render.js';
export { MeiAcrossContrasts, contrastGradient, getGradientGrid, equalizeChannels } from './tuning.js';
export type { GradientGrid, GradientGridOptions } from './tuning.js';
export {
  preprocessImages,
  prepareMoviesDataset,
  computeLstaLibrary,
  getPcFromPca,
  getImagesCoordinate,
  binnedVectorField,
} from './lsta.js';
export type { RawImage, PrepareMoviesOptions, LstaOptions, PcResult, BinnedVectorField } from './lsta.js';
export { vectorFieldSvg, gradientGridSvg } from './vector-field-plot.js';
export type { VectorFieldPlotOptions } from './vector-field-plot.js';
export { coreWeights, readoutMasks } from './model-weights.js';
export type { LayerWeights, ReadoutMasks, InspectableModel } from './model-weights.js';
export { directionTuning } from './direction-tuning.js';
export type { DirectionTuning, ResponseTrace } from './direction-tuning.js';
export { layerWeightsSvg, readoutMasksSvg, directionTuningSvg, roiFrameSvgs } from './model-figures.js';
export type { LayerWeightsFigureOptions, ReadoutFigureOptions, TuningFigureOptions, RoiAnimationOptions } from './model-figures.js';
