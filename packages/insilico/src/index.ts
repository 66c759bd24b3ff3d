export { OptimizationStopper, EarlyStopper, ConvergenceStopper } from './stoppers.js';
export type { EarlyStopperOptions, ConvergenceStopperOptions } from './stoppers.js';
export { MEI_PRESETS, meiPreset, meiConstraints, meiStopper, meiConvergence } from './mei-settings.js';
export type { MeiPreset, MeiPresetName, MeiConvergence } from './mei-settings.js';
export { MeanReducer, SliceMeanReducer } from './reducers.js';
export type { ResponseReducer, SliceMeanReducerOptions } from './reducers.js';
export {
  AbstractObjective,
  IncreaseObjective,
  ContrastiveNeuronObjective,
  InnerNeuronVisualizationObjective,
  contrastiveObjective,
  resolveLayerName,
} from './objectives.js';
export type { StimulusObjective, TapFn, TappableResponseModel } from './objectives.js';
export {
  HOEFLING_STIMULUS_RANGE,
  HOEFLING_MIN_MAX,
  RangeRegularizationLoss,
  ChangeNormJointlyClipRangeSeparately,
  TemporalGaussianLowPassFilterProcessor,
  gaussian1dKernel,
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
export { optimizeStimulus, stimulusLossAndGrad } from './optimize.js';
export type { OptimizeStimulusOptions, OptimizeStimulusResult } from './optimize.js';
export {
  butterLowpass,
  butterLowpassFilter,
  lfilter,
  lfilterZi,
  filtfilt,
  calculateFft,
  weightedMainFrequency,
  decomposeKernel,
} from './signal.js';
export type { FilterCoefficients, DecomposedKernel } from './signal.js';
export { videoFromTensor, videoChannel, videoFromChannelsFirst, videoToChannelsFirst } from './video.js';
export type { Video } from './video.js';
export {
  stimulusComposition,
  stimulusCompositionSvg,
  stimulusFrames,
  stimulusFrameImages,
  stimulusFrameSvgs,
  stimulusFrameLabelSvgs,
  labelledFrameScale,
  objectiveCurveSvg,
} from './render.js';
export type {
  StimulusComposition,
  CompositionOptions,
  CompositionPlotOptions,
  VideoFramesOptions,
  GifOptions,
  LabelledFrameOptions,
  ObjectiveCurveOptions,
} from './render.js';
export { MeiAcrossContrasts, contrastGradient, getGradientGrid, equalizeChannels, numpyArange } from './tuning.js';
export type { GradientGrid, GradientGridOptions } from './tuning.js';
export {
  preprocessImages,
  getModelTemporalPadding,
  prepareMoviesDataset,
  computeLstaLibrary,
  getPcFromPca,
  getImagesCoordinate,
  binnedVectorField,
} from './lsta.js';
export type { RawImage, PrepareMoviesOptions, LstaOptions, PcResult, BinnedVectorField } from './lsta.js';
export { vectorFieldSvg, gradientGridSvg } from './vector-field-plot.js';
export type { VectorFieldPlotOptions } from './vector-field-plot.js';
export { coreWeights, readoutMasks, centreOfMass } from './model-weights.js';
export type { LayerWeights, ReadoutMasks, InspectableModel } from './model-weights.js';
export { directionTuning } from './direction-tuning.js';
export type { DirectionTuning, ResponseTrace } from './direction-tuning.js';
export { layerWeightsSvg, readoutMasksSvg, directionTuningSvg, roiFrameSvgs } from './model-figures.js';
export type { LayerWeightsFigureOptions, ReadoutFigureOptions, TuningFigureOptions, RoiAnimationOptions } from './model-figures.js';
