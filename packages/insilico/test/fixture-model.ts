import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { SimpleCoreWrapper } from '@openretina/core';
import { readSafetensors } from '@openretina/layers';
import { CoreReadout } from '@openretina/models';
import { MultiGaussianMaskReadout } from '@openretina/readout';
import { FIXTURE_MODEL, OPENRETINA_FIXTURES, ncdhwToNdhwc, ref } from '../../../test-utils/fixtures.js';

/** The fixture architecture with the fixture weights loaded, in eval mode. */
export function buildFixtureModel(): CoreReadout {
  const model = new CoreReadout({
    core: new SimpleCoreWrapper(FIXTURE_MODEL.core),
    readout: new MultiGaussianMaskReadout({ ...FIXTURE_MODEL.readout, nNeuronsDict: FIXTURE_MODEL.nNeuronsDict }),
    inputShape: FIXTURE_MODEL.inputShape,
  });
  const { tensors } = readSafetensors(readFileSync(join(OPENRETINA_FIXTURES, 'state_dict.safetensors')));
  model.loadStateDict(tensors);
  model.eval();
  return model;
}

/** A reference video `(B, C, T, H, W)` converted to channels-last. */
export function refVideo(name: string): tf.Tensor5D {
  const { data, shape } = ncdhwToNdhwc(ref(name));
  return tf.tensor5d(data, shape);
}
