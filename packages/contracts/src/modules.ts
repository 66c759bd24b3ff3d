import type { Scalar, Tensor3D, Tensor5D, Variable } from '@tensorflow/tfjs-core';
import type { LoadStateDictOptions, LoadStateDictResult, StateDict } from './state-dict.js';

/** Version of these contracts. Implementations declare which one they follow. */
export type SpecificationVersion = 'v1';
export const SPECIFICATION_VERSION: SpecificationVersion = 'v1';

/**
 * Anything that holds trainable state in PyTorch naming and can be saved and restored. A module of @openretina
 * accepts any object with this shape as a child: its state dict, parameters, mode and disposal are reached through
 * these methods only.
 */
export interface StatefulModule {
  /**
   * Every parameter by state-dict name, frozen ones included (`Variable.trainable` says which receive gradients;
   * setting it freezes or unfreezes a parameter). A parameter registered under several names is listed once.
   */
  namedParameters(): Map<string, Variable>;
  stateDict(): StateDict;
  loadStateDict(stateDict: StateDict, options?: LoadStateDictOptions): LoadStateDictResult;
  /** Switches training mode (dropout, batch statistics, random readout positions) on or off. */
  train(mode?: boolean): this;
  eval(): this;
  readonly training: boolean;
  /** Frees every tensor the module owns. */
  dispose(): void;
}

/** A module with a regularisation penalty that is added to the training loss. */
export interface Regularized {
  /** The penalty as a scalar (0 when there is none). Runs under the caller's `tf.tidy`. */
  regularizer(session?: string): Scalar;
}

/**
 * A core: maps a stimulus `[B, T, H, W, C]` to features `[B, T', H', W', C']`, channels-last.
 * A third-party core only needs to satisfy this interface to plug into `CoreReadout`, the model registry, the
 * trainer and the MEI tools (no base class of ours is required).
 */
export interface Core extends StatefulModule, Regularized {
  readonly specificationVersion: SpecificationVersion;
  /** Input channels it expects. */
  readonly inChannels: number;
  /** Feature channels it emits. */
  readonly outChannels: number;
  /** Frames lost at the start of the time axis (temporal receptive field − 1, plus any cut frames). */
  readonly framesCut: number;
  /** Output shape `[T', H', W', C']` for an input `[T, H, W, C]` (T may be large; no tensors are created). */
  outputShape(inputShape: readonly [number, number, number, number]): [number, number, number, number];
  forward(x: Tensor5D, options?: { session?: string }): Tensor5D;
}

/** A single-session readout: core features `[B, T, H, W, C]` → responses `[B, T, N]`. */
export interface Readout extends StatefulModule {
  readonly specificationVersion: SpecificationVersion;
  readonly outDims: number;
  /**
   * The core features it reads, `[C, T, H, W]` as in PyTorch (T is not checked), where its weights are laid out for one
   * size: `CoreReadout.checkReadoutInput` compares it with the core's output. Leave it out when any size will do.
   */
  readonly inShape?: readonly [c: number, t: number, h: number, w: number] | undefined;
  forward(features: Tensor5D): Tensor3D;
  regularizer(reduction?: 'sum' | 'mean'): Scalar;
  /** Sets the bias from the mean training activity (OpenRetina's `initialize_bias`); zeros when omitted. */
  initializeBias(meanActivity?: Float32Array): void;
}

/** Per-session readouts behind one module. */
export interface MultiReadout extends StatefulModule, Regularized {
  readonly specificationVersion: SpecificationVersion;
  /** Session keys, sorted. */
  readonly sessions: readonly string[];
  numNeurons(session: string): number;
  /** One session's responses, or all sessions concatenated along N in sorted order when `session` is omitted. */
  forward(features: Tensor5D, options?: { session?: string }): Tensor3D;
  /** Adds readouts for new sessions (fine-tuning a trained core on new recordings). */
  addSessions(nNeurons: Readonly<Record<string, number>>, meanActivity?: Readonly<Record<string, Float32Array>>): void;
  /**
   * The readout of one session, where the module holds one per session (an unknown session throws). What reads a
   * session's weights (the ONNX engine and export, the WebAssembly predictor) and `CoreReadout.checkReadoutInput` reach
   * them through it; a module without it still predicts and trains with the TF.js engine.
   */
  readout?(session: string): Readout;
}

/** The input a response model expects, without the batch and time axes. */
export interface StimulusSpec {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/** Anything that predicts neural responses from a stimulus: TF.js models, ONNX models, ensembles. */
export interface ResponseModel {
  readonly specificationVersion: SpecificationVersion;
  readonly sessions: readonly string[];
  readonly neuronsPerSession: Readonly<Record<string, number>>;
  readonly stimulus: StimulusSpec;
  /** Frames the output is shorter than the input. */
  readonly framesCut: number;
  /** `[B, T, H, W, C]` for a stimulus of T frames. */
  stimulusShape(frames: number, batch?: number): [number, number, number, number, number];
  /** Responses `[B, T - framesCut, N]`; all sessions concatenated in sorted order when `session` is omitted. */
  predict(x: Tensor5D, options?: { session?: string }): Promise<Tensor3D>;
  dispose(): void;
}

/** A response model whose synchronous forward is differentiable with respect to its input (MEIs, training). */
export interface DifferentiableResponseModel extends ResponseModel {
  forward(x: Tensor5D, options?: { session?: string }): Tensor3D;
}
