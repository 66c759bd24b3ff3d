import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, StateDictError, type SessionBatch, type StateDict } from '@openretina/contracts';
import type { CoreReadout } from '@openretina/models';
import type { EarlyStopping } from './early-stopping.js';
import { AdamW, Optimizer, clipGradNorm, type OptimizerStateDict } from './optimizers.js';
import { LRScheduler, ReduceLROnPlateau, type ScheduledLr, type SchedulerStateDict } from './schedulers.js';
import { ProgressReporter, type ProgressMode } from './progress.js';

/**
 * The data of a training run. `train(epoch)` yields the batches of one epoch (it must give the same batches for the
 * same epoch index, so that a resumed run continues exactly); `validation()` yields all validation batches (every
 * session). The loop disposes every batch's tensors after use.
 */
export interface TrainingData {
  train(epoch: number): Iterable<SessionBatch>;
  validation(): Iterable<SessionBatch>;
  /** Batches per training epoch, when known (OneCycleLR's total steps, the progress bar). */
  readonly stepsPerEpoch?: number;
}

/** One epoch's log record. */
export interface EpochRecord {
  /** 0-based epoch index. */
  epoch: number;
  /** Optimizer steps done so far. */
  step: number;
  /** The learning rate used during this epoch. */
  lr: number;
  /** Lightning's metric names: train_total_loss, train_loss, regularization_loss_core/readout, val_loss, val_total_loss, val_evaluation_loss, … */
  metrics: Record<string, number>;
}

/** Receives one record per epoch (e.g. `CsvLogger` from '@openretina/trainer/node'). */
export interface TrainLogger {
  log(record: EpochRecord): void | Promise<void>;
}

/** The best checkpoint kept in memory. */
export interface BestCheckpoint {
  epoch: number;
  score: number;
  stateDict: StateDict;
}

/** Everything needed to resume a run: model, optimizer, scheduler, early stopping, best checkpoint, history. */
export interface TrainingState {
  /** Completed epochs (the next epoch to run). */
  epoch: number;
  globalStep: number;
  model: StateDict;
  optimizer: OptimizerStateDict;
  scheduler: SchedulerStateDict | null;
  earlyStopping: Record<string, unknown> | null;
  best: BestCheckpoint | null;
  history: EpochRecord[];
}

/** What callbacks receive. */
export interface TrainContext {
  model: CoreReadout;
  optimizer: Optimizer;
  epoch: number;
  globalStep: number;
  history: readonly EpochRecord[];
  /** A snapshot of the full run state (copies the weights: call only when you save). */
  state(): TrainingState;
  /** Ask the loop to stop after this epoch. */
  stop(): void;
}

/** Hooks called by {@link train}; each may be async. */
export interface TrainCallbacks {
  onTrainStart?(ctx: TrainContext): void | Promise<void>;
  onEpochStart?(ctx: TrainContext): void | Promise<void>;
  onBatchEnd?(ctx: TrainContext, info: { session: string; loss: number; batch: number }): void | Promise<void>;
  onValidationEnd?(ctx: TrainContext, metrics: Record<string, number>): void | Promise<void>;
  onEpochEnd?(ctx: TrainContext, record: EpochRecord): void | Promise<void>;
  /** Called when the monitored metric improves (file saving goes here). */
  onCheckpoint?(ctx: TrainContext, best: BestCheckpoint): void | Promise<void>;
  onTrainEnd?(ctx: TrainContext, result: TrainResult): void | Promise<void>;
}

