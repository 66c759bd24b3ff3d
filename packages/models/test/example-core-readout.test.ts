import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type DataInfo } from '@openretina/contracts';
import {
  ExampleCoreReadout,
  buildModel,
  exampleCoreReadoutConfig,
  exampleCoreReadoutOptions,
  isExampleCoreReadoutHyperParameters,
  registeredTargets,
} from '../src/index.js';

// ExampleCoreReadout's flat arguments as a checkpoint's hyper-parameters hold them (a small architecture)
const hp = {
  in_shape: [2, 12, 8, 8],
  hidden_channels: [4, 4],
  temporal_kernel_sizes: [3, 3],
  spatial_kernel_sizes: [3, 3],
  n_neurons_dict: { a: 3, b: 2 },
  core_input_padding: 0,
  core_hidden_padding: [0, 1, 1],
  readout_gamma: 0.3,
  readout_gamma_masks: 0.05,
  cut_first_n_frames_in_core: 2,
  learning_rate: 0.002,
  // what Lightning collects from BaseCoreReadout.__init__: ignored (inert records)
  core: { __python__: 'openretina.modules.core.base_core.SimpleCoreWrapper', state: {} },
  readout: { __python__: 'openretina.modules.readout.multi_readout.MultiGaussianMaskReadout', state: {} },
  loss: null,
  data_info: { n_neurons_dict: { a: 3, b: 2 } },
};

describe('ExampleCoreReadout', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('recognises the flat layout and not a UnifiedCoreReadout one', () => {
    expect(isExampleCoreReadoutHyperParameters(hp)).toBe(true);
    const unified = { ...hp, core: { _target_: 'openretina.modules.core.base_core.SimpleCoreWrapper' } };
    expect(isExampleCoreReadoutHyperParameters(unified)).toBe(false);
    expect(isExampleCoreReadoutHyperParameters({ in_shape: [1, 2, 3, 4] })).toBe(false);
  });

  it("maps to the UnifiedCoreReadout architecture, readout gammas positionally as OpenRetina's constructor passes them", () => {
    const config = exampleCoreReadoutConfig(exampleCoreReadoutOptions(hp));
    expect(config.core).toMatchObject({ channels: [2, 4, 4], input_padding: 0, hidden_padding: [0, 1, 1], cut_first_n_frames: 2 });
    expect(config.readout).toMatchObject({ mask_l1_reg: 0.3, feature_weights_l1_reg: 0.05, positive: true, scale: true, bias: true });
    expect(config.learning_rate).toBe(0.002);
  });

  it('builds the model; the readout biases do not start from the mean activity; no tensors leak', () => {
    const before = tf.memory().numTensors;
    const dataInfo: DataInfo = {
      nNeuronsDict: { a: 3, b: 2 },
      meanActivityDict: { a: new Float32Array([0.5, 0.6, 0.7]), b: new Float32Array([0.8, 0.9]) },
      inputShape: [2, 8, 8],
    };
    const model = ExampleCoreReadout.fromHyperParameters(hp, { dataInfo, seed: 1 });
    try {
      expect(model.sessions).toEqual(['a', 'b']);
      expect(model.framesCut).toBe(2 + 2 + 2);
      const bias = model.stateDict().get('readout.a.bias');
      expect(bias && [...bias.data]).toEqual([0, 0, 0]);
      const y = tf.tidy(() => model.forward(tf.zeros([1, 12, 8, 8, 2]) as tf.Tensor5D, { session: 'a' }));
      expect(y.shape).toEqual([1, 6, 3]);
      y.dispose();
    } finally {
      model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is registered: a model section naming it builds one, n_neurons_dict from the data', () => {
    const { core: _c, readout: _r, loss: _l, data_info: _d, n_neurons_dict: _n, ...section } = hp;
    const model = buildModel({ _target_: 'openretina.models.core_readout.ExampleCoreReadout', ...section }, { nNeuronsDict: { s: 4 } });
    try {
      expect(model).toBeInstanceOf(ExampleCoreReadout);
      expect((model as ExampleCoreReadout).sessions).toEqual(['s']);
    } finally {
      model.dispose();
    }
    expect(registeredTargets().models).toContain('openretina.models.core_readout.ExampleCoreReadout');
  });

  it('renames legacy bias_param keys as on_load_checkpoint does, keeping the order', () => {
    const t = { dtype: 'float32' as const, shape: [1], data: new Float32Array([1]) };
    const sd = new Map([
      ['core.x', t],
      ['readout.a.bias_param', t],
      ['readout.a.mask_mean', t],
    ]);
    const { stateDict, renamed } = ExampleCoreReadout.renameLegacyKeys(sd);
    expect([...stateDict.keys()]).toEqual(['core.x', 'readout.a.bias', 'readout.a.mask_mean']);
    expect(renamed).toEqual(['readout.a.bias_param']);
  });

  it('unknown and missing arguments are a ConfigError naming them', () => {
    expect(() => exampleCoreReadoutOptions({ ...hp, core_gamma_typo: 1 })).toThrow(ConfigError);
    expect(() => exampleCoreReadoutOptions({ ...hp, core_gamma_typo: 1 })).toThrow(/core_gamma_typo/);
    const { spatial_kernel_sizes: _, ...missing } = hp;
    expect(() => exampleCoreReadoutOptions(missing)).toThrow(/ExampleCoreReadout.*spatial_kernel_sizes/);
  });
});
