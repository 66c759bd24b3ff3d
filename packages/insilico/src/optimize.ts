import * as tf from '@tensorflow/tfjs';
import { ShapeError, formatShape } from '@openretina/contracts';
import type { StimulusObjective } from './objectives.js';
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
}

export interface OptimizeStimulusResult {
  /** The loss of each iteration, computed before that iteration's step (what the stopper saw). */
  losses: number[];
  /** The objective of each iteration (before its step). */
  objectives: number[];
  iterations: number;
  stoppedEarly: boolean;
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
  const losses: number[] = [];
  const objectives: number[] = [];
  let stoppedEarly = false;
  for (let i = 0; i < options.stopper.maxIterations; i++) {
    let objectiveValue: tf.Scalar | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const objective = options.objective.forward(x as unknown as tf.Tensor5D);
      objectiveValue = tf.keep(tf.clone(objective));
      let loss = tf.neg(objective) as tf.Scalar;
      for (const reg of regularizers) loss = tf.add(loss, reg.forward(x as unknown as tf.Tensor5D));
      return loss;
    }, [x]);
    const grad = grads[x.name]!;
    options.optimizer.step(x, grad);
    for (const p of postprocessors) {
      const y = p.process(x as unknown as tf.Tensor5D);
      x.assign(y);
      y.dispose();
    }
    const [lossValue] = await value.data();
    const [objValue] = objectiveValue ? await objectiveValue.data() : [Number.NaN];
    tf.dispose([value, grad, ...(objectiveValue ? [objectiveValue] : [])]);
    losses.push(lossValue!);
    objectives.push(objValue!);
    options.onIteration?.({ iteration: i, loss: lossValue!, objective: objValue! });
    if (options.stopper.earlyStop(lossValue!)) {
      stoppedEarly = true;
      break;
    }
  }
  return { losses, objectives, iterations: losses.length, stoppedEarly };
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