/** Options of {@link train}; the defaults are OpenRetina's (hoefling_2024 configs + Lightning defaults). */
export interface TrainOptions {
  /** Default 100. */
  maxEpochs?: number;
  /** An optimizer over `model.trainableParameters()`, or a factory; default AdamW(lr = model.learningRate) with torch defaults. */
  optimizer?: Optimizer | ((params: Map<string, tf.Variable>) => Optimizer);
  /**
   * The LR scheduler with its monitor and interval, or a factory (given the optimizer and the total step count), or
   * null for none. Default: OpenRetina's ReduceLROnPlateau(max, factor 0.3, patience 5, threshold 5e-4 abs,
   * min_lr = lr·0.3³) monitoring val_evaluation_loss.
   */
  scheduler?: ScheduledLr | ((optimizer: Optimizer, totalSteps: number | undefined) => ScheduledLr) | null;
  /** Gradient clipping by global 2-norm (Lightning's gradient_clip_val); default none. */
  gradientClipVal?: number | null;
  /** Early stopping; default none (OpenRetina's configs: val_evaluation_loss, max, min_delta 0.001, patience 10). */
  earlyStopping?: EarlyStopping | null;
  /** The metric and direction for the best checkpoint; default val_evaluation_loss, max. */
  checkpoint?: { monitor: string; mode: 'min' | 'max' };
  /** Load the best weights into the model when training ends (Lightning tests with ckpt_path="best"); default true. */
  restoreBest?: boolean;
  /** Train only the readout (OpenRetina's only_train_readout): the core's parameters are frozen. */
  onlyTrainReadout?: boolean;
  callbacks?: TrainCallbacks | readonly TrainCallbacks[];
  logger?: TrainLogger | readonly TrainLogger[];
  /** 'auto' (default): a progress bar on a TTY, plain lines otherwise; 'none' prints nothing. */
  progress?: ProgressMode;
  /** Where progress goes (default process.stderr). */
  progressStream?: { write(s: string): unknown; isTTY?: boolean };
  /** Resume from a state saved by a previous run (context.state()). */
  resume?: TrainingState;
  /**
   * The compute engine for the training steps' loss and gradients, e.g. `createEngine(model, 'auto', ort)` from
   * '@openretina/hub/node' (ONNX Runtime). Default: none, the TF.js reference path (`tf.variableGrads` on the model's
   * forward). With an engine the next batch is taken from the data before each step is awaited. When the engine has
   * `predict`, validation runs the model's eval-mode forward through it (the losses and metrics of its output are
   * computed in TF.js); otherwise validation runs on TF.js. An engine named 'onnx' is refused for a model whose
   * training loss is not the default Poisson sum (its graphs compute only that loss).
   */
  engine?: TrainEngine;
  /**
   * Lightning's `accumulate_grad_batches` (default 1): the loss of each batch is divided by k, the gradients of k
   * consecutive batches are summed, then one clip + optimizer step (+ a step of an interval-'step' scheduler). The
   * groups start at each epoch's first batch; a last, incomplete group of an epoch still steps (still divided by k,
   * as Lightning). `step` in the records and `globalStep` count optimizer steps; the logged losses are unscaled.
   */
  accumulateGradBatches?: number;
}

/** One step's loss parts (plain numbers) and the gradient of `total` for each parameter name; the loop disposes the gradients. */
export interface TrainEngineStep {
  total: number;
  poisson: number;
  coreRegularizer: number;
  readoutRegularizer: number;
  /** Keyed by parameter name, as the `params` map passed in (`model.trainableParameters()` names). */
  grads: Map<string, tf.Tensor>;
}

/**
 * What {@link train} needs from a compute engine (structurally `LossAndGradsEngine` of '@openretina/hub'): for one
 * batch, the loss of `CoreReadout.loss` (Poisson sum + core and readout regularizers) and its gradients for `params`,
 * with the BatchNorm running statistics updated as a TF.js training forward does. Clipping and the optimizer step stay
 * with the loop.
 */
export interface TrainEngine {
  readonly name?: string;
  lossAndGrads(
    inputs: tf.Tensor5D,
    targets: tf.Tensor3D,
    session: string,
    params: ReadonlyMap<string, tf.Variable>,
  ): Promise<TrainEngineStep>;
  /** Eval-mode responses `[B, T_out, N]` (structurally hub's `PredictionEngine`); used for validation when present. */
  predict?(x: tf.Tensor5D, session: string): Promise<tf.Tensor3D>;
}

/** What {@link train} returns. */
export interface TrainResult {
  history: EpochRecord[];
  best: BestCheckpoint | null;
  epochsRun: number;
  stoppedEarly: boolean;
  stopReason: string | null;
  /** The state at the end (before the best weights are restored); pass it as `resume` to continue. */
  finalState: TrainingState;
}

