import * as tf from '@tensorflow/tfjs-core';
import type { ComputeEngine, Movie } from '@openretina/contracts';
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
  /** The ONNX route's engine for the model's gradient; TF.js's own gradient when absent. */
  engine?: ComputeEngine;
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

/** One MEI in progress: the stimulus variable, the optimiser and the objective, stepped one iteration at a time. */
export interface MeiRun {
  readonly settings: MeiPreset;
  readonly stimulus: tf.Variable;
  /** One gradient-ascent iteration (the objective, constraints and regulariser of the preset). */
  step(): Promise<{ objective: number; loss: number }>;
  dispose(): void;
}

/**
 * Sets up an MEI for one neuron with the CLI's MEI presets (the same optimiser, constraints and objective as
 * `openretina mei`): SGD on the stimulus, kept at norm 30 and the green/UV ranges for 2-channel models, objective
 * the mean response over output frames 10–19. With `engine` (the ONNX route) the model's part of the gradient is
 * the engine's vector-Jacobian product, else TF.js's own gradient.
 */
export function createMeiRun(
  model: CoreReadout,
  options: Pick<MeiOptions, 'session' | 'neuron' | 'preset' | 'maxSteps' | 'seed' | 'engine'>,
): MeiRun {
  const base = meiPreset(options.preset);
  const settings: MeiPreset = { ...base, maxSteps: options.maxSteps ?? base.maxSteps };
  const frames = Math.max(settings.frames, model.framesCut + settings.window.start + settings.window.length);
  const shape = model.stimulusShape(frames);
  const { postprocessor, regularizer } = meiConstraints(shape[4], settings);
  const init = tf.tidy(() =>
    postprocessor.process(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', options.seed ?? 777), 0.1) as tf.Tensor5D),
  );
  const stimulus = tf.variable(init, true, `mei_${Date.now()}_${Math.random().toString(36).slice(2)}`);
  init.dispose();
  const optimizer = new StimulusSGD({ lr: settings.lr });
  const objective = new IncreaseObjective(model, options.neuron, options.session, new SliceMeanReducer({ axis: 0, ...settings.window }));
  return {
    settings,
    stimulus,
    // One optimizeStimulus call per step (plain SGD keeps no state between steps, so this is the same run), so that
    // the page stays responsive between steps; the caller's stopper sees every step.
    async step() {
      const r = await optimizeStimulus(stimulus, {
        optimizer,
        objective,
        stopper: new OptimizationStopper(1),
        regularizers: regularizer,
        postprocessors: postprocessor,
        ...(options.engine ? { engine: options.engine } : {}),
      });
      return { objective: r.objectives[0]!, loss: r.losses[0]! };
    },
    dispose() {
      optimizer.dispose();
      stimulus.dispose();
    },
  };
}

/**
 * A most exciting input for one neuron ({@link createMeiRun}), stopped when the objective settles or at the cap
 * (the convergence rule of `openretina mei`).
 */
export async function computeMei(model: CoreReadout, options: MeiOptions): Promise<MeiResult> {
  const run = createMeiRun(model, options);
  const { settings, stimulus } = run;
  const stopper = meiStopper(settings);
  try {
    const objectives: number[] = [];
    const losses: number[] = [];
    let cancelled = false;
    let converged = false;
    for (let step = 0; step < settings.maxSteps; step++) {
      if (options.signal.aborted) {
        cancelled = true;
        break;
      }
      const r = await run.step();
      objectives.push(r.objective);
      losses.push(r.loss);
      options.onStep?.(step + 1, r.objective);
      if (stopper.earlyStop(r.loss, r.objective)) {
        converged = stopper.converged;
        break;
      }
      await yieldToPage();
    }
    const data = (await stimulus.data()) as Float32Array;
    const engine = options.engine?.name ?? 'tfjs';
    const result = { losses, objectives, iterations: objectives.length, stoppedEarly: converged, converged, engine };
    const first = model.framesCut + settings.window.start;
    const [, t, h, w, c] = stimulus.shape as [number, number, number, number, number];
    return {
      movie: { data: data.slice(), shape: [t, h, w, c] },
      objectives,
      cancelled,
      iterations: objectives.length,
      settings,
      verdict: meiConvergence(result, settings.maxSteps),
      windowFrames: [first, first + settings.window.length - 1],
    };
  } finally {
    run.dispose();
  }
}
