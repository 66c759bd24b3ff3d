import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENRETINA_FIXTURES, ref, relativeError } from '@openretina/test-utils/fixtures';
import { buildCoreReadout, type CoreReadout, type CoreReadoutConfig } from '@openretina/models';
import { ArrayValue } from '@openretina/formats';
import { coreReadoutFromCheckpointBytes, readOpenRetinaCheckpoint } from '../src/index.js';
import { refVideo, SESSIONS } from './helpers.js';

const TOL = 1e-5;
const manifest = JSON.parse(readFileSync(join(OPENRETINA_FIXTURES, 'manifest.json'), 'utf8')) as {
  config: { model_cfg_resolved: CoreReadoutConfig };
};
const stateKeys = JSON.parse(readFileSync(join(OPENRETINA_FIXTURES, 'state_dict.json'), 'utf8')) as {
  entries: { key: string; shape: number[] }[];
};
const fixture = (name: string) => new Uint8Array(readFileSync(join(OPENRETINA_FIXTURES, name)));

function expectFixtureOutputs(model: CoreReadout): void {
  const before = tf.memory().numTensors;
  const x = refVideo('input/x');
  for (const s of SESSIONS) {
    const y = model.forward(x, { session: s });
    expect(relativeError(y.dataSync(), ref(`eval/out/${s}`).data as Float32Array), s).toBeLessThan(TOL);
    y.dispose();
  }
  const all = model.forward(x);
  expect(all.shape).toEqual([2, 20, 105]);
  expect(relativeError(all.dataSync(), ref('eval/out/all_sessions_concat').data as Float32Array)).toBeLessThan(TOL);
  const x40 = refVideo('input/x_T40');
  const y40 = model.forward(x40, { session: 'session_2' });
  expect(relativeError(y40.dataSync(), ref('eval/out_T40/session_2').data as Float32Array)).toBeLessThan(TOL);
  tf.dispose([x, all, x40, y40]);
  expect(tf.memory().numTensors).toBe(before);
}

describe('OpenRetina checkpoint reader', () => {
  for (const file of ['model.ckpt', 'model_plain.ckpt']) {
    describe(file, () => {
      let model: CoreReadout;
      beforeAll(() => {
        model = coreReadoutFromCheckpointBytes(fixture(file), { source: file });
      });
      afterAll(() => model.dispose());

      it('reads the state dict, hyper-parameters (omegaconf resolved) and data info', () => {
        const ckpt = readOpenRetinaCheckpoint(fixture(file));
        expect(ckpt.kind).toBe('lightning');
        expect([...ckpt.stateDict.keys()]).toEqual(stateKeys.entries.map((e) => e.key));
        for (const e of stateKeys.entries) expect([...ckpt.stateDict.get(e.key)!.shape], e.key).toEqual(e.shape);
        expect(ckpt.stateDict.get('core.features.layer0.norm.num_batches_tracked')!.dtype).toBe('int64');
        const hp = ckpt.hyperParameters;
        const cfg = manifest.config.model_cfg_resolved;
        expect(hp.core).toEqual(cfg.core);
        expect(hp.readout).toEqual(cfg.readout);
        expect(hp.optimizer).toEqual(cfg.optimizer); // includes lr = ${model.learning_rate} → 0.01
        expect(hp.lr_scheduler).toEqual(cfg.lr_scheduler);
        expect(hp.in_shape).toEqual(cfg.in_shape);
        expect(hp.hidden_channels).toEqual([16, 16]);
        expect(hp.n_neurons_dict).toEqual(cfg.n_neurons_dict);
        expect(Object.getPrototypeOf(hp.core)).toBe(Object.prototype);
        const info = ckpt.dataInfo!;
        expect(info.nNeuronsDict).toEqual({ session_1: 20, session_2: 35, session_3: 50 });
        expect(info.inputShape).toEqual([2, 18, 16]);
        expect(info.meanActivityDict.session_2).toBeInstanceOf(Float32Array);
        expect(info.meanActivityDict.session_2!.length).toBe(35);
        expect(info.stimMean).toBe(0);
        expect(info.stimStd).toBe(1);
        expect(info.extra).toMatchObject({ stimulus_class: 'natural', retina_pixel_size_um: 50 });
        expect((hp.data_info as Record<string, Record<string, unknown>>).mean_activity_dict!.session_1).toBeInstanceOf(ArrayValue);
        expect(ckpt.extra).toMatchObject({ epoch: 0, global_step: 0, hparams_name: 'kwargs' });
      });

      it('rebuilds the model with no architecture given and reproduces every eval/out fixture', () => {
        expect(model.sessions).toEqual(['session_1', 'session_2', 'session_3']);
        expect(model.framesCut).toBe(30);
        expectFixtureOutputs(model);
      });
    });
  }

  it('loads state_dict.pt into the known architecture', () => {
    const ckpt = readOpenRetinaCheckpoint(fixture('state_dict.pt'));
    expect(ckpt.kind).toBe('state_dict');
    expect(ckpt.hyperParameters).toEqual({});
    const cfg = { ...manifest.config.model_cfg_resolved };
    const model = buildCoreReadout(cfg);
    model.loadStateDict(ckpt.stateDict);
    model.eval();
    expectFixtureOutputs(model);
    model.dispose();
    expect(() => coreReadoutFromCheckpointBytes(fixture('state_dict.pt'))).toThrow(/Pass the architecture explicitly/);
    const m2 = coreReadoutFromCheckpointBytes(fixture('state_dict.pt'), { architecture: cfg });
    expectFixtureOutputs(m2);
    m2.dispose();
  });
});
