// The public API of sweeps (re-exported by the CLI's index).
export { sweepCommand, runSweep, sweepStatus } from './sweep-command.js';
export type { SweepResult, RunSweepOptions } from './sweep-command.js';
export { workerCommand, runWorker } from './worker-command.js';
export type { WorkerOptions } from './worker-command.js';
export { planStudy } from './sweep-spec.js';
export type { SweepRequest, PlannedStudy } from './sweep-spec.js';
export { parseDistribution, splitSweepOverrides, spaceFromParams, overrideValue } from './search-space.js';
export type { Distribution, SearchSpace, ParamValue } from './search-space.js';
export { sampleParams, sampleUniform, gridPoints, SAMPLERS } from './samplers.js';
export type { SamplerName, Observation } from './samplers.js';
export { sampleTpe, defaultGamma, defaultWeights, splitObservations } from './tpe.js';
export type { TpeOptions } from './tpe.js';
export { randomSource } from './random-source.js';
export type { RandomSource } from './random-source.js';
export { sweepSummary, bestTrial } from './study.js';
export type { StudySpec, TrialRecord, TrialState, Direction } from './study.js';
export { renderSweepHtml } from './sweep-html.js';
