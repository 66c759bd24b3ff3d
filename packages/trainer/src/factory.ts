import type * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@openretina/contracts';
import { EarlyStopping } from './early-stopping.js';
import { AdamW, SGD, type Optimizer } from './optimizers.js';
import {
  CosineAnnealingLR,
  CosineAnnealingWarmRestarts,
  ExponentialLR,
  MultiStepLR,
  OneCycleLR,
  ReduceLROnPlateau,
  StepLR,
  type ScheduledLr,
} from './schedulers.js';

type Config = Readonly<Record<string, unknown>>;

function shortName(target: unknown, what: string): string {
  if (typeof target !== 'string') throw new ConfigError(`${what}: _target_ must be a class path string, got ${JSON.stringify(target)}.`);
  return target.split('.').pop()!;
}

function take(config: Config, allowed: readonly string[], what: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [k, v] of Object.entries(config)) {
    if (k.startsWith('_')) continue;
    if (!allowed.includes(k)) unknown.push(k);
    else if (v !== null && v !== undefined) out[k] = v;
  }
  if (unknown.length) throw new ConfigError(`${what}: unknown option(s) ${unknown.join(', ')}. Accepted: ${allowed.join(', ')}.`);
  return out;
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new ConfigError(`${what} must be a number, got ${JSON.stringify(v)}.`);
  return v;
}

/**
 * An optimizer from an OpenRetina `optimizer` config (`_target_: torch.optim.AdamW` or `torch.optim.SGD`, PyTorch
 * keys); null/undefined gives AdamW(lr) as `instantiate_optimizer` does.
 */
export function createOptimizer(
  config: Config | null | undefined,
  params: ReadonlyMap<string, tf.Variable>,
  learningRate: number,
): Optimizer {
  if (!config) return new AdamW(params, { lr: learningRate });
  const name = shortName(config._target_, 'optimizer');
  if (name === 'AdamW') {
    const o = take(
      config,
      ['lr', 'betas', 'eps', 'weight_decay', 'amsgrad', 'maximize', 'foreach', 'capturable', 'differentiable', 'fused'],
      'optimizer (AdamW)',
    );
    const betas = o.betas as unknown;
    if (betas !== undefined && (!Array.isArray(betas) || betas.length !== 2))
      throw new ConfigError(`optimizer.betas must be a list of two numbers, got ${JSON.stringify(betas)}.`);
    return new AdamW(params, {
      lr: o.lr === undefined ? learningRate : num(o.lr, 'optimizer.lr'),
      ...(betas ? { betas: [num(betas[0], 'optimizer.betas[0]'), num(betas[1], 'optimizer.betas[1]')] as [number, number] } : {}),
      ...(o.eps === undefined ? {} : { eps: num(o.eps, 'optimizer.eps') }),
      ...(o.weight_decay === undefined ? {} : { weightDecay: num(o.weight_decay, 'optimizer.weight_decay') }),
      ...(o.amsgrad === undefined ? {} : { amsgrad: Boolean(o.amsgrad) }),
      ...(o.maximize === undefined ? {} : { maximize: Boolean(o.maximize) }),
    });
  }
  if (name === 'SGD') {
    const o = take(
      config,
      ['lr', 'momentum', 'dampening', 'weight_decay', 'nesterov', 'maximize', 'foreach', 'differentiable'],
      'optimizer (SGD)',
    );
    return new SGD(params, {
      lr: o.lr === undefined ? learningRate : num(o.lr, 'optimizer.lr'),
      ...(o.momentum === undefined ? {} : { momentum: num(o.momentum, 'optimizer.momentum') }),
      ...(o.dampening === undefined ? {} : { dampening: num(o.dampening, 'optimizer.dampening') }),
      ...(o.weight_decay === undefined ? {} : { weightDecay: num(o.weight_decay, 'optimizer.weight_decay') }),
      ...(o.nesterov === undefined ? {} : { nesterov: Boolean(o.nesterov) }),
      ...(o.maximize === undefined ? {} : { maximize: Boolean(o.maximize) }),
    });
  }
  throw new ConfigError(`Unsupported optimizer _target_ "${String(config._target_)}" (supported: torch.optim.AdamW, torch.optim.SGD).`);
}

