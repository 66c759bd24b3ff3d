import type { TrainableModel } from '@openretina/contracts';
import type { TrainCallbacks, TrainContext } from './train-types.js';

/** What {@link OptimizerResetCallback} reports when it resets the optimizer. */
export interface OptimizerReset {
  /** The epoch whose validation just ended (0-based). */
  epoch: number;
  previousLr: number;
  lr: number;
}

/**
 * OpenRetina's `OptimizerResetCallback` (`training_callbacks: optimizer_reset`): at the end of each validation, when
 * the learning rate is lower than at the previous validation end (a scheduler lowered it), the optimizer starts
 * afresh (moments and step counts forgotten) at the new learning rate. `onReset` receives each reset (OpenRetina
 * prints a line; the library prints nothing).
 *
 * OpenRetina replaces the optimizer with a new AdamW (whatever the configured optimizer was) that its LR scheduler no
 * longer drives, so later reductions are lost and it never resets again. Here the optimizer in use keeps its type and
 * its scheduler: until the scheduler lowers the rate again the steps are the same (fixture parity), after that ours
 * follows the scheduler and resets again.
 */
export class OptimizerResetCallback<M extends TrainableModel = TrainableModel> implements TrainCallbacks<M> {
  private previousLr: number | undefined;

  constructor(private readonly options: { onReset?: (reset: OptimizerReset) => void } = {}) {}

  onValidationEnd(ctx: TrainContext<M>): void {
    const lr = ctx.optimizer.lr;
    if (this.previousLr !== undefined && lr < this.previousLr) {
      ctx.optimizer.resetState();
      this.options.onReset?.({ epoch: ctx.epoch, previousLr: this.previousLr, lr });
    }
    this.previousLr = lr;
  }
}
