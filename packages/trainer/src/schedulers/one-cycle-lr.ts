import { ConfigError } from '@openretina/contracts';
import { LRScheduler, type LrTarget } from './lr-scheduler.js';

/*
 * `OneCycleLR`: the per-batch warm-up and annealing schedule, cycling momentum (or AdamW's beta1) inversely.
 */

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