/**
 * A scheduler from an OpenRetina `lr_scheduler` config, as `instantiate_scheduler`: the Lightning keys `monitor`
 * (default "val_correlation"), `interval` ("epoch") and `frequency` (1) are split off; ReduceLROnPlateau gets
 * `min_lr = lr·factor³` when missing; OneCycleLR gets `total_steps` from `totalSteps` when missing. A null config
 * gives the default ReduceLROnPlateau, which monitors "val_correlation" exactly as OpenRetina does (a metric that
 * is never logged: the loop then raises an error; pass a config with `monitor: val_evaluation_loss`).
 */
export function createScheduler(
  config: Config | null | undefined,
  optimizer: Optimizer,
  learningRate: number,
  totalSteps?: number,
): ScheduledLr {
  if (!config) {
    return {
      scheduler: new ReduceLROnPlateau(optimizer, {
        mode: 'max',
        factor: 0.3,
        patience: 5,
        threshold: 0.0005,
        thresholdMode: 'abs',
        minLr: learningRate * 0.3 ** 3,
      }),
      monitor: 'val_correlation',
      interval: 'epoch',
      frequency: 1,
    };
  }
  const { monitor, interval, frequency, last_epoch: lastEpoch, verbose: _verbose, ...rest } = config;
  if (lastEpoch !== undefined && lastEpoch !== null && lastEpoch !== -1)
    throw new ConfigError('lr_scheduler.last_epoch other than -1 is not supported (resume from a training state instead).');
  const iv = (interval ?? 'epoch') as string;
  if (iv !== 'epoch' && iv !== 'step')
    throw new ConfigError(`lr_scheduler.interval must be "epoch" or "step", got ${JSON.stringify(interval)}.`);
  const freq = frequency === undefined || frequency === null ? 1 : num(frequency, 'lr_scheduler.frequency');
  const mon = monitor === undefined ? 'val_correlation' : (monitor as string | null);
  const name = shortName(rest._target_, 'lr_scheduler');
  const w = (scheduler: ScheduledLr['scheduler']): ScheduledLr => ({ scheduler, monitor: mon, interval: iv, frequency: freq });
  const what = `lr_scheduler (${name})`;
  switch (name) {
    case 'ReduceLROnPlateau': {
      const o = take(rest, ['mode', 'factor', 'patience', 'threshold', 'threshold_mode', 'cooldown', 'min_lr', 'eps'], what);
      const factor = o.factor === undefined ? 0.1 : num(o.factor, 'lr_scheduler.factor');
      // OpenRetina's rule reads the factor with a 0.3 default for min_lr (torch's own default factor is 0.1).
      const minLrFactor = o.factor === undefined ? 0.3 : factor;
      return w(
        new ReduceLROnPlateau(optimizer, {
          factor,
          minLr: o.min_lr === undefined ? learningRate * minLrFactor ** 3 : num(o.min_lr, 'lr_scheduler.min_lr'),
          ...(o.mode === undefined ? {} : { mode: o.mode as 'min' | 'max' }),
          ...(o.patience === undefined ? {} : { patience: num(o.patience, 'lr_scheduler.patience') }),
          ...(o.threshold === undefined ? {} : { threshold: num(o.threshold, 'lr_scheduler.threshold') }),
          ...(o.threshold_mode === undefined ? {} : { thresholdMode: o.threshold_mode as 'rel' | 'abs' }),
          ...(o.cooldown === undefined ? {} : { cooldown: num(o.cooldown, 'lr_scheduler.cooldown') }),
          ...(o.eps === undefined ? {} : { eps: num(o.eps, 'lr_scheduler.eps') }),
        }),
      );
    }
    case 'StepLR': {
      const o = take(rest, ['step_size', 'gamma'], what);
      return w(
        new StepLR(optimizer, {
          stepSize: num(o.step_size, 'lr_scheduler.step_size'),
          ...(o.gamma === undefined ? {} : { gamma: num(o.gamma, 'lr_scheduler.gamma') }),
        }),
      );
    }
    case 'MultiStepLR': {
      const o = take(rest, ['milestones', 'gamma'], what);
      if (!Array.isArray(o.milestones))
        throw new ConfigError(`lr_scheduler.milestones must be a list, got ${JSON.stringify(o.milestones)}.`);
      return w(
        new MultiStepLR(optimizer, {
          milestones: o.milestones.map((m) => num(m, 'lr_scheduler.milestones[]')),
          ...(o.gamma === undefined ? {} : { gamma: num(o.gamma, 'lr_scheduler.gamma') }),
        }),
      );
    }
    case 'ExponentialLR': {
      const o = take(rest, ['gamma'], what);
      return w(new ExponentialLR(optimizer, { gamma: num(o.gamma, 'lr_scheduler.gamma') }));
    }
    case 'CosineAnnealingLR': {
      const o = take(rest, ['T_max', 'eta_min'], what);
      return w(
        new CosineAnnealingLR(optimizer, {
          tMax: num(o.T_max, 'lr_scheduler.T_max'),
          ...(o.eta_min === undefined ? {} : { etaMin: num(o.eta_min, 'lr_scheduler.eta_min') }),
        }),
      );
    }
    case 'CosineAnnealingWarmRestarts': {
      const o = take(rest, ['T_0', 'T_mult', 'eta_min'], what);
      return w(
        new CosineAnnealingWarmRestarts(optimizer, {
          t0: num(o.T_0, 'lr_scheduler.T_0'),
          ...(o.T_mult === undefined ? {} : { tMult: num(o.T_mult, 'lr_scheduler.T_mult') }),
          ...(o.eta_min === undefined ? {} : { etaMin: num(o.eta_min, 'lr_scheduler.eta_min') }),
        }),
      );
    }
    case 'OneCycleLR': {
      const o = take(
        rest,
        [
          'max_lr',
          'total_steps',
          'epochs',
          'steps_per_epoch',
          'pct_start',
          'anneal_strategy',
          'cycle_momentum',
          'base_momentum',
          'max_momentum',
          'div_factor',
          'final_div_factor',
          'three_phase',
        ],
        what,
      );
      const n = (k: string): number | undefined => (o[k] === undefined ? undefined : num(o[k], `lr_scheduler.${k}`));
      const opts = {
        maxLr: n('max_lr') ?? learningRate,
        pctStart: n('pct_start'),
        annealStrategy: o.anneal_strategy as 'cos' | 'linear' | undefined,
        cycleMomentum: o.cycle_momentum as boolean | undefined,
        baseMomentum: n('base_momentum'),
        maxMomentum: n('max_momentum'),
        divFactor: n('div_factor'),
        finalDivFactor: n('final_div_factor'),
        threePhase: o.three_phase as boolean | undefined,
        totalSteps: n('total_steps') ?? (o.steps_per_epoch === undefined ? totalSteps : undefined),
        epochs: n('epochs'),
        stepsPerEpoch: n('steps_per_epoch'),
      };
      const clean = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as unknown as ConstructorParameters<
        typeof OneCycleLR
      >[1];
      return w(new OneCycleLR(optimizer, clean));
    }
    default:
      throw new ConfigError(
        `Unsupported lr_scheduler _target_ "${String(rest._target_)}" (supported: ReduceLROnPlateau, StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, OneCycleLR).`,
      );
  }
}

