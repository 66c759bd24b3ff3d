import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  DataError,
  StateDictError,
  type SessionBatch,
  type StateDict,
  type StatefulModule,
  type TrainableModel,
} from '@openretina/contracts';
import { firstNonFinite } from '@openretina/layers';
import { TfjsEngine } from '@openretina/models';
import type { EarlyStopping } from './early-stopping.js';
import { AdamW, Optimizer, clipGradNorm } from './optimizers.js';
import { LRScheduler, ReduceLROnPlateau, type ScheduledLr } from './schedulers.js';
import type {
  BestCheckpoint,
  EpochRecord,
  TrainCallbacks,
  TrainContext,
  TrainLogger,
  TrainOptions,
  TrainProgress,
  TrainResult,
  TrainingData,
  TrainingEngine,
  TrainingState,
} from './train-types.js';
import { validate } from './validate.js';
import { WeightedMeans } from './weighted-means.js';
import { EpochPhases } from './epoch-phases.js';

/** The default scheduler of OpenRetina's configs: ReduceLROnPlateau(max, 0.3, patience 5, 5e-4 abs, min_lr = lr·0.3³). */
export function defaultScheduler(optimizer: Optimizer): ScheduledLr {
  return {
    scheduler: new ReduceLROnPlateau(optimizer, {
      mode: 'max',
      factor: 0.3,
      patience: 5,
      threshold: 0.0005,
      thresholdMode: 'abs',
      minLr: optimizer.lr * 0.3 ** 3,
    }),
    monitor: 'val_evaluation_loss',
    interval: 'epoch',
    frequency: 1,
  };
}

/** The validated settings of a run. */
interface Settings<M extends TrainableModel> {
  maxEpochs: number;
  clip: number | null;
  /** Lightning's accumulate_grad_batches. */
  k: number;
  checkpoint: { monitor: string; mode: 'min' | 'max' };
  callbacks: TrainCallbacks<M>[];
  loggers: TrainLogger[];
  progress: (event: TrainProgress) => void;
}

function settingsOf<M extends TrainableModel>(options: TrainOptions<M>): Settings<M> {
  const maxEpochs = options.maxEpochs ?? 100;
  if (!Number.isInteger(maxEpochs) || maxEpochs < 0) throw new ConfigError(`maxEpochs must be a non-negative integer, got ${maxEpochs}.`);
  const clip = options.gradientClipVal ?? null;
  if (clip !== null && !(clip > 0)) throw new ConfigError(`gradientClipVal must be positive, got ${clip}.`);
  const k = options.accumulateGradBatches ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`accumulateGradBatches must be a positive integer, got ${k}.`);
  const list = <T>(x: T | readonly T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? [...x] : [x as T]);
  return {
    maxEpochs,
    clip,
    k,
    checkpoint: options.checkpoint ?? { monitor: 'val_evaluation_loss', mode: 'max' },
    callbacks: list(options.callbacks),
    loggers: list(options.logger),
    progress: options.onProgress ?? (() => undefined),
  };
}

/** OpenRetina's only_train_readout: every parameter of the model's core stops receiving gradients. */
function freezeCore(model: TrainableModel): void {
  const core = (model as { core?: Partial<StatefulModule> }).core;
  if (typeof core?.namedParameters !== 'function') {
    throw new ConfigError('onlyTrainReadout freezes the model’s core, but the model has none (a core-readout model has `core`).');
  }
  for (const v of core.namedParameters().values()) v.trainable = false;
}

/** The parameters the optimizer holds: every parameter of the model that receives gradients, in state-dict order. */
function trainableParameters(model: TrainableModel): Map<string, tf.Variable> {
  return new Map([...model.namedParameters()].filter(([, v]) => v.trainable));
}

function copyStateDict(sd: StateDict): StateDict {
  const out: StateDict = new Map();
  for (const [k, v] of sd) out.set(k, { shape: [...v.shape], dtype: v.dtype, data: v.data.slice() } as typeof v);
  return out;
}

