import { describe, expect, it } from 'vitest';
import {
  CosineAnnealingLR,
  CosineAnnealingWarmRestarts,
  ExponentialLR,
  MultiStepLR,
  OneCycleLR,
  ReduceLROnPlateau,
  StepLR,
  createScheduler,
  type LrTarget,
  type Scheduler,
} from '../src/index.js';
import { maxRelErr, trainerFixture } from './helpers.js';

interface Case {
  name: string;
  scheduler: string;
  optimizer: 'AdamW' | 'SGD';
  lr: number;
  options: Record<string, unknown>;
  metrics: number[] | null;
  lrs: number[];
  momentum: number[];
}

const fixture = trainerFixture<{ cases: Case[] }>('schedulers.json');

function target(c: Case): LrTarget {
  return c.optimizer === 'AdamW' ? { lr: c.lr, initialLr: c.lr, betas: [0.9, 0.999] } : { lr: c.lr, initialLr: c.lr, momentum: 0.9 };
}

function make(c: Case, t: LrTarget): Scheduler {
  const o = c.options as never;
  switch (c.scheduler) {
    case 'StepLR':
      return new StepLR(t, o);
    case 'MultiStepLR':
      return new MultiStepLR(t, o);
    case 'ExponentialLR':
      return new ExponentialLR(t, o);
    case 'CosineAnnealingLR':
      return new CosineAnnealingLR(t, o);
    case 'CosineAnnealingWarmRestarts':
      return new CosineAnnealingWarmRestarts(t, o);
    case 'OneCycleLR':
      return new OneCycleLR(t, o);
    case 'ReduceLROnPlateau':
      return new ReduceLROnPlateau(t, o);
    default:
      throw new Error(c.scheduler);
  }
}

const mom = (t: LrTarget): number => (t.betas ? t.betas[0] : t.momentum!);

describe('LR schedulers reproduce PyTorch 1.13 sequences (fixtures/trainer/schedulers.json)', () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const t = target(c);
      const s = make(c, t);
      const lrs = [t.lr];
      const moms = [mom(t)];
      for (let i = 0; i < c.lrs.length - 1; i++) {
        if (s instanceof ReduceLROnPlateau) s.step(c.metrics![i]!);
        else s.step();
        lrs.push(t.lr);
        moms.push(mom(t));
      }
      expect(maxRelErr(lrs, c.lrs)).toBeLessThan(1e-12);
      expect(maxRelErr(moms, c.momentum)).toBeLessThan(1e-12);
    });
  }

  it('resumes from a state dict mid-sequence with the same continuation', () => {
    for (const c of fixture.cases) {
      const t1 = target(c);
      const s1 = make(c, t1);
      const half = Math.floor((c.lrs.length - 1) / 2);
      const stepAt = (s: Scheduler, i: number): void => (s instanceof ReduceLROnPlateau ? s.step(c.metrics![i]!) : s.step());
      for (let i = 0; i < half; i++) stepAt(s1, i);
      const saved = JSON.parse(JSON.stringify(s1.stateDict())) as Record<string, unknown>;
      const t2 = target(c);
      const s2 = make(c, t2);
      s2.loadStateDict(saved);
      t2.lr = t1.lr;
      if (t1.betas) t2.betas = [...t1.betas];
      if (t1.momentum !== undefined) t2.momentum = t1.momentum;
      const lrs = [];
      for (let i = half; i < c.lrs.length - 1; i++) {
        stepAt(s2, i);
        lrs.push(t2.lr);
      }
      expect(maxRelErr(lrs, c.lrs.slice(half + 1)), c.name).toBeLessThan(1e-12);
    }
  });

  it('builds schedulers from OpenRetina configs (min_lr = lr·factor³, monitor/interval split off)', () => {
    const t: LrTarget = { lr: 0.01, initialLr: 0.01, betas: [0.9, 0.999] };
    const s = createScheduler(
      {
        _target_: 'torch.optim.lr_scheduler.ReduceLROnPlateau',
        mode: 'max',
        factor: 0.3,
        patience: 5,
        threshold: 0.0005,
        threshold_mode: 'abs',
        cooldown: 0,
        eps: 1e-8,
        monitor: 'val_evaluation_loss',
        interval: 'epoch',
        frequency: 1,
      },
      t as never,
      0.01,
    );
    expect(s.monitor).toBe('val_evaluation_loss');
    expect((s.scheduler as ReduceLROnPlateau).minLr).toBeCloseTo(0.01 * 0.027, 15);
    const d = createScheduler(null, t as never, 0.01);
    expect(d.monitor).toBe('val_correlation');
    const oc = createScheduler(
      { _target_: 'torch.optim.lr_scheduler.OneCycleLR', max_lr: 0.01, interval: 'step', monitor: null },
      t as never,
      0.01,
      20,
    );
    expect(oc.interval).toBe('step');
    expect((oc.scheduler as OneCycleLR).totalSteps).toBe(20);
    expect(() => createScheduler({ _target_: 'torch.optim.lr_scheduler.StepLR', step_sise: 3 }, t as never, 0.01)).toThrow(/step_sise/);
    expect(() => createScheduler({ _target_: 'torch.optim.lr_scheduler.CyclicLR' }, t as never, 0.01)).toThrow(
      /unknown _target_ "torch.optim.lr_scheduler.CyclicLR"/,
    );
    expect(() => new OneCycleLR({ lr: 0.1, initialLr: 0.1 }, { maxLr: 0.1, totalSteps: 5 })).toThrow(/momentum/);
  });
});
