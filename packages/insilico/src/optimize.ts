import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DataError, ShapeError, formatShape, type ComputeEngine } from '@openretina/contracts';
import { assertFinite, readFloats } from '@openretina/layers';
import { IncreaseObjective, type StimulusObjective } from './objectives.js';
import { SliceMeanReducer } from './reducers.js';
import { HostStimulusStep } from './host-step.js';
import { HostStimulus } from './host-stimulus.js';
import type { StimulusOptimizer } from './optimizers.js';
import type { StimulusPostprocessor, StimulusRegularizationLoss } from './regularizers.js';
import type { OptimizationStopper } from './stoppers.js';

type OneOrMany<T> = T | readonly T[] | null | undefined;

function toList<T>(x: OneOrMany<T>): readonly T[] {
  if (x === null || x === undefined) return [];
  return Array.isArray(x) ? (x as readonly T[]) : [x as T];
}

export interface OptimizeStimulusOptions {
  optimizer: StimulusOptimizer;
  objective: StimulusObjective;
  stopper: OptimizationStopper;
  regularizers?: OneOrMany<StimulusRegularizationLoss>;
  postprocessors?: OneOrMany<StimulusPostprocessor>;
  /** Called after each iteration with its index, the loss before the step and the objective. */
  onIteration?: (info: { iteration: number; loss: number; objective: number }) => void;
  /**
   * A compute engine for the model's part of the gradient (any `ComputeEngine` of the contracts: `TfjsEngine` of
   * '@openretina/models', or `createEngine(model, 'auto', ort)` from '@openretina/onnx/node' for ONNX Runtime). Used
   * for objectives linear in the responses (an {@link IncreaseObjective} of one session with a mean or slice-mean
   * reducer): the objective's constant gradient over the responses is the engine's cotangent, the regularisers'
   * gradient is computed in TF.js. Other objectives (contrastive, inner neurons, all sessions) run on TF.js as
   * without an engine. The engine computes eval-mode responses: the model must be in eval mode, and be the
   * objective's model.
   */
  engine?: ComputeEngine;
}

export interface OptimizeStimulusResult {
  /** The loss of each iteration, computed before that iteration's step (what the stopper saw). */
  losses: number[];
  /** The objective of each iteration (before its step). */
  objectives: number[];
  iterations: number;
  stoppedEarly: boolean;
  /** The stopper ended the run because the objective settled (a {@link ConvergenceStopper}); false at the step cap. */
  converged: boolean;
  /** The engine that computed the model's gradient (`options.engine.name`), or 'tfjs'. */
  engine: string;
}

/**
 * Maximises `objective` minus the regularisers over the stimulus (OpenRetina's `optimize_stimulus`). Each iteration:
 * `loss = −objective(x) + Σ reg(x)`; one optimiser step on `x` with `∂loss/∂x`; every post-processor in turn replaces
 * `x`; then the stopper sees the pre-step loss. The stimulus variable `[1, T, H, W, C]` is changed in place; the
 * model's parameters are not touched. Tensor count is unchanged afterwards (the optimiser's state is the caller's).
 */
