import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildCoreReadout } from '@openretina/models';
import { demoModelSummary } from '../src/index.js';

describe('demo model summary', () => {
  it('describes a model that loses exactly framesCut frames', async () => {
    await tf.setBackend('cpu');
    const s = demoModelSummary();
    const model = buildCoreReadout({
      in_shape: s.in_shape,
      n_neurons_dict: { s: 3 },
      hidden_channels: s.hidden_channels,
      core: {
        temporal_kernel_sizes: s.temporal_kernel_sizes,
        spatial_kernel_sizes: s.spatial_kernel_sizes,
        gamma_input: 0, gamma_hidden: 0, gamma_in_sparse: 0, gamma_temporal: 0,
        input_padding: 0, hidden_padding: [0, 2, 2], cut_first_n_frames: 0,
      },
      readout: {},
    });
    expect(model.framesCut).toBe(s.framesCut);
    model.dispose();
  });
});
