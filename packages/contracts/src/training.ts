import type { Scalar, Tensor3D, Tensor5D, Variable } from '@tensorflow/tfjs-core';
import type { DifferentiableResponseModel, StatefulModule } from './modules.js';

/**
 * The training objective of one batch and its parts, each a scalar. Models without a core/readout split name their
 * penalties as they like; the trainer logs each as `regularization_loss_<name>` (OpenRetina's core-readout names
 * are `core` and `readout`).
 */
export interface LossParts {
  /** `data` plus every regularizer: what a training step minimises. */
  readonly total: Scalar;
  /** The data term: the training loss of the model's output against the targets. */
  readonly data: Scalar;
  /** The regularisation penalties by name (empty when the model has none). */
  readonly regularizers: Readonly<Record<string, Scalar>>;
}

/**
 * What training needs from a model, whatever its family: a third party's model that satisfies this trains with
 * `train()` of '@openretina/trainer' on any compute engine that covers it (the TF.js one covers every model).
 * Batches are channels-last stimuli `[B, T, H, W, C]` with targets `[B, T, N]`; outputs may be shorter in time
 * (`framesCut`), losses align on the last frames.
 */
export interface TrainableModel extends DifferentiableResponseModel, StatefulModule {
  /** The learning rate of the default optimizer (OpenRetina's `learning_rate`), when the model has one. */
  readonly learningRate?: number;
  /**
   * The trainable parameters a training step on `session` touches, by state-dict name (a subset of
   * `namedParameters()` with `trainable` set). Other sessions' parameters get no gradient, so the optimizer leaves
   * them alone, as PyTorch does.
   */
  parametersForSession(session: string): Map<string, Variable>;
  /** The training objective of one batch in the current mode (differentiable; the caller owns the scalars). */
  loss(inputs: Tensor5D, targets: Tensor3D, session: string): LossParts;
  /** The data term of `loss` for an output computed elsewhere (validation on an engine's prediction). */
  dataLoss(output: Tensor3D, targets: Tensor3D, session: string): Scalar;
  /** The regularizers of `loss` for a step on `session`, by the same names. */
  regularizers(session: string): Record<string, Scalar>;
  /** The evaluation metric of an output against targets (OpenRetina's `evaluation_loss`; logged as `val_evaluation_loss`). */
  evaluationLoss(output: Tensor3D, targets: Tensor3D, session: string): Scalar;
  /** Runs after every optimizer step (OpenRetina models that clamp parameters in `optimizer_step`). */
  afterOptimizerStep?(): void;
  /**
   * Where the model's training-time random streams stand (dropout masks, sampled readout positions), JSON-safe, by
   * name: saved in a training state so that a resumed run draws what the uninterrupted run would have drawn.
   */
  randomState?(): Record<string, unknown>;
  /** Continues the streams from {@link TrainableModel.randomState}. */
  loadRandomState?(state: Record<string, unknown>): void;
}