/**
 * Adds one batch's gradients to the sum of its accumulation group (Lightning's accumulate_grad_batches: each batch
 * counts 1/k). Takes ownership of `grads` and of `sum`; returns the new sum.
 */
function accumulateGradients(sum: Map<string, tf.Tensor> | null, grads: Map<string, tf.Tensor>, k: number): Map<string, tf.Tensor> {
  let scaled = grads;
  if (k > 1) {
    scaled = new Map([...grads].map(([name, g]) => [name, tf.div(g, k)]));
    tf.dispose([...grads.values()]);
  }
  if (sum === null) return scaled;
  for (const [name, g] of scaled) {
    const prev = sum.get(name);
    if (prev) {
      sum.set(name, tf.add(prev, g));
      tf.dispose([prev, g]);
    } else sum.set(name, g);
  }
  return sum;
}

/** One optimizer step on summed gradients (clipped by global norm when asked), then the model's post-step hook. Frees the gradients. */
function optimizerStep(model: TrainableModel, optimizer: Optimizer, grads: Map<string, tf.Tensor>, clip: number | null): void {
  try {
    if (clip !== null) {
      const clipped = clipGradNorm(grads, clip);
      optimizer.step(clipped.grads);
      tf.dispose([...clipped.grads.values()]);
    } else {
      optimizer.step(grads);
    }
  } finally {
    tf.dispose([...grads.values()]);
  }
  model.afterOptimizerStep?.();
}

/**
 * Steps the LR scheduler when its interval and frequency say so: after an optimizer step (`step` interval) or at the
 * end of an epoch (`epoch` interval; ReduceLROnPlateau reads its monitored metric).
 */
function stepScheduler(
  scheduled: ScheduledLr | null,
  at: { interval: 'step'; globalStep: number } | { interval: 'epoch'; epoch: number; metrics: Record<string, number> },
): void {
  if (!scheduled || scheduled.interval !== at.interval) return;
  if (at.interval === 'step') {
    if (scheduled.scheduler instanceof LRScheduler && at.globalStep % scheduled.frequency === 0) scheduled.scheduler.step();
    return;
  }
  if ((at.epoch + 1) % scheduled.frequency !== 0) return;
  const s = scheduled.scheduler;
  if (!(s instanceof ReduceLROnPlateau)) {
    s.step();
    return;
  }
  const monitor = scheduled.monitor ?? 'val_evaluation_loss';
  const m = at.metrics[monitor];
  if (m === undefined)
    throw new ConfigError(`The LR scheduler monitors "${monitor}", which is not a logged metric (${Object.keys(at.metrics).join(', ')}).`);
  s.step(m);
}

/**
 * Whether this epoch's monitored metric beats the best checkpoint (Lightning's ModelCheckpoint, save_top_k=1:
 * strictly better; NaN counts as the worst).
 */
function selectCheckpoint(
  metrics: Record<string, number>,
  checkpoint: { monitor: string; mode: 'min' | 'max' },
  best: BestCheckpoint | null,
): { improved: boolean; score: number } {
  const raw = metrics[checkpoint.monitor];
  if (raw === undefined)
    throw new ConfigError(`Checkpoint monitor "${checkpoint.monitor}" is not a logged metric (${Object.keys(metrics).join(', ')}).`);
  const score = Number.isFinite(raw) ? raw : checkpoint.mode === 'max' ? -Infinity : Infinity;
  return { improved: best === null || (checkpoint.mode === 'max' ? score > best.score : score < best.score), score };
}

/** Lightning's training-step log names of one step's loss parts. */
function stepMetrics(step: { total: number; data: number; regularizers: Readonly<Record<string, number>> }): Record<string, number> {
  const out: Record<string, number> = { train_total_loss: step.total, train_loss: step.data };
  for (const [name, v] of Object.entries(step.regularizers)) out[`regularization_loss_${name}`] = v;
  return out;
}

