/**
 * When to stop a stimulus optimisation (OpenRetina's `optimization_stopper.py`).
 * `earlyStop` receives the loss of each iteration (computed before that iteration's step).
 */
export class OptimizationStopper {
  /** The most iterations to run (`Number.MAX_SAFE_INTEGER` when none is given, like Python's `sys.maxsize`). */
  readonly maxIterations: number;

  constructor(maxIterations?: number | null) {
    this.maxIterations = maxIterations ?? Number.MAX_SAFE_INTEGER;
  }

  /** Never stops early. */
  earlyStop(_loss: number): boolean {
    return false;
  }
}

export interface EarlyStopperOptions {
  maxIterations?: number | null;
  /** Iterations in a row whose loss exceeds the best one by more than `minDelta` before stopping (default 1). */
  patience?: number;
  /** Tolerance above the best loss (default 0). */
  minDelta?: number;
}

/**
 * Stops once the loss has exceeded the lowest loss seen so far by more than `minDelta` on `patience` iterations
 * since the last improvement. A loss within `[min, min + minDelta]` neither resets nor advances the counter.
 */
export class EarlyStopper extends OptimizationStopper {
  readonly patience: number;
  readonly minDelta: number;
  private counter = 0;
  private minLoss = Number.POSITIVE_INFINITY;

  constructor(options: EarlyStopperOptions = {}) {
    super(options.maxIterations);
    this.patience = options.patience ?? 1;
    this.minDelta = options.minDelta ?? 0;
  }

  override earlyStop(loss: number): boolean {
    if (loss < this.minLoss) {
      this.minLoss = loss;
      this.counter = 0;
    } else if (loss > this.minLoss + this.minDelta) {
      this.counter += 1;
      if (this.counter >= this.patience) return true;
    }
    return false;
  }
}
