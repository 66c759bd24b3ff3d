export { Optimizer, AdamW, SGD, clipGradNorm } from './optimizers.js';
export type { AdamWOptions, SGDOptions, ClipResult, NamedGrads, OptimizerStateDict, ParamState } from './optimizers.js';
export {
  LRScheduler,
  StepLR,
  MultiStepLR,
  ExponentialLR,
  CosineAnnealingLR,
  CosineAnnealingWarmRestarts,
  OneCycleLR,
  ReduceLROnPlateau,
} from './schedulers.js';
export type { LrTarget, OneCycleLROptions, ReduceLROnPlateauOptions, Scheduler, ScheduledLr, SchedulerStateDict } from './schedulers.js';
export { EarlyStopping } from './early-stopping.js';
export { OptimizerResetCallback } from './optimizer-reset-callback.js';
export type { OptimizerReset } from './optimizer-reset-callback.js';
export type { EarlyStoppingOptions, EarlyStoppingDecision } from './early-stopping.js';
export {
  createOptimizer,
  createScheduler,
  createEarlyStopping,
  optimizerConfigSchema,
  schedulerConfigSchema,
  earlyStoppingConfigSchema,
} from './factory.js';
export type { OptimizerConfig, SchedulerConfig, EarlyStoppingConfig } from './factory.js';
export {
  correlation,
  mse,
  poissonLossNumpy,
  explainableVsTotalVar,
  feve,
  oracleCorrJackknife,
  globalMeanOracle,
  nanmean,
  nanstd,
} from './metrics.js';
export type { NDArray, Float64NDArray } from './metrics.js';
export { evaluateSession, summarizeEvaluation, formatEvaluationReport, toCsv, toJson, VAR_RATIO_CUTOFF } from './evaluation.js';
export type { SessionEvaluationInput, SessionEvaluation, NeuronResult, EvaluationSummary, SummaryOptions } from './evaluation.js';
export { train, defaultScheduler } from './train.js';
export { validate } from './validate.js';
export type {
  TrainingData,
  TrainOptions,
  TrainResult,
  TrainContext,
  TrainCallbacks,
  TrainLogger,
  TrainProgress,
  TrainingState,
  EpochRecord,
  BestCheckpoint,
} from './train-types.js';
export { trainingDataFromLoaders } from './data.js';
export type { LoadersByFold, TrainingDataOptions } from './data.js';
export { collectPredictions, evaluateModel, loaderSplitSessions, testMetrics } from './evaluate-model.js';
export type { CollectedPredictions, SessionSplitData } from './evaluate-model.js';