function copyStateDict(sd: StateDict): StateDict {
  const out: StateDict = new Map();
  for (const [k, v] of sd) out.set(k, { shape: [...v.shape], dtype: v.dtype, data: v.data.slice() } as typeof v);
  return out;
}

/**
 * The parameters that take part in a step on `session`: trainable core parameters and the session's readout
 * (other sessions' readouts get no gradient, so the optimizer leaves them alone as PyTorch does).
 */
export function stepParameters(model: CoreReadout, session: string): Map<string, tf.Variable> {
  const others = model.sessions.filter((s) => s !== session).map((s) => `readout.${s}.`);
  const out = new Map<string, tf.Variable>();
  for (const [name, v] of model.trainableParameters()) {
    if (!others.some((p) => name.startsWith(p))) out.set(name, v);
  }
  return out;
}

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

interface Accumulator {
  sums: Record<string, number>;
  weight: number;
}

function accumulate(acc: Accumulator, values: Record<string, number>, w: number): void {
  for (const [k, v] of Object.entries(values)) acc.sums[k] = (acc.sums[k] ?? 0) + v * w;
  acc.weight += w;
}

function means(acc: Accumulator): Record<string, number> {
  return Object.fromEntries(Object.entries(acc.sums).map(([k, v]) => [k, v / acc.weight]));
}

/** `[val_loss, core, readout, total, evaluation]` of one validation batch from the model's output. */
function validationValues(model: CoreReadout, out: tf.Tensor3D, batch: SessionBatch): tf.Tensor1D {
  return tf.tidy(() => {
    const loss = tf.div(
      model.dataLoss(out, batch.targets, batch.session),
      out.shape.reduce((a, b) => a + b, 0),
    );
    const core = model.core.regularizer();
    const readout = model.readout.regularizer(batch.session);
    const total = tf.addN([loss, core, readout]);
    const evalLoss = model.evaluationLoss(out, batch.targets, batch.session);
    return tf.stack([loss, core, readout, total, evalLoss]) as tf.Tensor1D;
  });
}

function accumulateValidation(acc: Accumulator, values: ArrayLike<number>, batchSize: number): void {
  const [l, c, r, t, e] = Array.from(values);
  accumulate(
    acc,
    { val_loss: l!, val_regularization_loss_core: c!, val_regularization_loss_readout: r!, val_total_loss: t!, val_evaluation_loss: e! },
    batchSize,
  );
}

/**
 * Validation metrics over all batches (model in eval mode), averaged with batch-size weights as Lightning does:
 * `val_loss` = training loss / (B + T_out + N) (OpenRetina's quirk; the Poisson sum by default),
 * `val_regularization_loss_core`, `val_regularization_loss_readout`, `val_total_loss`, `val_evaluation_loss` (the
 * model's evaluation loss: the mean per-clip correlation by default). Disposes the batches.
 */
export function validate(model: CoreReadout, batches: Iterable<SessionBatch>): Record<string, number> {
  const wasTraining = model.training;
  model.eval();
  const acc: Accumulator = { sums: {}, weight: 0 };
  try {
    for (const batch of batches) {
      try {
        const values = tf.tidy(() => validationValues(model, model.forward(batch.inputs, { session: batch.session }), batch));
        accumulateValidation(acc, values.dataSync(), batch.inputs.shape[0]);
        values.dispose();
      } finally {
        tf.dispose([batch.inputs, batch.targets]);
      }
    }
  } finally {
    model.train(wasTraining);
  }
  if (acc.weight === 0) throw new ConfigError('Validation produced no batches.');
  return means(acc);
}

/**
 * {@link validate} with the model's eval-mode forward computed by `predict` (e.g. a compute engine's); the losses
 * and metrics of its output are computed in TF.js as in {@link validate}. Disposes the batches.
 */
