import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, FileFormatError, ShapeError, formatShape } from '@openretina/contracts';
import { loadCoreReadout } from '@openretina/hub/node';
import {
  ChangeNormJointlyClipRangeSeparately,
  HOEFLING_MIN_MAX,
  HOEFLING_STIMULUS_RANGE,
  RangeRegularizationLoss,
  StimulusSGD,
  videoFromChannelsFirst,
  videoToChannelsFirst,
  type MinMax,
  type Video,
} from '@openretina/insilico';
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

/** OpenRetina `visualize` constraints: the Höfling ranges and norm 30 for 2-channel models, none otherwise. */
export function meiConstraints(channels: number): {
  postprocessor: ChangeNormJointlyClipRangeSeparately;
  regularizer: RangeRegularizationLoss;
} {
  const twoChannel = channels === 2;
  const minMax: MinMax[] = twoChannel ? [...HOEFLING_MIN_MAX] : Array.from({ length: channels }, () => [null, null] as const);
  const norm = twoChannel ? HOEFLING_STIMULUS_RANGE.norm : null;
  return {
    postprocessor: new ChangeNormJointlyClipRangeSeparately({ minMax, norm }),
    regularizer: new RangeRegularizationLoss({ minMax, maxNorm: norm, factor: 0.1 }),
  };
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