/** Why a step's loss or gradients are not finite (one reduction over every gradient), or null when they are. */
function nonFiniteStep(step: { total: number; grads: Map<string, tf.Tensor> }): string | null {
  if (!Number.isFinite(step.total)) return `the loss is ${step.total}`;
  if (step.grads.size === 0) return null;
  const grads = [...step.grads.values()];
  const total = tf.tidy(() => tf.addN(grads.map((g) => tf.sum(tf.abs(g)))));
  const value = total.dataSync()[0]!;
  total.dispose();
  if (Number.isFinite(value)) return null;
  const name = [...step.grads].find(([, g]) => firstNonFinite(g) !== null)?.[0];
  return name === undefined ? null : `the gradient of ${name} is not finite`; // else only the sum overflowed
}

/** The mutable state of a run: what a snapshot saves and a resume restores. */
interface Run {
  epoch: number;
  globalStep: number;
  best: BestCheckpoint | null;
  history: EpochRecord[];
  stopRequested: boolean;
  stopReason: string | null;
}

/** What one epoch of training needs. */
interface Loop<M extends TrainableModel> {
  model: M;
  data: TrainingData;
  engine: TrainingEngine;
  optimizer: Optimizer;
  scheduled: ScheduledLr | null;
  settings: Settings<M>;
  run: Run;
  context: () => TrainContext<M>;
  /** Where this epoch's time goes (reset per epoch). */
  phases: EpochPhases;
}

/**
 * One training epoch: per batch the engine's loss and gradients (the next batch is taken while a step is awaited),
 * gradients accumulated over groups of k batches, one optimizer step (and a step-interval scheduler step) per group
 * and at the epoch's end. Returns the batch-weighted means of the step metrics.
 */
async function trainEpoch<M extends TrainableModel>(loop: Loop<M>): Promise<Record<string, number>> {
  const { model, engine, optimizer, settings, run, phases } = loop;
  model.train();
  const means = new WeightedMeans();
  let batchIndex = 0;
  let t = performance.now();
  settings.progress({ type: 'epochStart', epoch: run.epoch, maxEpochs: settings.maxEpochs, stepsPerEpoch: loop.data.stepsPerEpoch });
  t = phases.add('logging', t);
  const iterator = loop.data.train(run.epoch)[Symbol.iterator]();
  let next = iterator.next();
  t = phases.add('data', t);
  let summed: Map<string, tf.Tensor> | null = null;
  let inGroup = 0;
  try {
    while (!next.done) {
      const batch: SessionBatch = next.value;
      let loss: number;
      try {
        const pending = engine.lossAndGrads(batch.inputs, batch.targets, batch.session, model.parametersForSession(batch.session));
        t = phases.add('step', t);
        try {
          next = iterator.next(); // prefetch while the step runs
        } catch (e) {
          await pending.then(
            (r) => tf.dispose([...r.grads.values()]),
            () => undefined,
          );
          throw e;
        }
        t = phases.add('data', t);
        const step = await pending;
        t = phases.add('step', t);
        // A NaN or Inf loss or gradient would poison the weights: stop with the weights of the last good step.
        const problem = nonFiniteStep(step);
        if (problem !== null) {
          tf.dispose([...step.grads.values()]);
          throw new DataError(
            `Training stopped at epoch ${run.epoch + 1}, batch ${batchIndex + 1} (session ${batch.session}): ${problem}. The weights before this step are kept; check the data for NaN/Inf values or lower the learning rate.`,
            { details: { epoch: run.epoch, batch: batchIndex, session: batch.session } },
          );
        }
        summed = accumulateGradients(summed, step.grads, settings.k);
        inGroup++;
        loss = step.total;
        means.add(stepMetrics(step), batch.inputs.shape[0]);
      } finally {
        tf.dispose([batch.inputs, batch.targets]);
      }
      // One optimizer step per k batches, and at the end of the epoch for a last, incomplete group.
      if (inGroup === settings.k || next.done) {
        const grads = summed!;
        summed = null;
        inGroup = 0;
        optimizerStep(model, optimizer, grads, settings.clip);
        run.globalStep++;
        stepScheduler(loop.scheduled, { interval: 'step', globalStep: run.globalStep });
      }
      t = phases.add('optimizer', t);
      settings.progress({ type: 'batchEnd', epoch: run.epoch, batch: batchIndex, session: batch.session, loss });
      t = phases.add('logging', t);
      for (const cb of settings.callbacks) await cb.onBatchEnd?.(loop.context(), { session: batch.session, loss, batch: batchIndex });
      t = phases.add('callbacks', t);
      batchIndex++;
    }
  } finally {
    // A batch taken but not trained on (an error, or a prefetched batch) is freed; the iterator is closed as for…of does.
    if (!next.done) {
      tf.dispose([next.value.inputs, next.value.targets]);
      iterator.return?.();
    }
    if (summed) tf.dispose([...(summed as Map<string, tf.Tensor>).values()]);
  }
  if (means.empty) throw new ConfigError(`Training epoch ${run.epoch} produced no batches.`);
  return means.values();
}

