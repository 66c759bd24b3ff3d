import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isOpenRetinaError } from '@openretina/contracts';
import { buildCoreReadout, type CoreReadoutConfig } from '../src/index.js';
import { OPENRETINA_FIXTURES } from '@openretina/test-utils/fixtures';

const manifest = JSON.parse(readFileSync(join(OPENRETINA_FIXTURES, 'manifest.json'), 'utf8')) as {
  config: { model_cfg_resolved: CoreReadoutConfig };
};
const stateKeys = JSON.parse(readFileSync(join(OPENRETINA_FIXTURES, 'state_dict.json'), 'utf8')) as {
  entries: { key: string; shape: number[] }[];
};

describe('model registry', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('builds the fixture architecture from the OpenRetina config with PyTorch state-dict keys, order and shapes', () => {
    const cfg = { ...manifest.config.model_cfg_resolved, readout: { ...manifest.config.model_cfg_resolved.readout } };
    delete (cfg.readout as Record<string, unknown>).in_shape; // computed from the core, as UnifiedCoreReadout does
    const model = buildCoreReadout(cfg);
    const sd = model.stateDict();
    expect([...sd.keys()]).toEqual(stateKeys.entries.map((e) => e.key));
    for (const e of stateKeys.entries) expect([...sd.get(e.key)!.shape], e.key).toEqual(e.shape);
    expect(model.framesCut).toBe(30);
    expect(model.sessions).toEqual(['session_1', 'session_2', 'session_3']);
    model.dispose();
  });

  it('rejects unknown keys and targets with a clear ConfigError', () => {
    const cfg = manifest.config.model_cfg_resolved;
    const typo = () => buildCoreReadout({ ...cfg, core: { ...cfg.core, gamma_inptu: 1 } });
    expect(typo).toThrow(
      /core\.gamma_inptu: unknown key "gamma_inptu" \(accepted keys of core: channels, temporal_kernel_sizes, .*gamma_input/,
    );
    let error: unknown;
    try {
      buildCoreReadout({ ...cfg, readout: { ...cfg.readout, _target_: 'my.Readout' } });
    } catch (e) {
      error = e;
    }
    expect(isOpenRetinaError(error, 'OPENRETINA_CONFIG')).toBe(true);
    expect((error as Error).message).toContain('readout._target_: unknown readout "my.Readout" (registered: ');
    expect(() => buildCoreReadout({ ...cfg, core: { ...cfg.core, gamma_input: 'big' } })).toThrow(/core\.gamma_input: .*expected number/i);
  });
});

describe('model registry: every readout of the shipped model configs', () => {
  const base = {
    in_shape: [2, 40, 18, 16],
    n_neurons_dict: { a: 3, b: 4 },
    hidden_channels: [4],
    core: {
      temporal_kernel_sizes: [5],
      spatial_kernel_sizes: [3],
      gamma_input: 0,
      gamma_hidden: 0,
      gamma_in_sparse: 0,
      gamma_temporal: 1,
      cut_first_n_frames: 0,
    },
  };
  const readouts: Record<string, Record<string, unknown>> = {
    MultiFactorizedReadout: {
      mask_l1_reg: 5,
      weights_l1_reg: 5,
      laplace_mask_reg: 1,
      readout_bias: true,
      weights_constraint: null,
      mask_constraint: null,
      init_mask: null,
      init_weights: null,
      init_scales: [
        [0, 0.15],
        [0, 0.15],
      ],
    },
    MultiSampledGaussianReadout: {
      bias: true,
      gamma: 0.4,
      init_mu_range: 0.1,
      init_sigma_range: 0.15,
      reg_avg: false,
      batch_sample: true,
      align_corners: true,
      gauss_type: 'full',
      grid_mean_predictor: null,
      shared_features: null,
      init_grid: null,
      shared_grid: null,
    },
    MultipleLNPReadout: { nonlinearity: 'softplus', smooth_weight: 1, sparse_weight: 1, bias: true },
  };
  for (const [name, options] of Object.entries(readouts)) {
    it(`builds ${name} and runs both sessions`, async () => {
      await tf.setBackend('cpu');
      const model = buildCoreReadout({ ...base, readout: { _target_: `openretina.modules.readout.multi_readout.${name}`, ...options } });
      model.eval();
      const x = tf.zeros(model.stimulusShape(10, 2)) as tf.Tensor5D;
      const before = tf.memory().numTensors;
      const y = model.forward(x);
      expect(y.shape).toEqual([2, 6, 7]);
      y.dispose();
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      model.dispose();
    });
  }
});

describe('model registry: GRU core of the GRU_core_readout config', () => {
  it('builds ConvGRUCore with gru_kwargs and runs', async () => {
    await tf.setBackend('cpu');
    const model = buildCoreReadout({
      in_shape: [2, 40, 18, 16],
      n_neurons_dict: { a: 3 },
      hidden_channels: [4, 4],
      core: {
        _target_: 'openretina.modules.core.gru_core.ConvGRUCore',
        temporal_kernel_sizes: [5, 3],
        spatial_kernel_sizes: [5, 3],
        gamma_hidden: 0,
        gamma_input: 0.3,
        gamma_in_sparse: 1,
        gamma_temporal: 40,
        bias: true,
        input_padding: 0,
        hidden_padding: [0, 2, 2],
        use_gru: true,
        use_projections: true,
        batch_adaptation: false,
        convolution_type: 'custom_separable',
        gru_kwargs: { rec_channels: 4, input_kern: 3, rec_kern: 3, groups: 1, gamma_rec: 1, pad_input: true },
      },
      readout: { scale: true, bias: true, gaussian_mean_scale: 6, gaussian_var_scale: 4, positive: true },
    });
    model.eval();
    const x = tf.zeros(model.stimulusShape(12, 1)) as tf.Tensor5D;
    const y = model.forward(x, { session: 'a' });
    expect(y.shape).toEqual([1, 12 - model.framesCut, 3]);
    tf.dispose([x, y]);
    model.dispose();
  });
});
