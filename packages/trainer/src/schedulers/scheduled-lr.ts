import type { LRScheduler } from './lr-scheduler.js';
import type { ReduceLROnPlateau } from './reduce-lr-on-plateau.js';

/*
 * A scheduler with the Lightning settings the training loop follows (what it monitors, when it steps).
 */

/** Any of our schedulers. */
export type Scheduler = LRScheduler | ReduceLROnPlateau;

/** A scheduler with OpenRetina's Lightning settings: what it monitors, and whether it steps per epoch or per batch. */
export interface ScheduledLr {
  scheduler: Scheduler;
  /** The metric ReduceLROnPlateau is stepped with (OpenRetina's default "val_correlation"; configs use "val_evaluation_loss"). */
  monitor: string | null;
  interval: 'epoch' | 'step';
  frequency: number;
}
