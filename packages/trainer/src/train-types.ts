// The types of a training run: its data, options, callbacks, progress events, records, state and result.
import type * as tf from '@tensorflow/tfjs-core';
import type { ComputeEngine, SessionBatch, StateDict, TrainableModel } from '@openretina/contracts';
import type { EarlyStopping } from './early-stopping.js';
import type { EpochPhase } from './epoch-phases.js';
import type { Optimizer, OptimizerStateDict } from './optimizers.js';
import type { ScheduledLr, SchedulerStateDict } from './schedulers.js';

/**
 * The data of a training run. `train(epoch)` yields the batches of one epoch (it must give the same batches for the
 * same epoch index, so that a resumed run continues exactly); `validation()` yields all validation batches (every
 * session). The loop disposes every batch's tensors after use.
 */
export interface TrainingData {
  train(epoch: number): Iterable<SessionBatch>;
  validation(): Iterable<SessionBatch>;
  /** Batches per training epoch, when known (OneCycleLR's total steps, progress displays). */
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
  /**
   * Lightning's metric names: train_total_loss, train_loss, regularization_loss_<name> per regularizer of the
   * model (core and readout for a core-readout model), val_loss, val_regularization_loss_<name>, val_total_loss,
   * val_evaluation_loss, and epoch_seconds.
   */
  metrics: Record<string, number>;
  /**
   * Milliseconds this epoch spent per phase (see `EpochPhase`): data, step, optimizer, validation, checkpoint,
   * logging, callbacks. Set once the epoch's loggers and callbacks are done (loggers see the record without it).
   */
  phases?: Readonly<Record<EpochPhase, number>>;
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

/** Everything needed to resume a run: model, optimizer, scheduler, early stopping, best checkpoint, history, random streams. */
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
  /** The model's training-time random streams (`model.randomState()`), when it has any; absent in older states. */
  random?: Record<string, unknown>;
}

/** What callbacks receive. */
export interface TrainContext<M extends TrainableModel = TrainableModel> {
  model: M;
  optimizer: Optimizer;
  epoch: number;
  globalStep: number;
  history: readonly EpochRecord[];
  /** A snapshot of the full run state (copies the weights: call only when you save). */
  state(): TrainingState;
  /** Ask the loop to stop after this epoch. */
  stop(): void;
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

/** Hooks called by {@link train}; each may be async. */
export interface TrainCallbacks<M extends TrainableModel = TrainableModel> {
  onTrainStart?(ctx: TrainContext<M>): void | Promise<void>;
  onEpochStart?(ctx: TrainContext<M>): void | Promise<void>;
  onBatchEnd?(ctx: TrainContext<M>, info: { session: string; loss: number; batch: number }): void | Promise<void>;
  onValidationEnd?(ctx: TrainContext<M>, metrics: Record<string, number>): void | Promise<void>;
  onEpochEnd?(ctx: TrainContext<M>, record: EpochRecord): void | Promise<void>;
  /** Called when the monitored metric improves (file saving goes here). */
  onCheckpoint?(ctx: TrainContext<M>, best: BestCheckpoint): void | Promise<void>;
  onTrainEnd?(ctx: TrainContext<M>, result: TrainResult): void | Promise<void>;
}

/**
 * Progress of a run, for a display (the library prints nothing; the CLI draws a bar or lines from these): an
 * epoch starts, a batch ends with its loss (`train_total_loss` of that batch), an epoch ends with its record, the
 * run is done.
 */
export type TrainProgress =
  | { readonly type: 'epochStart'; readonly epoch: number; readonly maxEpochs: number; readonly stepsPerEpoch: number | undefined }
  | { readonly type: 'batchEnd'; readonly epoch: number; readonly batch: number; readonly session: string; readonly loss: number }
  | { readonly type: 'epochEnd'; readonly record: EpochRecord; readonly maxEpochs: number }
  | { readonly type: 'done'; readonly epochsRun: number; readonly stopReason: string | null };

/** What {@link train} needs from a compute engine: loss and gradients of a batch, and predictions for validation. */
export type TrainingEngine = Pick<ComputeEngine, 'lossAndGrads' | 'predict' | 'predictSessions'>;

/** Options of {@link train}; the defaults are OpenRetina's (hoefling_2024 configs + Lightning defaults). */
export interface TrainOptions<M extends TrainableModel = TrainableModel> {
  /** Default 100. */
  maxEpochs?: number;
  /**
   * An optimizer over the model's trainable parameters, or a factory; default AdamW(lr = model.learningRate, else
   * 1e-3) with torch defaults.
   */
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
  /**
   * Train only the readout (OpenRetina's only_train_readout): the parameters of the model's `core` (any
   * `StatefulModule`) get `trainable = false`. Only for models with a core.
   */
  onlyTrainReadout?: boolean;
  callbacks?: TrainCallbacks<M> | readonly TrainCallbacks<M>[];
  logger?: TrainLogger | readonly TrainLogger[];
  /** Progress events for a display (see {@link TrainProgress}); the loop itself prints nothing. */
  onProgress?: (event: TrainProgress) => void;
  /** Resume from a state saved by a previous run (context.state()). */
  resume?: TrainingState;
  /**
   * The compute engine of the training steps (loss and gradients) and of validation (eval-mode predictions; the
   * losses and metrics of its output are computed in TF.js), e.g. `createEngine(model, 'auto', ort, { training:
   * true })` from '@openretina/onnx/node'. Default: `TfjsEngine` of '@openretina/models' (the model's own TF.js
   * forward and `tf.variableGrads`). The next batch is taken from the data while a step is awaited.
   */
  engine?: Pick<ComputeEngine, 'lossAndGrads' | 'predict' | 'predictSessions'>;
  /**
   * Lightning's `accumulate_grad_batches` (default 1): the gradients of each batch are divided by k, those of k
   * consecutive batches summed, then one clip + optimizer step (+ a step of an interval-'step' scheduler). The
   * groups start at each epoch's first batch; a last, incomplete group of an epoch still steps (still divided by k,
   * as Lightning). `step` in the records and `globalStep` count optimizer steps; the logged losses are unscaled.
   */
  accumulateGradBatches?: number;
}
