import { ConfigError } from '@openretina/contracts';
import { LRScheduler, type LrTarget } from './lr-scheduler.js';

/*
 * `CosineAnnealingWarmRestarts`: cosine cycles that restart, each `tMult` times longer.
 */

/** `torch.optim.lr_scheduler.CosineAnnealingWarmRestarts` (stepped without explicit epochs). */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  readonly t0: number;
  readonly tMult: number;
  readonly etaMin: number;
  tI: number;
  tCur = -1;
  constructor(optimizer: LrTarget, options: { t0: number; tMult?: number; etaMin?: number }) {
    super(optimizer);
    if (!Number.isInteger(options.t0) || options.t0 <= 0)
      throw new ConfigError(`CosineAnnealingWarmRestarts T_0 must be a positive integer, got ${options.t0}.`);
    const tMult = options.tMult ?? 1;
    if (!Number.isInteger(tMult) || tMult < 1)
      throw new ConfigError(`CosineAnnealingWarmRestarts T_mult must be an integer ≥ 1, got ${tMult}.`);
    this.t0 = options.t0;
    this.tMult = tMult;
    this.etaMin = options.etaMin ?? 0;
    this.tI = this.t0;
    this.init();
  }
  override step(): void {
    if (this.lastEpoch < 0) {
      this.tI = this.t0;
      this.tCur = 0;
    } else {
      this.tCur += 1;
      if (this.tCur >= this.tI) {
        this.tCur -= this.tI;
        this.tI *= this.tMult;
      }
    }
    super.step();
  }
  protected computeLr(): number {
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * this.tCur) / this.tI))) / 2;
  }
}