/** Early stopping's verdict on this epoch's metrics, recorded in the run. */
function checkEarlyStopping(earlyStopping: EarlyStopping | null, metrics: Record<string, number>, run: Run): void {
  if (!earlyStopping) return;
  const d = earlyStopping.check(metrics, run.epoch);
  if (d.shouldStop) {
    run.stopRequested = true;
    run.stopReason = d.reason;
  }
}

/**
 * Trains any {@link TrainableModel} with OpenRetina's (Lightning's) semantics: per step the engine's loss
 * (`model.loss(...).total`) and gradients over `model.parametersForSession(session)`, optional clipping by global
 * norm, an optimizer step; per epoch validation, the best checkpoint (in memory), early stopping and the LR
 * scheduler on the validation metrics, callbacks, logging and progress events. The engine is `options.engine`, or
 * the TF.js reference `TfjsEngine` of '@openretina/models'.
 */
export async function train<M extends TrainableModel>(model: M, data: TrainingData, options: TrainOptions<M> = {}): Promise<TrainResult> {
  const settings = settingsOf(options);
  if (options.onlyTrainReadout) freezeCore(model);
  const params = trainableParameters(model);
  if (params.size === 0) throw new ConfigError('The model has no trainable parameters.');
  const optimizer =
    options.optimizer instanceof Optimizer
      ? options.optimizer
      : typeof options.optimizer === 'function'
        ? options.optimizer(params)
        : new AdamW(params, { lr: model.learningRate ?? 1e-3 });
  // from here on the optimizer (and any tensor the run makes) is freed however the run ends
  try {
    // Lightning's estimated_stepping_batches: optimizer steps = ⌈batches / k⌉ per epoch.
    const totalSteps = data.stepsPerEpoch === undefined ? undefined : Math.ceil(data.stepsPerEpoch / settings.k) * settings.maxEpochs;
    const scheduled =
      options.scheduler === null
        ? null
        : typeof options.scheduler === 'function'
          ? options.scheduler(optimizer, totalSteps)
          : (options.scheduler ?? defaultScheduler(optimizer));
    const earlyStopping = options.earlyStopping ?? null;
    const engine = options.engine ?? new TfjsEngine(model);

    const run: Run = { epoch: 0, globalStep: 0, best: null, history: [], stopRequested: false, stopReason: null };
    if (options.resume) {
      const r = options.resume;
      model.loadStateDict(r.model);
      optimizer.loadStateDict(r.optimizer);
      if (scheduled && r.scheduler) scheduled.scheduler.loadStateDict(r.scheduler);
      else if (scheduled && !r.scheduler)
        throw new StateDictError('The resume state has no scheduler state, but a scheduler is configured.');
      if (earlyStopping && r.earlyStopping) earlyStopping.loadStateDict(r.earlyStopping);
      run.epoch = r.epoch;
      run.globalStep = r.globalStep;
      run.best = r.best ? { ...r.best, stateDict: copyStateDict(r.best.stateDict) } : null;
      run.history.push(...r.history);
      if (r.random && model.loadRandomState) model.loadRandomState(r.random);
    }
    const snapshot = (): TrainingState => ({
      epoch: run.epoch,
      globalStep: run.globalStep,
      model: model.stateDict(),
      optimizer: optimizer.stateDict(),
      scheduler: scheduled ? scheduled.scheduler.stateDict() : null,
      earlyStopping: earlyStopping ? earlyStopping.stateDict() : null,
      best: run.best ? { ...run.best, stateDict: copyStateDict(run.best.stateDict) } : null,
      history: run.history.map((h) => ({ ...h, metrics: { ...h.metrics } })),
      ...(model.randomState ? { random: model.randomState() } : {}),
    });
    const context = (): TrainContext<M> => ({
      model,
      optimizer,
      epoch: run.epoch,
      globalStep: run.globalStep,
      history: run.history,
      state: snapshot,
      stop: () => {
        run.stopRequested = true;
        run.stopReason ??= 'stopped by a callback';
      },
    });
    const loop: Loop<M> = { model, data, engine, optimizer, scheduled, settings, run, context, phases: new EpochPhases() };
    const { callbacks, loggers } = settings;

    for (const cb of callbacks) await cb.onTrainStart?.(context());
    // PyTorch stops when max_epochs is reached, or when an earlier early stop was recorded in the resumed state.
    if (earlyStopping?.stopped) run.stopRequested = true;

    while (run.epoch < settings.maxEpochs && !run.stopRequested) {
      const phases = new EpochPhases();
      loop.phases = phases;
      await phases.time('callbacks', async () => {
        for (const cb of callbacks) await cb.onEpochStart?.(context());
      });
      const lr = optimizer.lr;
      const started = Date.now();
      const trainMetrics = await trainEpoch(loop);
      const metrics = { ...trainMetrics, ...(await phases.time('validation', () => validate(model, data.validation(), engine))) };
      await phases.time('callbacks', async () => {
        for (const cb of callbacks) await cb.onValidationEnd?.(context(), metrics);
      });

      const { improved, score } = selectCheckpoint(metrics, settings.checkpoint, run.best);
      checkEarlyStopping(earlyStopping, metrics, run);
      stepScheduler(scheduled, { interval: 'epoch', epoch: run.epoch, metrics });
      const record: EpochRecord = {
        epoch: run.epoch,
        step: run.globalStep,
        lr,
        metrics: { ...metrics, epoch_seconds: (Date.now() - started) / 1000 },
      };
      run.history.push(record);
      run.epoch++;
      if (improved) {
        await phases.time('checkpoint', async () => {
          run.best = { epoch: record.epoch, score, stateDict: model.stateDict() };
          for (const cb of callbacks) await cb.onCheckpoint?.(context(), run.best);
        });
      }
      await phases.time('logging', async () => {
        settings.progress({ type: 'epochEnd', record, maxEpochs: settings.maxEpochs });
        for (const l of loggers) await l.log(record);
      });
      await phases.time('callbacks', async () => {
        for (const cb of callbacks) await cb.onEpochEnd?.(context(), record);
      });
      // Filled in last, so it covers the checkpoint, the loggers and the callbacks of this epoch too.
      record.phases = phases.values();
    }

    const result: TrainResult = {
      history: run.history,
      best: run.best,
      epochsRun: run.history.length,
      stoppedEarly: run.stopRequested,
      stopReason: run.stopReason,
      finalState: snapshot(),
    };
    if ((options.restoreBest ?? true) && run.best) model.loadStateDict(run.best.stateDict);
    for (const cb of callbacks) await cb.onTrainEnd?.(context(), result);
    settings.progress({ type: 'done', epochsRun: result.epochsRun, stopReason: result.stopReason });
    return result;
  } finally {
    // An optimizer the loop created is freed here (its state is in finalState); one passed in stays the caller's.
    if (!(options.optimizer instanceof Optimizer)) optimizer.dispose();
  }
}
