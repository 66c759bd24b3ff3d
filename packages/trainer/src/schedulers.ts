// The learning-rate schedulers (one per file under schedulers/): PyTorch's schedules, stepped as Lightning does.
export { LRScheduler } from './schedulers/lr-scheduler.js';
export type { LrTarget, SchedulerStateDict } from './schedulers/lr-scheduler.js';
export { StepLR } from './schedulers/step-lr.js';
export { MultiStepLR } from './schedulers/multi-step-lr.js';
export { ExponentialLR } from './schedulers/exponential-lr.js';
export { CosineAnnealingLR } from './schedulers/cosine-annealing-lr.js';
export { CosineAnnealingWarmRestarts } from './schedulers/cosine-annealing-warm-restarts.js';
export { OneCycleLR } from './schedulers/one-cycle-lr.js';
export type { OneCycleLROptions } from './schedulers/one-cycle-lr.js';
export { ReduceLROnPlateau } from './schedulers/reduce-lr-on-plateau.js';
export type { ReduceLROnPlateauOptions } from './schedulers/reduce-lr-on-plateau.js';
export type { Scheduler, ScheduledLr } from './schedulers/scheduled-lr.js';
