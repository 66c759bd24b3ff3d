import { ConfigError } from '@openretina/contracts';
import { LRScheduler, type LrTarget } from './lr-scheduler.js';

/*
 * `StepLR`: a step decay every `stepSize` steps.
 */

/** `torch.optim.lr_scheduler.StepLR`: lr × gamma every `stepSize` steps. */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;
  constructor(optimizer: LrTarget, options: { stepSize: number; gamma?: number }) {
    super(optimizer);
    if (!Number.isInteger(options.stepSize) || options.stepSize < 1)
      throw new ConfigError(`StepLR step_size must be a positive integer, got ${options.stepSize}.`);
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
    this.init();
  }
  protected computeLr(): number {
    const lr = this.optimizer.lr;
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return lr;
    return lr * this.gamma;
  }
}
