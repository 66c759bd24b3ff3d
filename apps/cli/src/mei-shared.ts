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
import type { CoreReadout } from '@openretina/models';
import { buildHoeflingLowRes } from './demo-command.js';
import { cliDownloadOptions } from './download-progress.js';

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
    model.loadStateDict(tensors);
  } else {
    model = await loadCoreReadout(checkpoint, cliDownloadOptions());
  }
  model.eval();
  return model;
}

/** `randn(shape) · 0.1` (seeded, TF.js's generator: not PyTorch's numbers), then the post-processor, as OpenRetina. */
export function randomInit(
  shape: [number, number, number, number, number],
  seed: number,
  postprocessor: ChangeNormJointlyClipRangeSeparately,
): tf.Variable {
  return tf.tidy(() => {
    const x = tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed), 0.1) as tf.Tensor5D;
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
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`--${name} must be an integer ≥ ${min}, got "${value}".`);
  return n;
}

export function numberOption(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new ConfigError(`--${name} must be a number, got "${value}".`);
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

/** The post-processed random start of a preset's stimulus shape. */
export function meiStart(
  shape: [number, number, number, number, number],
  seed: number,
  channels: number,
  settings: MeiPreset,
): tf.Variable {
  return randomInit(shape, seed, meiConstraints(channels, settings).postprocessor);
}
