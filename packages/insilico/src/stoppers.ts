/**
 * When to stop a stimulus optimisation (OpenRetina's `optimization_stopper.py`).
 * `earlyStop` receives the loss of each iteration (computed before that iteration's step) and its objective.
 */
export class OptimizationStopper {
  /** The most iterations to run (`Number.MAX_SAFE_INTEGER` when none is given, like Python's `sys.maxsize`). */
  readonly maxIterations: number;

  constructor(maxIterations?: number | null) {
    this.maxIterations = maxIterations ?? Number.MAX_SAFE_INTEGER;
  }

  /** Never stops early. */
  earlyStop(_loss: number, _objective?: number): boolean {
    return false;
  }

  /** Whether the last `earlyStop` that returned true did so because the optimisation converged. */
  get converged(): boolean {
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

export interface ConvergenceStopperOptions {
  /** The step cap (required: a run that never settles must end). */
  maxIterations: number;
  /** Converged when |Δ objective| ≤ `relativeTolerance` · |objective| ... (default 1e-3) */
  relativeTolerance?: number;
  /** ... on this many consecutive iterations (default 5). */
  patience?: number;
  /** Never stop before this many iterations (default 10). */
  minIterations?: number;
}

/**
 * Stops a stimulus optimisation once the objective has settled: its relative change from one iteration to the next
 * stays within `relativeTolerance` for `patience` iterations in a row (after `minIterations`), or at the step cap.
 * `converged` tells the two apart. Without an objective (NaN) it watches the loss instead.
 */
export class ConvergenceStopper extends OptimizationStopper {
  readonly relativeTolerance: number;
  readonly patience: number;
  readonly minIterations: number;
  private previous = Number.NaN;
  private calm = 0;
  private seen = 0;
  private done = false;
  /** The last relative change seen (NaN before the second iteration). */
  lastRelativeChange = Number.NaN;

  constructor(options: ConvergenceStopperOptions) {
    super(options.maxIterations);
    this.relativeTolerance = options.relativeTolerance ?? 1e-3;
    this.patience = options.patience ?? 5;
    this.minIterations = options.minIterations ?? 10;
  }

  override earlyStop(loss: number, objective?: number): boolean {
    const value = objective !== undefined && Number.isFinite(objective) ? objective : -loss;
    this.seen += 1;
    if (Number.isFinite(this.previous)) {
      this.lastRelativeChange = Math.abs(value - this.previous) / Math.max(Math.abs(value), 1e-12);
      this.calm = this.lastRelativeChange <= this.relativeTolerance ? this.calm + 1 : 0;
    }
    this.previous = value;
    if (this.calm >= this.patience && this.seen >= this.minIterations) this.done = true;
    return this.done;
  }

  override get converged(): boolean {
    return this.done;
  }
}
