import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExampleCoreReadout } from '@openretina/models';
import { ncdhwToNdhwc, relativeError } from '@openretina/test-utils/fixtures';
import {
  causalityOf,
  publishedOutput,
  publishedStandIns,
  publishedStimulus,
  standInPath,
  unchangedOutputFrames,
} from '@openretina/test-utils/published-models';
import { PUBLISHED_MODELS, coreReadoutFromCheckpointBytes, readOpenRetinaCheckpoint } from '../src/index.js';

const standIns = publishedStandIns();
// Their TF.js forward of the test stimulus takes 1–3 minutes on the cpu backend (about 30 GMAC: 60×80 frames through
// 16/32/64 channels of 21/15/11-pixel kernels). The CLI test checks them against PyTorch (openretina predict); the
// same layer types (and the [0, 5, 5] hidden padding) are checked here in TF.js through hoefling_2024_high_res.
const FORWARD_IN_CLI_TEST_ONLY = new Set(['karamanlis_2024_mouse', 'karamanlis_2024_marmoset']);

describe('stand-ins of the nine published checkpoints (Lightning 2 payload, torch 2 zip layout)', () => {
  it('cover every published name, at its path in the Hugging Face repository', () => {
    expect(Object.keys(standIns).sort()).toEqual(Object.keys(PUBLISHED_MODELS).sort());
    for (const [name, entry] of Object.entries(standIns)) {
      expect(entry.file, name).toBe(`model_checkpoints/${PUBLISHED_MODELS[name as keyof typeof PUBLISHED_MODELS]}`);
    }
  });

  for (const [name, entry] of Object.entries(standIns)) {
    const forward = !FORWARD_IN_CLI_TEST_ONLY.has(name);
    const what = forward ? 'matches PyTorch (1e-4 of max |output|) and is causal' : 'has the sessions, neurons and lag';
    it(`${name}: loads with no architecture given, ${what}`, () => {
      const before = tf.memory().numTensors;
      const bytes = new Uint8Array(readFileSync(standInPath(name)));
      const model = coreReadoutFromCheckpointBytes(bytes, { source: name });
      try {
        expect(model instanceof ExampleCoreReadout, name).toBe(entry.class === 'ExampleCoreReadout');
        expect([...model.sessions]).toEqual(entry.sessions);
        expect(entry.sessions.map((s) => model.readout.numNeurons(s))).toEqual(entry.neurons);
        expect(model.framesCut).toBe(entry.frames_cut);
        if (!forward) return;
        const stimulus = publishedStimulus(entry);
        const { data, shape } = ncdhwToNdhwc({ shape: stimulus.shape, dtype: 'F32', data: stimulus.data });
        const y = tf.tidy(() => model.forward(tf.tensor5d(data, shape)));
        expect(y.shape).toEqual(entry.output_shape);
        const values = y.dataSync();
        y.dispose();
        expect(relativeError(values, publishedOutput(name))).toBeLessThan(1e-4);
        expect(causalityOf(values, entry.output_shape, unchangedOutputFrames())).toEqual({ causal: true, reacts: true });
      } finally {
        model.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('the Lightning payload: training state is skipped, the rest is kept as plain data', () => {
    const ckpt = readOpenRetinaCheckpoint(new Uint8Array(readFileSync(standInPath('karamanlis_2024_mouse'))));
    expect(ckpt.kind).toBe('lightning');
    expect(ckpt.extra['pytorch-lightning_version']).toBe('2.6.5');
    expect(ckpt.extra.hparams_name).toBe('kwargs');
    expect(Object.keys(ckpt.extra)).toEqual(['epoch', 'global_step', 'pytorch-lightning_version', 'MixedPrecision', 'hparams_name']);
    expect(ckpt.dataInfo?.nNeuronsDict).toEqual({ '20200207_252MEA6010_le_sq': 5, '20200218_252MEA6010_re_sq': 4 });
  });

  it("hoefling_2024_base_low_res: ExampleCoreReadout's flat arguments, the modules Lightning collected, bias_param keys", () => {
    const ckpt = readOpenRetinaCheckpoint(new Uint8Array(readFileSync(standInPath('hoefling_2024_base_low_res'))));
    const hp = ckpt.hyperParameters;
    expect(hp.readout_gamma).toBe(0.4);
    expect(hp.core_hidden_padding).toEqual([0, 2, 2]);
    // the modules are inert records of what would have been constructed; nothing was executed
    const core = hp.core as { __python__: string; state: Record<string, unknown> };
    expect(core.__python__).toBe('openretina.modules.core.base_core.SimpleCoreWrapper');
    expect(core.state.gamma_temporal).toBe(40);
    expect((hp.readout as { __python__: string }).__python__).toBe('openretina.modules.readout.multi_readout.MultiGaussianMaskReadout');
    const biasKeys = [...ckpt.stateDict.keys()].filter((k) => k.startsWith('readout.') && /\.bias(_param)?$/.test(k));
    expect(biasKeys.length).toBe(3);
    expect(biasKeys.every((k) => k.endsWith('.bias_param'))).toBe(true);
  });
});
