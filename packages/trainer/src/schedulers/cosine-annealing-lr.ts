import { ConfigError } from '@openretina/contracts';
import { LRScheduler, type LrTarget } from './lr-scheduler.js';

/*
 * `CosineAnnealingLR` in PyTorch's recursive form (which is what makes it continue past `tMax`).
 */

/** Python's modulo (non-negative for a positive divisor). */
function pmod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/** `torch.optim.lr_scheduler.CosineAnnealingLR` (PyTorch's recursive form, so it continues past `tMax`). */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;
  constructor(optimizer: LrTarget, options: { tMax: number; etaMin?: number }) {
    super(optimizer);
    if (!(options.tMax > 0)) throw new ConfigError(`CosineAnnealingLR T_max must be positive, got ${options.tMax}.`);
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
    this.init();
  }
  protected computeLr(): number {
    const { lr } = this.optimizer;
    const e = this.lastEpoch;
    const T = this.tMax;
    if (e === 0) return lr;
    if (pmod(e - 1 - T, 2 * T) === 0) return lr + ((this.baseLr - this.etaMin) * (1 - Math.cos(Math.PI / T))) / 2;
    return ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (lr - this.etaMin) + this.etaMin;
  }
}