export async function validateWith(
  model: CoreReadout,
  batches: Iterable<SessionBatch>,
  predict: (x: tf.Tensor5D, session: string) => Promise<tf.Tensor3D>,
): Promise<Record<string, number>> {
  const wasTraining = model.training;
  model.eval();
  const acc: Accumulator = { sums: {}, weight: 0 };
  try {
    for (const batch of batches) {
      try {
        const out = await predict(batch.inputs, batch.session);
        const values = validationValues(model, out, batch);
        out.dispose();
        accumulateValidation(acc, await values.data(), batch.inputs.shape[0]);
        values.dispose();
      } finally {
        tf.dispose([batch.inputs, batch.targets]);
      }
    }
  } finally {
    model.train(wasTraining);
  }
  if (acc.weight === 0) throw new ConfigError('Validation produced no batches.');
  return means(acc);
}

/**
 * Trains a core-readout model with OpenRetina's semantics: per step the loss `CoreReadout.loss(...).total`
 * (Poisson sum + core and readout regularizers), gradients over the core and the batch's session readout,
 * optional clipping by global norm, an optimizer step; per epoch validation, the best checkpoint (in memory),
 * early stopping and the LR scheduler on the validation metrics, callbacks, logging and progress.
 */
export async function train(model: CoreReadout, data: TrainingData, options: TrainOptions = {}): Promise<TrainResult> {
  const maxEpochs = options.maxEpochs ?? 100;
  if (!Number.isInteger(maxEpochs) || maxEpochs < 0) throw new ConfigError(`maxEpochs must be a non-negative integer, got ${maxEpochs}.`);
  const clip = options.gradientClipVal ?? null;
  if (clip !== null && !(clip > 0)) throw new ConfigError(`gradientClipVal must be positive, got ${clip}.`);
  const accumulateK = options.accumulateGradBatches ?? 1;
  if (!Number.isInteger(accumulateK) || accumulateK < 1)
    throw new ConfigError(`accumulateGradBatches must be a positive integer, got ${accumulateK}.`);
  if (options.engine?.name === 'onnx' && !model.usesDefaultLoss) {
    throw new ConfigError(
      `The ONNX engine computes only the default Poisson loss (sum), but the model's training loss is ${JSON.stringify(model.lossFunction)}; use the TF.js engine.`,
    );
  }
  const checkpoint = options.checkpoint ?? { monitor: 'val_evaluation_loss', mode: 'max' as const };
  const callbacks =
    options.callbacks === undefined
      ? []
      : Array.isArray(options.callbacks)
        ? [...options.callbacks]
        : [options.callbacks as TrainCallbacks];
  const loggers = options.logger === undefined ? [] : Array.isArray(options.logger) ? [...options.logger] : [options.logger as TrainLogger];

  if (options.onlyTrainReadout) model.core.setTrainable(false);
  const params = model.trainableParameters();
  if (params.size === 0) throw new ConfigError('The model has no trainable parameters.');
  const optimizer =
    options.optimizer instanceof Optimizer
      ? options.optimizer
      : typeof options.optimizer === 'function'
        ? options.optimizer(params)
        : new AdamW(params, { lr: model.learningRate });
  // Lightning's estimated_stepping_batches: optimizer steps = ⌈batches / k⌉ per epoch.
  const totalSteps = data.stepsPerEpoch === undefined ? undefined : Math.ceil(data.stepsPerEpoch / accumulateK) * maxEpochs;
  const scheduled =
    options.scheduler === null
      ? null
      : typeof options.scheduler === 'function'
        ? options.scheduler(optimizer, totalSteps)
        : (options.scheduler ?? defaultScheduler(optimizer));
  const earlyStopping = options.earlyStopping ?? null;
  const engine = options.engine ?? null;

  let epoch = 0;
  let globalStep = 0;
  let best: BestCheckpoint | null = null;
  const history: EpochRecord[] = [];
  if (options.resume) {
    const r = options.resume;
    model.loadStateDict(r.model);
    optimizer.loadStateDict(r.optimizer);
    if (scheduled && r.scheduler) scheduled.scheduler.loadStateDict(r.scheduler);
    else if (scheduled && !r.scheduler) throw new StateDictError('The resume state has no scheduler state, but a scheduler is configured.');
    if (earlyStopping && r.earlyStopping) earlyStopping.loadStateDict(r.earlyStopping);
    epoch = r.epoch;
    globalStep = r.globalStep;
    best = r.best ? { ...r.best, stateDict: copyStateDict(r.best.stateDict) } : null;
    history.push(...r.history);
  }

  let stopRequested = false;
  let stopReason: string | null = null;
  const snapshot = (): TrainingState => ({
    epoch,
    globalStep,
    model: model.stateDict(),
    optimizer: optimizer.stateDict(),
    scheduler: scheduled ? scheduled.scheduler.stateDict() : null,
    earlyStopping: earlyStopping ? earlyStopping.stateDict() : null,
    best: best ? { ...best, stateDict: copyStateDict(best.stateDict) } : null,
    history: history.map((h) => ({ ...h, metrics: { ...h.metrics } })),
  });
  const context = (): TrainContext => ({
    model,
    optimizer,
    epoch,
    globalStep,
    history,
    state: snapshot,
    stop: () => {
      stopRequested = true;
      stopReason ??= 'stopped by a callback';
    },
  });
  const progress = new ProgressReporter(options.progress ?? 'auto', options.progressStream);

  try {
    for (const cb of callbacks) await cb.onTrainStart?.(context());
    const byVarName = new Map([...params].map(([name, v]) => [v.name, name]));
    // PyTorch stops when max_epochs is reached, or when an earlier early stop was recorded in the resumed state.
    if (earlyStopping?.stopped) stopRequested = true;

    while (epoch < maxEpochs && !stopRequested) {
      for (const cb of callbacks) await cb.onEpochStart?.(context());
      model.train();
      const lrThisEpoch = optimizer.lr;
      const started = Date.now();
      const acc: Accumulator = { sums: {}, weight: 0 };
      let batchIndex = 0;
      progress.epochStart(epoch, maxEpochs, data.stepsPerEpoch);
      const iterator = data.train(epoch)[Symbol.iterator]();
      let next = iterator.next();
      // Gradients summed over the current accumulation group (Lightning's accumulate_grad_batches).
      let summed: Map<string, tf.Tensor> | null = null;
      let inGroup = 0;
      try {
        while (!next.done) {
          const batch = next.value;
          let lossValue: number;
          try {
            const vars = stepParameters(model, batch.session);
            let named: Map<string, tf.Tensor>;
            let values: { total: number; poisson: number; core: number; readout: number };
            if (engine) {
              const pending = engine.lossAndGrads(batch.inputs, batch.targets, batch.session, vars);
              // Prefetch: the next batch is prepared before this step is awaited.
              try {
                next = iterator.next();
              } catch (e) {
                await pending.then(
                  (r) => tf.dispose([...r.grads.values()]),
                  () => undefined,
                );
                throw e;
              }
              const r = await pending;
              named = r.grads;
              if (accumulateK > 1) {
                const scaled = new Map([...named].map(([k, g]) => [k, tf.div(g, accumulateK)]));
                tf.dispose([...named.values()]);
                named = scaled;
              }
              values = { total: r.total, poisson: r.poisson, core: r.coreRegularizer, readout: r.readoutRegularizer };
            } else {
              let kept: tf.Scalar[] = [];
              const { value, grads } = tf.variableGrads(() => {
                const parts = model.loss(batch.inputs, batch.targets, batch.session);
                kept = [tf.keep(parts.total), tf.keep(parts.poisson), tf.keep(parts.coreRegularizer), tf.keep(parts.readoutRegularizer)];
                // Lightning divides the loss by accumulate_grad_batches before the backward pass.
                return accumulateK > 1 ? tf.div(parts.total, accumulateK) : parts.total;
              }, [...vars.values()]);
              named = new Map<string, tf.Tensor>();
              for (const [varName, g] of Object.entries(grads)) named.set(byVarName.get(varName)!, g);
              const parts = tf.stack(kept);
              const [total, poisson, core, readout] = parts.dataSync();
              tf.dispose([parts, value, ...kept]);
              values = { total: total!, poisson: poisson!, core: core!, readout: readout! };
              try {
                next = iterator.next();
              } catch (e) {
                tf.dispose([...named.values()]);
                throw e;
              }
            }
            if (summed === null) summed = named;
            else {
              for (const [k, g] of named) {
                const prev = summed.get(k);
                if (prev) {
                  summed.set(k, tf.add(prev, g));
                  tf.dispose([prev, g]);
                } else summed.set(k, g);
              }
            }
            inGroup++;
            lossValue = values.total;
            accumulate(
              acc,
              {
                train_total_loss: values.total,
                train_loss: values.poisson,
                regularization_loss_core: values.core,
                regularization_loss_readout: values.readout,
              },
              batch.inputs.shape[0],
            );
          } finally {
            tf.dispose([batch.inputs, batch.targets]);
          }
          // One optimizer step per k batches, and at the end of the epoch for a last, incomplete group.
          if (inGroup === accumulateK || next.done) {
            const grads = summed!;
            summed = null;
            inGroup = 0;
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
            globalStep++;
            if (scheduled?.interval === 'step' && scheduled.scheduler instanceof LRScheduler && globalStep % scheduled.frequency === 0) {
              scheduled.scheduler.step();
            }
          }
          progress.batch(batchIndex, lossValue);
          for (const cb of callbacks) await cb.onBatchEnd?.(context(), { session: batch.session, loss: lossValue, batch: batchIndex });
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
      if (acc.weight === 0) throw new ConfigError(`Training epoch ${epoch} produced no batches.`);

      const valMetrics = engine?.predict
        ? await validateWith(model, data.validation(), (x, session) => engine.predict!(x, session))
        : validate(model, data.validation());
      const metrics: Record<string, number> = { ...means(acc), ...valMetrics };
      for (const cb of callbacks) await cb.onValidationEnd?.(context(), metrics);

      // Best checkpoint (Lightning ModelCheckpoint, save_top_k=1: strictly better; NaN counts as the worst).
      const raw = metrics[checkpoint.monitor];
      if (raw === undefined)
        throw new ConfigError(`Checkpoint monitor "${checkpoint.monitor}" is not a logged metric (${Object.keys(metrics).join(', ')}).`);
      const score = Number.isFinite(raw) ? raw : checkpoint.mode === 'max' ? -Infinity : Infinity;
      const improved = best === null || (checkpoint.mode === 'max' ? score > best.score : score < best.score);

      if (earlyStopping) {
        const d = earlyStopping.check(metrics, epoch);
        if (d.shouldStop) {
          stopRequested = true;
          stopReason = d.reason;
        }
      }
      if (scheduled && scheduled.interval === 'epoch' && (epoch + 1) % scheduled.frequency === 0) {
        const s = scheduled.scheduler;
        if (s instanceof ReduceLROnPlateau) {
          const monitor = scheduled.monitor ?? 'val_evaluation_loss';
          const m = metrics[monitor];
          if (m === undefined)
            throw new ConfigError(
              `The LR scheduler monitors "${monitor}", which is not a logged metric (${Object.keys(metrics).join(', ')}).`,
            );
          s.step(m);
        } else {
          s.step();
        }
      }
      const record: EpochRecord = {
        epoch,
        step: globalStep,
        lr: lrThisEpoch,
        metrics: { ...metrics, epoch_seconds: (Date.now() - started) / 1000 },
      };
      history.push(record);
      epoch++;
      if (improved) {
        best = { epoch: record.epoch, score, stateDict: model.stateDict() };
        for (const cb of callbacks) await cb.onCheckpoint?.(context(), best);
      }
      progress.epochEnd(record);
      for (const l of loggers) await l.log(record);
      for (const cb of callbacks) await cb.onEpochEnd?.(context(), record);
    }

    const finalState = snapshot();
    const result: TrainResult = {
      history,
      best,
      epochsRun: history.length,
      stoppedEarly: stopRequested,
      stopReason,
      finalState,
    };
    if ((options.restoreBest ?? true) && best) model.loadStateDict(best.stateDict);
    for (const cb of callbacks) await cb.onTrainEnd?.(context(), result);
    progress.done();
    return result;
  } finally {
    // An optimizer the loop created is freed here (its state is in finalState); one passed in stays the caller's.
    if (!(options.optimizer instanceof Optimizer)) optimizer.dispose();
  }
}