/** Early stopping from OpenRetina's `training_callbacks.early_stopping` config (Lightning keys). */
export function createEarlyStopping(config: Config): EarlyStopping {
  const o = take(
    config,
    [
      'monitor',
      'min_delta',
      'patience',
      'verbose',
      'mode',
      'strict',
      'check_finite',
      'stopping_threshold',
      'divergence_threshold',
      'check_on_train_epoch_end',
      'log_rank_zero_only',
    ],
    'early_stopping',
  );
  if (typeof o.monitor !== 'string')
    throw new ConfigError(`early_stopping.monitor must be a metric name, got ${JSON.stringify(o.monitor)}.`);
  return new EarlyStopping({
    monitor: o.monitor,
    ...(o.min_delta === undefined ? {} : { minDelta: num(o.min_delta, 'early_stopping.min_delta') }),
    ...(o.patience === undefined ? {} : { patience: num(o.patience, 'early_stopping.patience') }),
    ...(o.mode === undefined ? {} : { mode: o.mode as 'min' | 'max' }),
    ...(o.strict === undefined ? {} : { strict: Boolean(o.strict) }),
    ...(o.check_finite === undefined ? {} : { checkFinite: Boolean(o.check_finite) }),
    ...(o.stopping_threshold === undefined ? {} : { stoppingThreshold: num(o.stopping_threshold, 'early_stopping.stopping_threshold') }),
    ...(o.divergence_threshold === undefined
      ? {}
      : { divergenceThreshold: num(o.divergence_threshold, 'early_stopping.divergence_threshold') }),
  });
}
