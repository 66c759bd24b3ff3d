// The OpenRetina fixture model (hoefling low-res core-readout, 3 sessions) for any package's tests: built from the
// manifest's resolved OpenRetina config through the model registry, with the fixture weights loaded.
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '@openretina/formats';
import { buildCoreReadout, type CoreReadout, type CoreReadoutConfig } from '@openretina/models';
import { OPENRETINA_FIXTURES, ncdhwToNdhwc, ref } from './fixtures.js';

/** The fixture model in training mode (PyTorch's default after construction), fixture weights loaded. */
export function buildFixtureModel(): CoreReadout {
  const manifest = JSON.parse(readFileSync(join(OPENRETINA_FIXTURES, 'manifest.json'), 'utf8')) as {
    config: { model_cfg_resolved: Record<string, unknown> };
  };
  const { optimizer: _optimizer, lr_scheduler: _scheduler, ...config } = manifest.config.model_cfg_resolved;
  const model = buildCoreReadout(config as unknown as CoreReadoutConfig);
  model.loadStateDict(readSafetensors(readFileSync(join(OPENRETINA_FIXTURES, 'state_dict.safetensors'))).tensors);
  return model;
}

/** A reference video `(B, C, T, H, W)` as a channels-last tensor. */
export function refVideo(name: string): tf.Tensor5D {
  const { data, shape } = ncdhwToNdhwc(ref(name));
  return tf.tensor5d(data, shape);
}
