import { ConfigError, StateDictError } from '@openretina/contracts';
import type { LrTarget, SchedulerStateDict } from './lr-scheduler.js';

/*
 * `ReduceLROnPlateau`: steps once per epoch with a monitored metric, so it is not an `LRScheduler` (no step count
 * decides its rate).
 */

/** Options of {@link ReduceLROnPlateau}; the defaults are PyTorch's. */
export interface ReduceLROnPlateauOptions {
  /** Default 'min'. */
  mode?: 'min' | 'max';
  /** Default 0.1. */
  factor?: number;
  /** Default 10. */
  patience?: number;
  /** Default 1e-4. */
  threshold?: number;
  /** Default 'rel'. */
  thresholdMode?: 'rel' | 'abs';
  /** Default 0. */
  cooldown?: number;
  /** Default 0. */
  minLr?: number;
  /** Default 1e-8: reductions smaller than this are skipped. */
  eps?: number;
}

/** `torch.optim.lr_scheduler.ReduceLROnPlateau`, stepped once per epoch with the monitored metric. */
export class ReduceLROnPlateau {
  readonly optimizer: LrTarget;
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLr: number;
  readonly eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  lastLr: number;

  constructor(optimizer: LrTarget, options: ReduceLROnPlateauOptions = {}) {
    this.optimizer = optimizer;
    this.mode = options.mode ?? 'min';
    this.factor = options.factor ?? 0.1;
    this.patience = options.patience ?? 10;
    this.threshold = options.threshold ?? 1e-4;
    this.thresholdMode = options.thresholdMode ?? 'rel';
    this.cooldown = options.cooldown ?? 0;
    this.minLr = options.minLr ?? 0;
    this.eps = options.eps ?? 1e-8;
    if (!(this.factor < 1)) throw new ConfigError(`ReduceLROnPlateau factor must be < 1, got ${this.factor}.`);
    if (this.mode !== 'min' && this.mode !== 'max')
      throw new ConfigError(`ReduceLROnPlateau mode must be "min" or "max", got "${String(this.mode)}".`);
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs') {
      throw new ConfigError(`ReduceLROnPlateau threshold_mode must be "rel" or "abs", got "${String(this.thresholdMode)}".`);
    }
    this.best = this.mode === 'min' ? Infinity : -Infinity;
    this.lastLr = optimizer.lr;
  }

  isBetter(a: number, best: number): boolean {
    const t = this.threshold;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - t) : a < best - t;
    return this.thresholdMode === 'rel' ? a > best * (t + 1) : a > best + t;
  }

  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  step(metric: number): void {
    this.lastEpoch += 1;
    if (this.isBetter(metric, this.best)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      const old = this.optimizer.lr;
      const next = Math.max(old * this.factor, this.minLr);
      if (old - next > this.eps) this.optimizer.lr = next;
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.lr;
  }

  stateDict(): SchedulerStateDict {
    return {
      best: this.best,
      num_bad_epochs: this.numBadEpochs,
      cooldown_counter: this.cooldownCounter,
      last_epoch: this.lastEpoch,
      _last_lr: [this.lastLr],
    };
  }

  loadStateDict(sd: SchedulerStateDict): void {
    const stateValue = (k: string): number => {
      const v = sd[k];
      if (typeof v !== 'number' && v !== null)
        throw new StateDictError(`ReduceLROnPlateau state "${k}" must be a number, got ${JSON.stringify(v)}.`);
      // JSON turns ±Infinity into null: restore the mode's "worst" value.
      return v === null ? (this.mode === 'min' ? Infinity : -Infinity) : v;
    };
    this.best = stateValue('best');
    this.numBadEpochs = stateValue('num_bad_epochs');
    this.cooldownCounter = stateValue('cooldown_counter');
    this.lastEpoch = stateValue('last_epoch');
    const last = sd._last_lr;
    if (Array.isArray(last) && typeof last[0] === 'number') this.lastLr = last[0];
  }
}
