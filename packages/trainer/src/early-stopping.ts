import { ConfigError } from '@openretina/contracts';

/** Options of {@link EarlyStopping}; the defaults are Lightning's. */
export interface EarlyStoppingOptions {
  /** The metric to watch, e.g. "val_evaluation_loss". */
  monitor: string;
  /** Default 0: an improvement must exceed it. */
  minDelta?: number;
  /** Default 3: checks without improvement before stopping. */
  patience?: number;
  /** Default 'min'. */
  mode?: 'min' | 'max';
  /** Default true: a missing monitored metric is an error (otherwise a warning and the check is skipped). */
  strict?: boolean;
  /** Default true: stop when the metric is NaN or infinite. */
  checkFinite?: boolean;
  /** Stop as soon as the metric is better than this. */
  stoppingThreshold?: number;
  /** Stop as soon as the metric is worse than this. */
  divergenceThreshold?: number;
  /** Called with the warning for a missing metric when `strict` is false; default `console.warn`. */
  warn?: (message: string) => void;
}

/** What one check decided. */
export interface EarlyStoppingDecision {
  shouldStop: boolean;
  /** Why it stopped (or null). */
  reason: string | null;
  /** Whether this check improved the best score. */
  improved: boolean;
}

/** Lightning's `EarlyStopping` callback semantics on a sequence of metric values. */
export class EarlyStopping {
  readonly monitor: string;
  readonly mode: 'min' | 'max';
  readonly patience: number;
  readonly strict: boolean;
  readonly checkFinite: boolean;
  readonly stoppingThreshold: number | undefined;
  readonly divergenceThreshold: number | undefined;
  /** Signed as Lightning stores it: +minDelta in max mode, −minDelta in min mode. */
  readonly minDelta: number;
  bestScore: number;
  waitCount = 0;
  stoppedEpoch = 0;
  stopped = false;
  private readonly warn: (message: string) => void;

  constructor(options: EarlyStoppingOptions) {
    this.warn = options.warn ?? ((m: string) => console.warn(m));
    this.monitor = options.monitor;
    this.mode = options.mode ?? 'min';
    if (this.mode !== 'min' && this.mode !== 'max')
      throw new ConfigError(`EarlyStopping mode must be "min" or "max", got "${String(this.mode)}".`);
    this.patience = options.patience ?? 3;
    this.strict = options.strict ?? true;
    this.checkFinite = options.checkFinite ?? true;
    this.stoppingThreshold = options.stoppingThreshold;
    this.divergenceThreshold = options.divergenceThreshold;
    const md = Math.abs(options.minDelta ?? 0);
    this.minDelta = this.mode === 'max' ? md : -md;
    this.bestScore = this.mode === 'min' ? Infinity : -Infinity;
  }

  private better(a: number, b: number): boolean {
    return this.mode === 'min' ? a < b : a > b;
  }

  /**
   * Checks the epoch's metrics. A missing monitored metric throws (`strict`) or warns and changes nothing.
   */
  check(metrics: Readonly<Record<string, number>>, epoch: number): EarlyStoppingDecision {
    const current = metrics[this.monitor];
    if (current === undefined) {
      const msg = `Early stopping conditioned on metric "${this.monitor}", which is not available. Available metrics: ${Object.keys(metrics).join(', ')}.`;
      if (this.strict) throw new ConfigError(msg);
      this.warn(msg);
      return { shouldStop: false, reason: null, improved: false };
    }
    const d = this.evaluate(current);
    if (d.shouldStop) {
      this.stopped = true;
      this.stoppedEpoch = epoch;
    }
    return d;
  }

  /** The stopping rule on one value (Lightning's `_evaluate_stopping_criteria`). */
  evaluate(current: number): EarlyStoppingDecision {
    if (this.checkFinite && !Number.isFinite(current)) {
      return { shouldStop: true, improved: false, reason: `Monitored metric ${this.monitor} = ${current} is not finite.` };
    }
    if (this.stoppingThreshold !== undefined && this.better(current, this.stoppingThreshold)) {
      return { shouldStop: true, improved: false, reason: `Stopping threshold reached: ${this.monitor} = ${current}.` };
    }
    if (this.divergenceThreshold !== undefined && this.better(-current, -this.divergenceThreshold)) {
      return { shouldStop: true, improved: false, reason: `Divergence threshold reached: ${this.monitor} = ${current}.` };
    }
    if (this.better(current - this.minDelta, this.bestScore)) {
      this.bestScore = current;
      this.waitCount = 0;
      return { shouldStop: false, improved: true, reason: null };
    }
    this.waitCount += 1;
    if (this.waitCount >= this.patience) {
      return {
        shouldStop: true,
        improved: false,
        reason: `Monitored metric ${this.monitor} did not improve in the last ${this.waitCount} records. Best score: ${this.bestScore}.`,
      };
    }
    return { shouldStop: false, improved: false, reason: null };
  }

  stateDict(): Record<string, unknown> {
    return {
      wait_count: this.waitCount,
      stopped_epoch: this.stoppedEpoch,
      best_score: this.bestScore,
      patience: this.patience,
      stopped: this.stopped,
    };
  }

  loadStateDict(sd: Record<string, unknown>): void {
    const worst = this.mode === 'min' ? Infinity : -Infinity;
    this.waitCount = Number(sd.wait_count ?? 0);
    this.stoppedEpoch = Number(sd.stopped_epoch ?? 0);
    this.bestScore = sd.best_score === null || sd.best_score === undefined ? worst : Number(sd.best_score);
    this.stopped = Boolean(sd.stopped);
  }
}
