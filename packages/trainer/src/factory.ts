import type * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { camelCaseOptions, hydraKeys, parseConfig } from '@openretina/models';
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

/** `_target_` of a torch class: its full path or its short name. */
function target<const P extends string, const S extends string>(path: P, short: S) {
  return z.literal([path, short]);
}
const num = z.number();
const count = z.number().int().nonnegative();
/** torch's implementation switches (foreach, fused, ...): they choose kernels, not results; only null/false here. */
const torchSwitch = z.union([z.null(), z.literal(false)]).optional();

const adamW = z
  .object({
    _target_: target('torch.optim.AdamW', 'AdamW'),
    ...hydraKeys,
    lr: num.optional(),
    betas: z.tuple([num, num]).optional(),
    eps: num.optional(),
    weight_decay: num.optional(),
    amsgrad: z.boolean().optional(),
    maximize: z.boolean().optional(),
    foreach: torchSwitch,
    capturable: torchSwitch,
    differentiable: torchSwitch,
    fused: torchSwitch,
  })
  .strict();

const sgd = z
  .object({
    _target_: target('torch.optim.SGD', 'SGD'),
    ...hydraKeys,
    lr: num.optional(),
    momentum: num.optional(),
    dampening: num.optional(),
    weight_decay: num.optional(),
    nesterov: z.boolean().optional(),
    maximize: z.boolean().optional(),
    foreach: torchSwitch,
    differentiable: torchSwitch,
  })
  .strict();

/** An `optimizer` section: torch.optim.AdamW or torch.optim.SGD with PyTorch's keys. */
export const optimizerConfigSchema = z.discriminatedUnion('_target_', [adamW, sgd]);
export type OptimizerConfig = z.output<typeof optimizerConfigSchema>;

/** Lightning's keys of a scheduler section: what it monitors, and whether it steps per epoch or per batch. */
const lightningKeys = {
  ...hydraKeys,
  monitor: z.string().nullable().optional(),
  interval: z.enum(['epoch', 'step']).optional(),
  frequency: z.number().int().positive().optional(),
  last_epoch: z.literal(-1, { error: 'last_epoch other than -1 is not supported (resume from a training state instead)' }).optional(),
  verbose: z.union([z.boolean(), z.literal('deprecated')]).optional(),
};
const scheduler = <const N extends string, S extends z.ZodRawShape>(name: N, shape: S) =>
  z.object({ _target_: target(`torch.optim.lr_scheduler.${name}`, name), ...lightningKeys, ...shape }).strict();

const reduceOnPlateau = scheduler('ReduceLROnPlateau', {
  mode: z.enum(['min', 'max']).optional(),
  factor: num.optional(),
  patience: count.optional(),
  threshold: num.optional(),
  threshold_mode: z.enum(['rel', 'abs']).optional(),
  cooldown: count.optional(),
  min_lr: num.optional(),
  eps: num.optional(),
});
const stepLr = scheduler('StepLR', { step_size: z.number().int().positive(), gamma: num.optional() });
const multiStepLr = scheduler('MultiStepLR', { milestones: z.array(count), gamma: num.optional() });
const exponentialLr = scheduler('ExponentialLR', { gamma: num });
const cosineLr = scheduler('CosineAnnealingLR', { T_max: z.number().int().positive(), eta_min: num.optional() });
const cosineRestarts = scheduler('CosineAnnealingWarmRestarts', {
  T_0: z.number().int().positive(),
  T_mult: z.number().int().positive().optional(),
  eta_min: num.optional(),
});
const oneCycle = scheduler('OneCycleLR', {
  max_lr: num.optional(),
  total_steps: z.number().int().positive().nullable().optional(),
  epochs: z.number().int().positive().nullable().optional(),
  steps_per_epoch: z.number().int().positive().nullable().optional(),
  pct_start: num.optional(),
  anneal_strategy: z.enum(['cos', 'linear']).optional(),
  cycle_momentum: z.boolean().optional(),
  base_momentum: num.optional(),
  max_momentum: num.optional(),
  div_factor: num.optional(),
  final_div_factor: num.optional(),
  three_phase: z.boolean().optional(),
});

