// isModelCausal (OpenRetina's is_model_causal, whose test checks every published model): our model families are
// causal; a core padded in time ("same") is not.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@openretina/backend';
import { ConfigError, type Core } from '@openretina/contracts';
import { ConvGRUCore, SimpleCoreWrapper, type CorePadding } from '@openretina/core';
import { MultiGaussianMaskReadout } from '@openretina/readout';
import { buildFixtureModel } from '@openretina/test-utils/fixture-model';
import { CoreReadout, buildLegacyHoeflingModel, isModelCausal } from '../src/index.js';

const INPUT: [number, number, number] = [2, 8, 7]; // [C, H, W]

function withReadout(core: Core): CoreReadout {
  const [t, h, w, c] = core.outputShape([30, INPUT[1], INPUT[2], INPUT[0]]);
  const readout = new MultiGaussianMaskReadout({ inShape: [c, t, h, w], nNeuronsDict: { a: 3, b: 2 }, seed: 2 });
  return new CoreReadout({ core, readout, inputShape: INPUT });
}

function simpleModel(inputPadding: CorePadding): CoreReadout {
  const core = new SimpleCoreWrapper({
    channels: [2, 3, 3],
    temporalKernelSizes: [5, 3],
    spatialKernelSizes: [3, 3],
    gammaInput: 0,
    gammaTemporal: 0,
    gammaInSparse: 0,
    gammaHidden: 0,
    cutFirstNFrames: 0,
    inputPadding,
    hiddenPadding: [0, 1, 1],
    seed: 1,
  });
  return withReadout(core);
}

describe('isModelCausal', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('the OpenRetina fixture model (hoefling low-res core-readout) is causal, with no tensor left behind', async () => {
    const model = buildFixtureModel();
    const before = tf.memory().numTensors;
    expect(await isModelCausal(model)).toBe(true);
    expect(await isModelCausal(model, { session: 'session_3', framesSame: 31, framesDifferent: 3 })).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    expect(model.training).toBe(true); // the mode it had
    model.dispose();
  });

  it('a SimpleCoreWrapper padded only in space is causal; padded in time ("same") it is not', async () => {
    const causal = simpleModel([0, 1, 1]);
    const padded = simpleModel('same');
    padded.eval();
    expect(await isModelCausal(causal)).toBe(true);
    expect(await isModelCausal(padded)).toBe(false);
    expect(padded.training).toBe(false);
    causal.dispose();
    padded.dispose();
  });

  it('the GRU core and the legacy Höfling model are causal', async () => {
    const gru = withReadout(
      new ConvGRUCore({
        channels: [2, 3],
        temporalKernelSizes: [5],
        spatialKernelSizes: [3],
        inputPadding: true,
        useGru: true,
        gruKwargs: { recChannels: 3, inputKern: 3, recKern: 3, padInput: true },
        seed: 3,
      }),
    );
    expect(await isModelCausal(gru, { framesSame: 12, framesDifferent: 6 })).toBe(true);
    gru.dispose();
    const legacy = buildLegacyHoeflingModel(
      { hidden_channels: [2, 2], temporal_kernel_size: [6, 3], spatial_kernel_size: [3, 3], layers: 2, gaussian_masks: true, stack: -1 },
      { a: { inputDimensions: [1, 2, 12, 7, 6], inputChannels: 2, outputDimension: 3, meanResponse: new Float32Array([0.1, 0.2, 0.3]) } },
    );
    expect(await isModelCausal(legacy, { framesSame: 20, framesDifferent: 5 })).toBe(true);
    legacy.dispose();
  });

  it('refuses a change before the first response', async () => {
    const model = simpleModel(0);
    expect(model.framesCut).toBe(6);
    await expect(isModelCausal(model, { framesSame: 6 })).rejects.toThrow(ConfigError);
    await expect(isModelCausal(model, { framesSame: 6 })).rejects.toThrow(/use framesSame > 6/);
    await expect(isModelCausal(model, { framesDifferent: 0 })).rejects.toThrow(/positive integer frame counts/);
    model.dispose();
  });
});