export async function optimizeStimulus(stimulus: tf.Variable, options: OptimizeStimulusOptions): Promise<OptimizeStimulusResult> {
  if (stimulus.rank !== 5) throw new ShapeError(`The stimulus must be [B, T, H, W, C], got ${formatShape(stimulus.shape)}.`);
  const regularizers = toList(options.regularizers);
  const postprocessors = toList(options.postprocessors);
  const x = stimulus as unknown as tf.Variable<tf.Rank.R5>;
  // values a host step wrote are known finite (it checks each step's)
  if (!HostStimulus.holdsCheckedValues(x)) assertFinite(x, 'The initial stimulus of optimizeStimulus');
  const losses: number[] = [];
  const objectives: number[] = [];
  let stoppedEarly = false;
  const linear = engineObjective(options.objective, options.engine);
  // An objective that throws (e.g. a neuron index out of range) throws here, outside a gradient tape: a throw inside
  // one leaves the tensors the tape saved for the backward pass behind.
  if (!linear)
    tf.tidy(() => {
      options.objective.forward(x as unknown as tf.Tensor5D);
    });
  else
    tf.tidy(() => {
      linear.fromResponses(
        tf.zeros([Math.max(1, x.shape[1] - linear.model.framesCut), linear.model.neuronsPerSession[linear.session] ?? 1]),
      );
    });
  // The common settings (plain SGD, range penalty, norm and range constraint) step on the host after the engine's
  // gradient; anything else steps in TF.js. (Before the cotangent: its shape checks throw.)
  const host = linear ? HostStimulusStep.for(options.optimizer, regularizers, postprocessors, x.shape) : null;
  const cot = linear ? objectiveCotangent(linear, x.shape) : null;
  // as a tensor for engines without host arrays and for the TF.js step
  const cotangent = cot && !(host && options.engine!.inputGradientValues) ? tf.tensor3d(cot.values, cot.shape) : null;
  const hostX = host ? HostStimulus.acquire(x) : null;
  try {
    for (let i = 0; i < options.stopper.maxIterations; i++) {
      const { lossValue, objValue, stimulusFinite } = host
        ? await hostEngineIteration(x, linear!, options.engine!, cotangent, cot!, host, hostX!)
        : await tfjsIteration(x, options, linear, cotangent, regularizers, postprocessors);
      // a NaN or Inf objective or stimulus never becomes a result: stop with an error instead
      const bad = !Number.isFinite(lossValue)
        ? `the loss is ${lossValue}`
        : !Number.isNaN(objValue) && !Number.isFinite(objValue)
          ? `the objective is ${objValue}`
          : !stimulusFinite
            ? 'the stimulus holds NaN or Inf values'
            : null;
      if (bad !== null)
        throw new DataError(
          `optimizeStimulus stopped at iteration ${i + 1}: ${bad} (a learning rate too large for this model, or a non-finite model or stimulus).`,
          { details: { iteration: i, loss: lossValue, objective: objValue } },
        );
      losses.push(lossValue);
      objectives.push(objValue);
      options.onIteration?.({ iteration: i, loss: lossValue, objective: objValue });
      if (options.stopper.earlyStop(lossValue, objValue)) {
        stoppedEarly = true;
        break;
      }
    }
  } finally {
    cotangent?.dispose();
    hostX?.release();
  }
  return {
    losses,
    objectives,
    iterations: losses.length,
    stoppedEarly,
    converged: stoppedEarly && options.stopper.converged,
    engine: linear ? options.engine!.name : 'tfjs',
  };
}

interface IterationValues {
  lossValue: number;
  /** NaN when the objective has no value of its own (the TF.js path always has one; kept for the error message). */
  objValue: number;
  stimulusFinite: boolean;
}

/** One iteration with the gradient and the step in TF.js (any objective, regulariser, optimiser, post-processor). */
async function tfjsIteration(
  x: tf.Variable<tf.Rank.R5>,
  options: OptimizeStimulusOptions,
  linear: (IncreaseObjective & { session: string }) | null,
  cotangent: tf.Tensor3D | null,
  regularizers: readonly StimulusRegularizationLoss[],
  postprocessors: readonly StimulusPostprocessor[],
): Promise<IterationValues> {
  const { value, grad, objectiveValue } = linear
    ? await engineStep(x, linear, options.engine!, cotangent!, regularizers)
    : tfjsStep(x, options.objective, regularizers);
  options.optimizer.step(x, grad);
  for (const p of postprocessors) {
    const y = p.process(x as unknown as tf.Tensor5D);
    x.assign(y);
    y.dispose();
  }
  const [lossValue] = await value.data();
  const [objValue] = objectiveValue ? await objectiveValue.data() : [Number.NaN];
  tf.dispose([value, grad, ...(objectiveValue ? [objectiveValue] : [])]);
  const stimulusSum = tf.tidy(() => tf.sum(x));
  const [sum] = await stimulusSum.data();
  stimulusSum.dispose();
  return { lossValue: lossValue!, objValue: objValue!, stimulusFinite: Number.isFinite(sum!) };
}

