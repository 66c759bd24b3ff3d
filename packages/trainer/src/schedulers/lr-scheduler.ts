import { StateDictError } from '@openretina/contracts';

/*
 * The base of the epoch/step learning-rate schedulers (PyTorch's `_LRScheduler`) and what a scheduler drives: each
 * schedule in this folder only says how the rate follows from the step count.
 */

/** What a scheduler drives: an optimizer's learning rate (one parameter group), and its momentum for OneCycleLR. */
export interface LrTarget {
  lr: number;
  initialLr: number;
  betas?: [number, number];
  momentum?: number;
}

/** A scheduler's state (PyTorch's `scheduler.state_dict()` keys), plain JSON. */
export type SchedulerStateDict = Record<string, unknown>;

/**
 * The base of the epoch/step schedulers (PyTorch's `_LRScheduler`): construction performs the initial step
 * (`lastEpoch` = 0, lr = the initial lr); every `step()` advances `lastEpoch` by one and sets the optimizer's lr.
 */
export abstract class LRScheduler {
  readonly optimizer: LrTarget;
  lastEpoch = -1;
  baseLr: number;
  lastLr: number;
  protected stepCount = 0;

  constructor(optimizer: LrTarget) {
    this.optimizer = optimizer;
    this.baseLr = optimizer.initialLr;
    this.lastLr = optimizer.lr;
  }

  /** Performs the construction-time step; subclasses call it at the end of their constructor. */
  protected init(): void {
    this.step();
  }

  protected abstract computeLr(): number;

  step(): void {
    this.stepCount++;
    this.lastEpoch++;
    const lr = this.computeLr();
    this.optimizer.lr = lr;
    this.lastLr = lr;
  }

  stateDict(): SchedulerStateDict {
    const out: SchedulerStateDict = {};
    for (const [k, v] of Object.entries(this)) {
      if (k === 'optimizer') continue;
      out[k] = Array.isArray(v) ? [...v] : v;
    }
    return out;
  }

  loadStateDict(sd: SchedulerStateDict): void {
    for (const [k, v] of Object.entries(sd)) {
      if (!(k in this) || k === 'optimizer') throw new StateDictError(`Unknown ${this.constructor.name} state key "${k}".`);
      (this as unknown as Record<string, unknown>)[k] = Array.isArray(v) ? [...v] : v;
    }
  }
}
