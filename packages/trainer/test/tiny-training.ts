// The tiny multi-session core-readout (test-utils' tiny core-readout config) and its learnable synthetic batches that
// the training tests share.
import * as tf from '@tensorflow/tfjs-core';
import type { SessionBatch } from '@openretina/contracts';
import { buildCoreReadout, type CoreReadout } from '@openretina/models';
import { tinyCoreReadoutConfig } from '@openretina/test-utils/tiny-core-readout';

export const SESSIONS: Record<string, number> = { s1: 3, s2: 4, s3: 2 };
export const T = 14;
export const H = 6;
export const W = 6;

/** The tiny model; `dropoutRate` > 0 adds Dropout3d after the core layer (a random stream used while training). */
export function tinyModel(seed = 1, dropoutRate = 0): CoreReadout {
  const config = tinyCoreReadoutConfig({ sessions: SESSIONS, inShape: [2, T, H, W], readoutRegAvg: false, learningRate: 0.01 });
  if (dropoutRate > 0) config.core = { ...config.core, dropout_rate: dropoutRate };
  return buildCoreReadout(config, { seed });
}

/** mulberry32: a tiny seeded PRNG for synthetic data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A batch whose responses follow one input pixel per neuron (learnable), deterministic in `seed`. */
export function batch(session: string, seed: number, b = 2): SessionBatch {
  const r = rng(seed);
  const n = SESSIONS[session]!;
  const x = new Float32Array(b * T * H * W * 2).map(() => r() * 2 - 1);
  const y = new Float32Array(b * T * n);
  for (let i = 0; i < b; i++)
    for (let t = 0; t < T; t++)
      for (let k = 0; k < n; k++) {
        const px = x[(((i * T + t) * H + 2 + (k % 2)) * W + 2 + k) * 2]!;
        y[(i * T + t) * n + k] = Math.log1p(Math.exp(2 * px)) + 0.1 * r();
      }
  return { session, inputs: tf.tensor5d(x, [b, T, H, W, 2]), targets: tf.tensor3d(y, [b, T, n]) };
}