/**
 * One iteration with the engine's gradient and the {@link HostStimulusStep}: the objective is the cotangent's dot
 * product with the responses (it is linear in them), the rest is one pass over the host's copy of the stimulus,
 * which stays on the host between steps ({@link HostStimulus}). An engine with `inputGradientValues` takes and gives
 * host arrays; another one TF.js tensors (`cotangent`).
 */
async function hostEngineIteration(
  x: tf.Variable<tf.Rank.R5>,
  objective: IncreaseObjective & { session: string },
  engine: ComputeEngine,
  cotangent: tf.Tensor3D | null,
  cot: Cotangent,
  host: HostStimulusStep,
  hostX: HostStimulus,
): Promise<IterationValues> {
  const values = await hostX.read();
  let responses: Float32Array;
  let modelGrad: Float32Array;
  if (engine.inputGradientValues) {
    const r = await engine.inputGradientValues(values, x.shape, objective.session, cot.values);
    checkEngineOutput(r.outputShape, cot.shape, x, objective);
    [responses, modelGrad] = [r.output, r.grad];
  } else {
    const { output, grad } = await engine.inputGradient(x as unknown as tf.Tensor5D, objective.session, cotangent!);
    try {
      checkEngineOutput(output.shape, cot.shape, x, objective);
      [responses, modelGrad] = await Promise.all([readFloats(output), readFloats(grad)]);
    } finally {
      tf.dispose([output, grad]);
    }
  }
  const objValue = Math.fround(dot(cot.values, responses));
  const next = hostX.target();
  const { regularization } = host.step(values, modelGrad, next);
  const lossValue = Math.fround(-objValue + regularization);
  const stimulusFinite = allFinite(next);
  hostX.assign(next, stimulusFinite);
  return { lossValue, objValue, stimulusFinite };
}

// loops in functions of their own, which V8 keeps optimised (see host-step.ts)
function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
}

function checkEngineOutput(shape: readonly number[], expected: readonly number[], x: tf.Tensor, objective: IncreaseObjective): void {
  if (shape.join() !== expected.join()) {
    throw new ShapeError(
      `The engine's responses have shape ${formatShape(shape)}, expected ${formatShape(expected)} (stimulus ${formatShape(x.shape)}, ${objective.model.framesCut} frames cut).`,
    );
  }
}

interface StepValues {
  value: tf.Scalar;
  grad: tf.Tensor5D;
  objectiveValue: tf.Scalar | undefined;
}

/** The TF.js reference: `loss = −objective(x) + Σ reg(x)` and `∂loss/∂x` through the whole model. */
function tfjsStep(
  x: tf.Variable<tf.Rank.R5>,
  objective: StimulusObjective,
  regularizers: readonly StimulusRegularizationLoss[],
): StepValues {
  let objectiveValue: tf.Scalar | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const obj = objective.forward(x as unknown as tf.Tensor5D);
    objectiveValue = tf.keep(tf.clone(obj));
    let loss = tf.neg(obj) as tf.Scalar;
    for (const reg of regularizers) loss = tf.add(loss, reg.forward(x as unknown as tf.Tensor5D));
    return loss;
  }, [x]);
  return { value, grad: grads[x.name] as tf.Tensor5D, objectiveValue };
}

/** The objective the engine can serve (linear in one session's responses), or null for the TF.js path. */
function engineObjective(
  objective: StimulusObjective,
  engine: ComputeEngine | undefined,
): (IncreaseObjective & { session: string }) | null {
  if (!engine || !(objective instanceof IncreaseObjective) || !objective.linearInResponses || objective.session === undefined) return null;
  if (engine.model !== objective.model) {
    throw new ConfigError('optimizeStimulus: the engine was created for another model than the objective’s.');
  }
  if ((objective.model as { training?: unknown }).training === true) {
    throw new ConfigError(
      'optimizeStimulus: the engine computes eval-mode responses, but the model is in training mode (call model.eval()).',
    );
  }
  return objective as IncreaseObjective & { session: string };
}

/** An objective's cotangent: its values and shape `[1, T_out, N]`. */
interface Cotangent {
  values: Float32Array;
  shape: [number, number, number];
}

