/**
 * Wall time of the phases of one training epoch, in milliseconds, so that a run can say where its epochs go
 * (`EpochRecord.phases`): `data` (taking batches from the loaders), `step` (the engine's loss and gradients),
 * `optimizer` (accumulation, clipping, the optimizer step), `validation` (eval predictions and the validation
 * metrics), `checkpoint` (keeping and saving the best weights), `logging` (loggers and progress events) and
 * `callbacks` (every other callback). Timing costs two `performance.now()` calls per phase.
 */
export type EpochPhase = 'data' | 'step' | 'optimizer' | 'validation' | 'checkpoint' | 'logging' | 'callbacks';

export class EpochPhases {
  private readonly ms: Record<EpochPhase, number> = {
    data: 0,
    step: 0,
    optimizer: 0,
    validation: 0,
    checkpoint: 0,
    logging: 0,
    callbacks: 0,
  };

  add(phase: EpochPhase, since: number): number {
    const now = performance.now();
    this.ms[phase] += now - since;
    return now;
  }

  async time<T>(phase: EpochPhase, fn: () => T | Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.add(phase, t0);
    }
  }

  /** The totals, rounded to 0.1 ms. */
  values(): Record<EpochPhase, number> {
    return Object.fromEntries(Object.entries(this.ms).map(([k, v]) => [k, Math.round(v * 10) / 10])) as Record<EpochPhase, number>;
  }
}
