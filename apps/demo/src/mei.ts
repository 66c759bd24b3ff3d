import * as tf from '@tensorflow/tfjs-core';
import type { Movie } from '@openretina/contracts';
import {
  IncreaseObjective,
  OptimizationStopper,
  SliceMeanReducer,
  StimulusSGD,
  meiConstraints,
  meiConvergence,
  meiPreset,
  meiStopper,
  optimizeStimulus,
  type MeiConvergence,
  type MeiPreset,
} from '@openretina/insilico';
import type { CoreReadout } from '@openretina/models';

/** Lets the page repaint and handle clicks (the cancel button) between steps. */
const yieldToPage = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

export interface MeiOptions {
  session: string;
  neuron: number;
  /** `default` (runs until the objective settles) or `openretina` (OpenRetina's 10 steps), as the CLI's --preset. */
  preset: string;
  /** The step cap (default: the preset's). */
  maxSteps?: number;
  signal: AbortSignal;
  onStep?: (step: number, objective: number) => void;
  seed?: number;
}

export interface MeiResult {
  movie: Movie;
  objectives: number[];
  cancelled: boolean;
  iterations: number;
  settings: MeiPreset;
  verdict: MeiConvergence;
  /** Input frames before the objective's window (to mark it on the figure). */
  windowFrames: [number, number];
}

/**
 * A most exciting input for one neuron with the CLI's MEI presets (the same optimiser, constraints, objective and
 * convergence rule as `openretina mei`): SGD on the stimulus, kept at norm 30 and the green/UV ranges for 2-channel
 * models, objective the mean response over output frames 10–19, stopped when the objective settles or at the cap.
 */
export async function computeMei(model: CoreReadout, options: MeiOptions): Promise<MeiResult> {
  const base = meiPreset(options.preset);
  const settings: MeiPreset = { ...base, maxSteps: options.maxSteps ?? base.maxSteps };
  const frames = Math.max(settings.frames, model.framesCut + settings.window.start + settings.window.length);
  const shape = model.stimulusShape(frames);
  const { postprocessor, regularizer } = meiConstraints(shape[4], settings);
  const init = tf.tidy(() =>
    postprocessor.process(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', options.seed ?? 777), 0.1) as tf.Tensor5D),
  );
  const stimulus = tf.variable(init, true, `mei_${Date.now()}`);
  init.dispose();
  const optimizer = new StimulusSGD({ lr: settings.lr });
  const stopper = meiStopper(settings);
  try {
    const objective = new IncreaseObjective(model, options.neuron, options.session, new SliceMeanReducer({ axis: 0, ...settings.window }));
    // One optimizeStimulus call per step (plain SGD keeps no state between steps, so this is the same run), so that
    // the page stays responsive and the cancel button is seen between steps; the preset's stopper sees every step.
    const objectives: number[] = [];
    const losses: number[] = [];
    let cancelled = false;
    let converged = false;
    for (let step = 0; step < settings.maxSteps; step++) {
      if (options.signal.aborted) {
        cancelled = true;
        break;
      }
      const r = await optimizeStimulus(stimulus, {
        optimizer,
        objective,
        stopper: new OptimizationStopper(1),
        regularizers: regularizer,
        postprocessors: postprocessor,
      });
      objectives.push(r.objectives[0]!);
      losses.push(r.losses[0]!);
      options.onStep?.(step + 1, r.objectives[0]!);
      if (stopper.earlyStop(r.losses[0]!, r.objectives[0]!)) {
        converged = stopper.converged;
        break;
      }
      await yieldToPage();
    }
    const data = (await stimulus.data()) as Float32Array;
    const result = { losses, objectives, iterations: objectives.length, stoppedEarly: converged, converged, engine: 'tfjs' };
    const first = model.framesCut + settings.window.start;
    return {
      movie: { data: data.slice(), shape: [shape[1], shape[2], shape[3], shape[4]] },
      objectives,
      cancelled,
      iterations: objectives.length,
      settings,
      verdict: meiConvergence(result, settings.maxSteps),
      windowFrames: [first, first + settings.window.length - 1],
    };
  } finally {
    optimizer.dispose();
    stimulus.dispose();
  }
}
