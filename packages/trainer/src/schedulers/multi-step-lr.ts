import { LRScheduler, type LrTarget } from './lr-scheduler.js';

/*
 * `MultiStepLR`: a decay at each milestone.
 */

/** `torch.optim.lr_scheduler.MultiStepLR`: lr × gamma^(count of the milestone) at each milestone. */
export class MultiStepLR extends LRScheduler {
  readonly milestones: number[];
  readonly gamma: number;
  constructor(optimizer: LrTarget, options: { milestones: readonly number[]; gamma?: number }) {
    super(optimizer);
    this.milestones = [...options.milestones].sort((a, b) => a - b);
    this.gamma = options.gamma ?? 0.1;
    this.init();
  }
  protected computeLr(): number {
    const count = this.milestones.filter((m) => m === this.lastEpoch).length;
    if (count === 0) return this.optimizer.lr;
    return this.optimizer.lr * this.gamma ** count;
  }
}
