import type { Tensor, Tensor3D, Tensor5D, Variable } from '@tensorflow/tfjs-core';
import type { TrainableModel } from './training.js';

/** One training step's numbers from a {@link ComputeEngine}: the loss parts as plain numbers and the gradients of `total`. */
export interface LossAndGradients {
  readonly total: number;
  readonly data: number;
  /** By the model's regularizer names (see `LossParts`). */
  readonly regularizers: Readonly<Record<string, number>>;
  /** By parameter name, for the parameters that received a gradient; the caller disposes them. */
  readonly grads: Map<string, Tensor>;
}

/** The model's responses to a stimulus and the gradient of `⟨responses, cotangent⟩` with respect to the stimulus. */
export interface InputGradient {
  /** `[B, T_out, N]` */
  readonly output: Tensor3D;
  /** `[B, T, H, W, C]` */
  readonly grad: Tensor5D;
}

/** {@link InputGradient} as host arrays (what `ComputeEngine.inputGradientValues` returns). */
export interface InputGradientValues {
  /** The responses, `outputShape` `[B, T_out, N]`. */
  readonly output: Float32Array;
  readonly outputShape: readonly [number, number, number];
  /** The gradient, channels-last like the stimulus. */
  readonly grad: Float32Array;
}

/**
 * The one contract of a compute engine: something that runs the heavy paths of one model — training steps, input
 * gradients (MEIs) and predictions — on some runtime (TF.js, ONNX Runtime, ...). The optimizer step, clipping and
 * every loop stay with the caller, in TypeScript on the model's TF.js variables. An engine that cannot do something
 * for its model (an architecture or a loss its graphs do not cover) throws an `OpenRetinaError` saying so.
 */
export interface ComputeEngine {
  /** Short name for logs and results, e.g. `tfjs` or `onnx`. */
  readonly name: string;
  /** The model the engine computes for. */
  readonly model: TrainableModel;
  /**
   * The loss of `model.loss` on one batch and its gradients for `params` (default `model.parametersForSession`),
   * with the model's state (e.g. BatchNorm running statistics) updated as a TF.js forward in the same mode does.
   */
  lossAndGrads(inputs: Tensor5D, targets: Tensor3D, session: string, params?: ReadonlyMap<string, Variable>): Promise<LossAndGradients>;
  /** Eval-mode responses to `x` and the vector-Jacobian product `∂⟨responses, cotangent⟩/∂x`. */
  inputGradient(x: Tensor5D, session: string, cotangent: Tensor3D): Promise<InputGradient>;
  /**
   * Optional: {@link inputGradient} on host arrays, for callers that keep the stimulus on the host between steps (the
   * MEI's host step): `x` holds a channels-last stimulus of `shape` `[B, T, H, W, C]`, `cotangent` the values of a
   * `[B, T_out, N]` cotangent. Neither is changed or kept; the arrays returned are the caller's. An engine without it
   * runs host steps through `inputGradient` and TF.js tensors.
   */
  inputGradientValues?(
    x: Float32Array,
    shape: readonly [number, number, number, number, number],
    session: string,
    cotangent: Float32Array,
  ): Promise<InputGradientValues>;
  /** Eval-mode responses `[B, T_out, N]` to `x` for one session (call with the model in eval mode). */
  predict(x: Tensor5D, session: string): Promise<Tensor3D>;
  /**
   * Optional: eval-mode responses of several sessions to one stimulus, in the order of `sessions`, each as `predict`
   * gives it. An engine that has it computes the shared core once for sessions whose core weights are equal
   * (validation of sessions recorded with the same movie); callers fall back to `predict` per session without it.
   */
  predictSessions?(x: Tensor5D, sessions: readonly string[]): Promise<Tensor3D[]>;
  /** Frees what the engine holds (sessions, caches); the model stays the caller's. */
  dispose(): void;
}