/**
 * `∂objective/∂responses` as a `[1, T_out, N]` cotangent: a constant, as the objective is
 * linear in the responses. Written out rather than differentiated (`tf.grad` of the objective took ~1.7 ms on wasm,
 * and each MEI step of the demo is one call): weight `1/len` on the reducer's frames (all frames for a mean), times
 * `1/K` for each of the K neuron indices, rounded as TF.js's mean gradients round them.
 */
function objectiveCotangent(objective: IncreaseObjective & { session: string }, stimulusShape: readonly number[]): Cotangent {
  const model = objective.model;
  const n = model.neuronsPerSession[objective.session];
  if (n === undefined) throw new ConfigError(`Unknown session "${objective.session}"; the model has ${model.sessions.join(', ')}.`);
  const tOut = stimulusShape[1]! - model.framesCut;
  if (stimulusShape[0] !== 1 || tOut <= 0) {
    throw new ShapeError(
      `optimizeStimulus with an engine needs one stimulus of more than ${model.framesCut} frames, got ${formatShape(stimulusShape)}.`,
    );
  }
  const reducer = objective.reducer;
  const { start, length } = reducer instanceof SliceMeanReducer ? reducer.window(tOut) : { start: 0, length: tOut };
  const perNeuron = new Float32Array(n);
  const w = Math.fround(Math.fround(1 / length) / objective.neuronIndices.length);
  for (const i of objective.neuronIndices) perNeuron[i] = Math.fround(perNeuron[i]! + w);
  const values = new Float32Array(tOut * n);
  for (let t = start; t < start + length; t++) values.set(perNeuron, t * n);
  return { values, shape: [1, tOut, n] };
}

/** The engine's vector-Jacobian product for the model part, the regularisers' gradient in TF.js. */
async function engineStep(
  x: tf.Variable<tf.Rank.R5>,
  objective: IncreaseObjective,
  engine: ComputeEngine,
  cotangent: tf.Tensor3D,
  regularizers: readonly StimulusRegularizationLoss[],
): Promise<StepValues> {
  const { output, grad: modelGrad } = await engine.inputGradient(x as unknown as tf.Tensor5D, objective.session!, cotangent);
  try {
    checkEngineOutput(output.shape, cotangent.shape, x, objective);
    const objectiveValue = tf.tidy(() => objective.fromResponses(tf.squeeze(output, [0]) as tf.Tensor2D));
    if (regularizers.length === 0) {
      return { value: tf.neg(objectiveValue), grad: tf.neg(modelGrad), objectiveValue };
    }
    let regs: { value: tf.Scalar; grads: tf.NamedTensorMap };
    try {
      regs = tf.variableGrads(() => {
        let loss = tf.neg(objectiveValue) as tf.Scalar;
        for (const reg of regularizers) loss = tf.add(loss, reg.forward(x as unknown as tf.Tensor5D));
        return loss;
      }, [x]);
    } catch (e) {
      objectiveValue.dispose();
      throw e;
    }
    const { value, grads } = regs;
    const regGrad = grads[x.name]!;
    const grad = tf.sub(regGrad, modelGrad) as tf.Tensor5D;
    regGrad.dispose();
    return { value, grad, objectiveValue };
  } finally {
    tf.dispose([output, modelGrad]);
  }
}

/** `loss = −objective + Σ reg` and its gradient with respect to the stimulus, without a step (for tests and tools). */
export function stimulusLossAndGrad(
  stimulus: tf.Tensor5D,
  objective: StimulusObjective,
  regularizers?: OneOrMany<StimulusRegularizationLoss>,
): { loss: tf.Scalar; grad: tf.Tensor5D } {
  const regs = toList(regularizers);
  const { value, grad } = tf.valueAndGrad((s: tf.Tensor5D) => {
    let loss = tf.neg(objective.forward(s)) as tf.Scalar;
    for (const r of regs) loss = tf.add(loss, r.forward(s));
    return loss;
  })(stimulus);
  return { loss: value as tf.Scalar, grad: grad as tf.Tensor5D };
}
