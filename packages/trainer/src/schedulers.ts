import { ConfigError, StateDictError } from '@openretina/contracts';

/** What a scheduler drives: an optimizer's learning rate (one parameter group), and its momentum for OneCycleLR. */
export interface LrTarget {
  lr: number;
  initialLr: number;
  betas?: [number, number];
  momentum?: number;
}

/** A scheduler's state (PyTorch's `scheduler.state_dict()` keys), plain JSON. */
export type SchedulerStateDict = Record<string, unknown>;

/** Python's modulo (non-negative for a positive divisor). */
function pmod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

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

/** `torch.optim.lr_scheduler.ExponentialLR`: lr × gamma every step. */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;
  constructor(optimizer: LrTarget, options: { gamma: number }) {
    super(optimizer);
    this.gamma = options.gamma;
    this.init();
  }
  protected computeLr(): number {
    return this.lastEpoch === 0 ? this.optimizer.lr : this.optimizer.lr * this.gamma;
  }
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

/** Options of {@link OneCycleLR}; the defaults are PyTorch's. */
export interface OneCycleLROptions {
  maxLr: number;
  /** Either `totalSteps`, or `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Default 0.3. */
  pctStart?: number;
  /** Default 'cos'. */
  annealStrategy?: 'cos' | 'linear';
  /** Default true. */
  cycleMomentum?: boolean;
  /** Default 0.85. */
  baseMomentum?: number;
  /** Default 0.95. */
  maxMomentum?: number;
  /** Default 25. */
  divFactor?: number;
  /** Default 1e4. */
  finalDivFactor?: number;
  /** Default false. */
  threePhase?: boolean;
}

type Anchor = 'initial' | 'max' | 'min' | 'maxMomentum' | 'baseMomentum';
interface Phase {
  endStep: number;
  startLr: Anchor;
  endLr: Anchor;
  startMomentum: Anchor;
  endMomentum: Anchor;
}

/** `torch.optim.lr_scheduler.OneCycleLR`, stepped once per batch; cycles beta1 (AdamW) or momentum (SGD) inversely. */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  readonly anneal: 'cos' | 'linear';
  readonly cycleMomentum: boolean;
  readonly useBeta1: boolean;
  readonly anchors: Record<Anchor, number>;
  readonly phases: Phase[];

  constructor(optimizer: LrTarget, options: OneCycleLROptions) {
    super(optimizer);
    let total: number;
    if (options.totalSteps !== undefined) {
      if (!Number.isInteger(options.totalSteps) || options.totalSteps <= 0)
        throw new ConfigError(`OneCycleLR total_steps must be a positive integer, got ${options.totalSteps}.`);
      total = options.totalSteps;
    } else if (options.epochs !== undefined && options.stepsPerEpoch !== undefined) {
      if (!(options.epochs > 0) || !(options.stepsPerEpoch > 0))
        throw new ConfigError('OneCycleLR epochs and steps_per_epoch must be positive.');
      total = options.epochs * options.stepsPerEpoch;
    } else {
      throw new ConfigError('OneCycleLR needs total_steps, or epochs and steps_per_epoch.');
    }
    this.totalSteps = total;
    const pct = options.pctStart ?? 0.3;
    if (!(pct >= 0 && pct <= 1)) throw new ConfigError(`OneCycleLR pct_start must be in [0, 1], got ${pct}.`);
    this.anneal = options.annealStrategy ?? 'cos';
    if (this.anneal !== 'cos' && this.anneal !== 'linear')
      throw new ConfigError(`OneCycleLR anneal_strategy must be "cos" or "linear", got "${String(this.anneal)}".`);
    this.phases = options.threePhase
      ? [
          { endStep: pct * total - 1, startLr: 'initial', endLr: 'max', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
          { endStep: 2 * pct * total - 2, startLr: 'max', endLr: 'initial', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
          { endStep: total - 1, startLr: 'initial', endLr: 'min', startMomentum: 'maxMomentum', endMomentum: 'maxMomentum' },
        ]
      : [
          { endStep: pct * total - 1, startLr: 'initial', endLr: 'max', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
          { endStep: total - 1, startLr: 'max', endLr: 'min', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
        ];
    const initial = options.maxLr / (options.divFactor ?? 25);
    this.anchors = {
      initial,
      max: options.maxLr,
      min: initial / (options.finalDivFactor ?? 1e4),
      maxMomentum: options.maxMomentum ?? 0.95,
      baseMomentum: options.baseMomentum ?? 0.85,
    };
    optimizer.initialLr = initial;
    this.baseLr = initial;
    this.cycleMomentum = options.cycleMomentum ?? true;
    this.useBeta1 = optimizer.betas !== undefined;
    if (this.cycleMomentum) {
      if (!this.useBeta1 && optimizer.momentum === undefined) {
        throw new ConfigError('OneCycleLR with cycle_momentum needs an optimizer with momentum or betas.');
      }
      this.setMomentum(this.anchors.maxMomentum);
    }
    this.init();
  }

  private setMomentum(m: number): void {
    if (this.useBeta1) this.optimizer.betas = [m, this.optimizer.betas![1]];
    else this.optimizer.momentum = m;
  }

  private annealFn(start: number, end: number, pct: number): number {
    if (this.anneal === 'cos') return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
    return (end - start) * pct + start;
  }

  protected computeLr(): number {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new ConfigError(`OneCycleLR stepped ${stepNum} times, more than total_steps = ${this.totalSteps}.`);
    }
    let startStep = 0;
    let lr = this.optimizer.lr;
    for (let i = 0; i < this.phases.length; i++) {
      const phase = this.phases[i]!;
      if (stepNum <= phase.endStep || i === this.phases.length - 1) {
        const pct = (stepNum - startStep) / (phase.endStep - startStep);
        lr = this.annealFn(this.anchors[phase.startLr], this.anchors[phase.endLr], pct);
        if (this.cycleMomentum) this.setMomentum(this.annealFn(this.anchors[phase.startMomentum], this.anchors[phase.endMomentum], pct));
        break;
      }
      startStep = phase.endStep;
    }
    return lr;
  }
}

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

/** Any of our schedulers. */
export type Scheduler = LRScheduler | ReduceLROnPlateau;

/** A scheduler with OpenRetina's Lightning settings: what it monitors, and whether it steps per epoch or per batch. */
export interface ScheduledLr {
  scheduler: Scheduler;
  /** The metric ReduceLROnPlateau is stepped with (OpenRetina's default "val_correlation"; configs use "val_evaluation_loss"). */
  monitor: string | null;
  interval: 'epoch' | 'step';
  frequency: number;
}