/** An `lr_scheduler` section: a torch scheduler with its keys plus Lightning's monitor/interval/frequency. */
export const schedulerConfigSchema = z.discriminatedUnion('_target_', [
  reduceOnPlateau,
  stepLr,
  multiStepLr,
  exponentialLr,
  cosineLr,
  cosineRestarts,
  oneCycle,
]);
export type SchedulerConfig = z.output<typeof schedulerConfigSchema>;

/** `training_callbacks.early_stopping`: Lightning's EarlyStopping. */
export const earlyStoppingConfigSchema = z
  .object({
    _target_: target('lightning.pytorch.callbacks.EarlyStopping', 'EarlyStopping').optional(),
    ...hydraKeys,
    monitor: z.string(),
    min_delta: num.optional(),
    patience: count.optional(),
    /** Lightning prints a line when it stops; the loop's stop reason and progress events carry that here. */
    verbose: z.boolean().optional(),
    mode: z.enum(['min', 'max']).optional(),
    strict: z.boolean().optional(),
    check_finite: z.boolean().optional(),
    stopping_threshold: num.nullable().optional(),
    divergence_threshold: num.nullable().optional(),
    check_on_train_epoch_end: z.union([z.null(), z.literal(false)]).optional(),
    log_rank_zero_only: z.boolean().optional(),
  })
  .strict();
export type EarlyStoppingConfig = z.output<typeof earlyStoppingConfigSchema>;

/**
 * An optimizer from an OpenRetina `optimizer` config (`_target_: torch.optim.AdamW` or `torch.optim.SGD`, PyTorch
 * keys); null/undefined gives AdamW(lr) as `instantiate_optimizer` does.
 */
export function createOptimizer(
  config: Readonly<Record<string, unknown>> | null | undefined,
  params: ReadonlyMap<string, tf.Variable>,
  learningRate: number,
): Optimizer {
  if (!config) return new AdamW(params, { lr: learningRate });
  const parsed = parseConfig(optimizerConfigSchema, config, 'optimizer');
  switch (parsed._target_) {
    case 'torch.optim.SGD':
    case 'SGD': {
      const { foreach: _f, differentiable: _d, lr, ...o } = camelCaseOptions(parsed);
      return new SGD(params, { ...o, lr: lr ?? learningRate });
    }
    case 'torch.optim.AdamW':
    case 'AdamW': {
      const { foreach: _f, differentiable: _d, capturable: _c, fused: _u, lr, ...o } = camelCaseOptions(parsed);
      return new AdamW(params, { ...o, lr: lr ?? learningRate });
    }
  }
}

/**
 * A scheduler from an OpenRetina `lr_scheduler` config, as `instantiate_scheduler`: the Lightning keys `monitor`
 * (default "val_correlation"), `interval` ("epoch") and `frequency` (1) are split off; ReduceLROnPlateau gets
 * `min_lr = lr·factor³` when missing; OneCycleLR gets `total_steps` from `totalSteps` when missing. A null config
 * gives the default ReduceLROnPlateau, which monitors "val_correlation" exactly as OpenRetina does (a metric that
 * is never logged: the loop then raises an error; pass a config with `monitor: val_evaluation_loss`).
 */
