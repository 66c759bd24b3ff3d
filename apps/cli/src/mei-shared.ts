import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, FileFormatError, ShapeError, formatShape } from '@openretina/contracts';
import { loadCoreReadout } from '@openretina/hub/node';
import {
  StimulusSGD,
  meiConstraints,
  meiConvergence,
  meiPreset,
  meiStopper,
  optimizeStimulus,
  videoFromChannelsFirst,
  videoFromTensor,
  videoToChannelsFirst,
  type ChangeNormJointlyClipRangeSeparately,
  type MeiConvergence,
  type MeiPreset,
  type OptimizeStimulusResult,
  type StimulusObjective,
  type Video,
} from '@openretina/insilico';
import type { ComputeEngine } from '@openretina/contracts';
import { parseNpy, readSafetensors, serializeNpy, toFloat32 } from '@openretina/formats';
import { Rng, assertFinite } from '@openretina/layers';
import type { CoreReadout } from '@openretina/models';
import { buildHoeflingLowRes } from './demo-command.js';
import { cliDownloadOptions } from './download-progress.js';
import { UsageError } from './errors.js';
import { assertFiniteWeights } from './finite-inputs.js';

/**
 * Loads a model for MEIs: a `.safetensors` state dict of the Höfling low-res architecture (sessions and neuron counts
 * read from the `readout.<session>.bias` entries), or anything `@openretina/hub` loads (OpenRetina `.ckpt` files,
 * our checkpoint folders, published model names).
 */
