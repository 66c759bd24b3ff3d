import * as tf from '@tensorflow/tfjs-core';
import type { Movie } from '@openretina/contracts';
import {
  ChangeNormJointlyClipRangeSeparately,
  HOEFLING_MIN_MAX,
  HOEFLING_STIMULUS_RANGE,
  IncreaseObjective,
  OptimizationStopper,
  RangeRegularizationLoss,
  StimulusSGD,
  SliceMeanReducer,
  optimizeStimulus,
  type MinMax,
} from '@openretina/insilico';
import type { CoreReadout } from '@openretina/models';

/** Lets the page repaint and handle clicks (the cancel button) between steps. */
const yieldToPage = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

export interface MeiOptions {
  session: string;
  neuron: number;
  steps: number;
  /** Output frames the objective averages (OpenRetina's visualize: frames 10…19 of 20). */
  outputFrames?: number;
  signal: AbortSignal;
  onStep?: (step: number, objective: number) => void;
  seed?: number;
}

export interface MeiResult {
  movie: Movie;
  objectives: number[];
  cancelled: boolean;
  iterations: number;
}

/**
 * A most exciting input for one neuron, with OpenRetina's `visualize` settings for Höfling-type (2-channel) models:
 * SGD lr 100, stimulus kept at L2 norm 30 and clipped to the green/UV ranges, range penalty 0.1, objective the mean
 * response over output frames 10–19. Other channel counts keep the norm but have no range limits.
 */
export async function computeMei(model: CoreReadout, options: MeiOptions): Promise<MeiResult> {
  const outFrames = options.outputFrames ?? 20;
  const shape = model.stimulusShape(model.framesCut + outFrames);
  const channels = shape[4];
  const minMax: readonly MinMax[] = channels === 2 ? HOEFLING_MIN_MAX : Array.from({ length: channels }, () => [null, null] as const);
  const norm = HOEFLING_STIMULUS_RANGE.norm;
  const post = new ChangeNormJointlyClipRangeSeparately({ minMax, norm });
  const init = tf.tidy(() => post.process(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', options.seed ?? 777), 0.1) as tf.Tensor5D));
  const stimulus = tf.variable(init, true, `mei_${Date.now()}`);
  init.dispose();
  const optimizer = new StimulusSGD({ lr: 100 });
  try {
    const objective = new IncreaseObjective(
      model,
      options.neuron,
      options.session,
      new SliceMeanReducer({ axis: 0, start: Math.floor(outFrames / 2), length: Math.ceil(outFrames / 2) }),
    );
    const regularizers = new RangeRegularizationLoss({ minMax, maxNorm: norm, factor: 0.1 });
    // One optimizeStimulus call per step (plain SGD keeps no state between steps, so this is the same run), so that
    // the page stays responsive and the cancel button is seen between steps.
    const objectives: number[] = [];
    let cancelled = false;
    for (let step = 0; step < options.steps; step++) {
      if (options.signal.aborted) {
        cancelled = true;
        break;
      }
      const r = await optimizeStimulus(stimulus, {
        optimizer,
        objective,
        stopper: new OptimizationStopper(1),
        regularizers,
        postprocessors: post,
      });
      objectives.push(r.objectives[0]!);
      options.onStep?.(step + 1, r.objectives[0]!);
      await yieldToPage();
    }
    const data = (await stimulus.data()) as Float32Array;
    return {
      movie: { data: data.slice(), shape: [shape[1], shape[2], shape[3], shape[4]] },
      objectives,
      cancelled,
      iterations: objectives.length,
    };
  } finally {
    optimizer.dispose();
    stimulus.dispose();
  }
}