export function createScheduler(
  config: Readonly<Record<string, unknown>> | null | undefined,
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
  const parsed = parseConfig(schedulerConfigSchema, config, 'lr_scheduler');
  const { monitor, interval, frequency } = parsed;
  const w = (s: ScheduledLr['scheduler']): ScheduledLr => ({
    scheduler: s,
    monitor: monitor === undefined ? 'val_correlation' : monitor,
    interval: interval ?? 'epoch',
    frequency: frequency ?? 1,
  });
  switch (parsed._target_) {
    case 'torch.optim.lr_scheduler.ReduceLROnPlateau':
    case 'ReduceLROnPlateau': {
      const p = camelCaseOptions(parsed);
      // OpenRetina's rule reads the factor with a 0.3 default for min_lr (torch's own default factor is 0.1).
      const { minLr, factor, mode, patience, threshold, thresholdMode, cooldown, eps } = p;
      return w(
        new ReduceLROnPlateau(optimizer, {
          factor: factor ?? 0.1,
          minLr: minLr ?? learningRate * (factor ?? 0.3) ** 3,
          ...defined({ mode, patience, threshold, thresholdMode, cooldown, eps }),
        }),
      );
    }
    case 'torch.optim.lr_scheduler.StepLR':
    case 'StepLR': {
      const { stepSize, gamma } = camelCaseOptions(parsed);
      return w(new StepLR(optimizer, { stepSize, ...defined({ gamma }) }));
    }
    case 'torch.optim.lr_scheduler.MultiStepLR':
    case 'MultiStepLR': {
      const { milestones, gamma } = camelCaseOptions(parsed);
      return w(new MultiStepLR(optimizer, { milestones, ...defined({ gamma }) }));
    }
    case 'torch.optim.lr_scheduler.ExponentialLR':
    case 'ExponentialLR':
      return w(new ExponentialLR(optimizer, { gamma: parsed.gamma }));
    case 'torch.optim.lr_scheduler.CosineAnnealingLR':
    case 'CosineAnnealingLR':
      return w(new CosineAnnealingLR(optimizer, { tMax: parsed.T_max, ...defined({ etaMin: parsed.eta_min }) }));
    case 'torch.optim.lr_scheduler.CosineAnnealingWarmRestarts':
    case 'CosineAnnealingWarmRestarts':
      return w(
        new CosineAnnealingWarmRestarts(optimizer, { t0: parsed.T_0, ...defined({ tMult: parsed.T_mult, etaMin: parsed.eta_min }) }),
      );
    case 'torch.optim.lr_scheduler.OneCycleLR':
    case 'OneCycleLR': {
      const { maxLr, totalSteps: steps, epochs, stepsPerEpoch, ...rest } = camelCaseOptions(parsed);
      return w(
        new OneCycleLR(optimizer, {
          ...defined({
            pctStart: rest.pctStart,
            annealStrategy: rest.annealStrategy,
            cycleMomentum: rest.cycleMomentum,
            baseMomentum: rest.baseMomentum,
            maxMomentum: rest.maxMomentum,
            divFactor: rest.divFactor,
            finalDivFactor: rest.finalDivFactor,
            threePhase: rest.threePhase,
            epochs: epochs ?? undefined,
            stepsPerEpoch: stepsPerEpoch ?? undefined,
            totalSteps: steps ?? (stepsPerEpoch == null ? totalSteps : undefined),
          }),
          maxLr: maxLr ?? learningRate,
        }),
      );
    }
  }
  throw new Error(`unreachable: lr_scheduler ${String((parsed as { _target_: string })._target_)}`);
}

/** The entries whose value is defined (options objects take no explicit undefined). */
function defined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/** Early stopping from OpenRetina's `training_callbacks.early_stopping` config (Lightning keys). */
export function createEarlyStopping(config: Readonly<Record<string, unknown>>, warn?: (message: string) => void): EarlyStopping {
  const { monitor, minDelta, patience, mode, strict, checkFinite, stoppingThreshold, divergenceThreshold } = camelCaseOptions(
    parseConfig(earlyStoppingConfigSchema, config, 'early_stopping'),
  );
  return new EarlyStopping({
    monitor,
    ...defined({
      minDelta,
      patience,
      mode,
      strict,
      checkFinite,
      stoppingThreshold: stoppingThreshold ?? undefined,
      divergenceThreshold: divergenceThreshold ?? undefined,
      warn,
    }),
  });
}