export async function loadMeiModel(checkpoint: string): Promise<CoreReadout> {
  let model: CoreReadout;
  if (/\.safetensors$/i.test(checkpoint)) {
    const { tensors } = readSafetensors(readFileSync(checkpoint), checkpoint);
    const nNeurons: Record<string, number> = {};
    for (const [key, t] of tensors) {
      const m = /^readout\.(.+)\.bias$/.exec(key);
      if (m) nNeurons[m[1]!] = t.shape[0]!;
    }
    if (Object.keys(nNeurons).length === 0) {
      throw new FileFormatError(`${checkpoint} has no readout.<session>.bias entries: not a Höfling low-res core-readout state dict.`);
    }
    model = buildHoeflingLowRes(nNeurons);
    try {
      model.loadStateDict(tensors);
    } catch (error) {
      model.dispose(); // a state dict that does not fit leaves no tensors behind
      throw error;
    }
  } else {
    model = await loadCoreReadout(checkpoint, cliDownloadOptions());
  }
  model.eval();
  try {
    assertFiniteWeights(model, checkpoint);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/**
 * `randn(shape) · 0.1`, then the post-processor, as OpenRetina. The numbers come from our seeded generator (layers'
 * `Rng`, not PyTorch's): every seed, 0 included, gives the same start on every run and backend (TF.js's own
 * `randomNormal` treats a seed of 0 as "no seed").
 */
export function randomInit(
  shape: [number, number, number, number, number],
  seed: number,
  postprocessor: ChangeNormJointlyClipRangeSeparately,
): tf.Variable {
  return tf.tidy(() => {
    const x = new Rng(seed).randn(shape, 0.1) as tf.Tensor5D;
    return tf.variable(postprocessor.process(x));
  });
}

/** Reads an `(1, C, T, H, W)` `.npy` stimulus as a channels-last variable, checking it against the model. */
export function npyInit(path: string, model: CoreReadout): tf.Variable {
  const arr = parseNpy(new Uint8Array(readFileSync(path)), path);
  const { channels, height, width } = model.stimulus;
  const s = arr.shape;
  if (s.length !== 5 || s[0] !== 1 || s[1] !== channels || s[3] !== height || s[4] !== width) {
    throw new ShapeError(`${path}: expected a stimulus (1, ${channels}, T, ${height}, ${width}), got ${formatShape(s)}.`);
  }
  assertFinite(toFloat32(arr.data), `${path} (the --init stimulus)`, s);
  const video = videoFromChannelsFirst(toFloat32(arr.data), s);
  return tf.tidy(() => tf.variable(tf.tensor5d(video.data, [1, ...video.shape])));
}

/** The stimulus as `.npy` bytes in OpenRetina's `(1, C, T, H, W)` layout. */
export function stimulusNpy(video: Video): Uint8Array {
  const [t, h, w, c] = video.shape;
  return serializeNpy(videoToChannelsFirst(video), [1, c, t, h, w]);
}

export function intOption(value: string | undefined, name: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${value}".`);
  return n;
}

export function numberOption(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a finite number, got "${value}".`);
  return n;
}

export function sgd(lr: number): StimulusSGD {
  return new StimulusSGD({ lr });
}

/** `--preset` with `--steps`/`--lr` overrides (`--steps` sets the step cap). */
export function meiSettings(values: { preset?: string | undefined; steps?: string | undefined; lr?: string | undefined }): MeiPreset {
  const preset = meiPreset(values.preset ?? 'default');
  return {
    ...preset,
    ...(values.steps === undefined ? {} : { maxSteps: intOption(values.steps, 'steps', 0) }),
    ...(values.lr === undefined ? {} : { lr: numberOption(values.lr, 'lr') }),
  };
}

export interface MeiRun {
  video: Video;
  result: OptimizeStimulusResult;
  verdict: MeiConvergence;
}

/**
 * One MEI with a preset's optimiser, constraints and stopper from the stimulus variable `x` (disposed here): the
 * stimulus as a `Video`, the optimisation's record and its convergence verdict.
 */
export async function runMei(
  x: tf.Variable,
  objective: StimulusObjective,
  settings: MeiPreset,
  options: {
    channels: number;
    engine?: ComputeEngine;
    onIteration?: (info: { iteration: number; loss: number; objective: number }) => void;
  },
): Promise<MeiRun> {
  const { postprocessor, regularizer } = meiConstraints(options.channels, settings);
  const optimizer = sgd(settings.lr);
  try {
    const result = await optimizeStimulus(x, {
      optimizer,
      objective,
      stopper: meiStopper(settings),
      regularizers: regularizer,
      postprocessors: postprocessor,
      ...(options.engine ? { engine: options.engine } : {}),
      ...(options.onIteration ? { onIteration: options.onIteration } : {}),
    });
    return { video: videoFromTensor(x), result, verdict: meiConvergence(result, settings.maxSteps) };
  } finally {
    optimizer.dispose();
    x.dispose();
  }
}

/** What `mei`/`visualize` write next to each MEI: settings, objective per step, verdict. */
export function meiRecord(run: MeiRun, settings: MeiPreset, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    ...extra,
    preset: settings.name,
    settings: {
      lr: settings.lr,
      max_steps: settings.maxSteps,
      relative_tolerance: settings.relativeTolerance,
      patience: settings.patience,
    },
    iterations: run.result.iterations,
    converged: run.verdict.converged,
    hit_step_cap: run.verdict.hitCap,
    objective_start: run.verdict.objectiveStart,
    objective_end: run.verdict.objectiveEnd,
    relative_gain: run.verdict.relativeGain,
    warnings: run.verdict.warnings,
    objectives: run.result.objectives,
    engine: run.result.engine,
  };
}

/** `--animation gif|mp4|none`. */
export function animationOption(value: string | undefined): 'gif' | 'mp4' | 'none' {
  const v = value ?? 'gif';
  if (v !== 'gif' && v !== 'mp4' && v !== 'none') throw new ConfigError(`--animation must be gif, mp4 or none, got "${v}".`);
  return v;
}

/** The largest stimulus an MEI is computed on (values), far beyond any retina model's input but within memory. */
const MAX_STIMULUS_VALUES = 2 ** 27;

/** Refuses a stimulus shape too large to allocate (e.g. `--frames 100000000`) with a clear error. */
export function checkStimulusSize(shape: readonly number[], flag = '--frames'): void {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n > MAX_STIMULUS_VALUES)
    throw new UsageError(
      `A stimulus of shape [${shape.join(', ')}] has ${n} values, more than the ${MAX_STIMULUS_VALUES} an MEI is computed on: lower ${flag}.`,
    );
}

/** The post-processed random start of a preset's stimulus shape. */
export function meiStart(
  shape: [number, number, number, number, number],
  seed: number,
  channels: number,
  settings: MeiPreset,
): tf.Variable {
  checkStimulusSize(shape);
  return randomInit(shape, seed, meiConstraints(channels, settings).postprocessor);
}
