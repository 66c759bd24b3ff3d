// Random weights for the engine and predictor tests' small core-readouts.
import * as tf from '@tensorflow/tfjs-core';
import type { CoreReadout } from '@openretina/models';

/**
 * Draws the conv, readout and bias weights from N(0, 0.6²) with consecutive seeds from `seed`: large enough that
 * the output depends on every layer (the initial conv weights are ~0.01). Returns the next unused seed.
 */
export function randomizeWeights(model: CoreReadout, seed: number): number {
  let next = seed;
  for (const [name, v] of model.namedParameters())
    if (/(sin_weights|cos_weights|weight_spatial|features|mask_mean|bias)$/.test(name))
      tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.6, 'float32', next++)));
  return next;
}
