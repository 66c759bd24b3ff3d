import { LRScheduler, type LrTarget } from './lr-scheduler.js';

/*
 * `ExponentialLR`: a decay every step.
 */

/** `torch.optim.lr_scheduler.ExponentialLR`: lr × gamma every step. */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;
  constructor(optimizer: LrTarget, options: { gamma: number }) {
    super(optimizer);
    this.gamma = options.gamma;
    this.init();
  }
  protected computeLr(): number {
    return this.lastEpoch === 0 ? this.optimizer.lr : this.optimizer.lr * this.gamma;
  }
}
