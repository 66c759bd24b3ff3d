import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { buildCoreReadout } from '@openretina/models';
import {
  coreWeights,
  directionTuning,
  directionTuningSvg,
  layerWeightsSvg,
  readoutMasks,
  readoutMasksSvg,
  roiFrameSvgs,
} from '../src/index.js';

function tinyModel() {
  return buildCoreReadout({
    in_shape: [2, 20, 10, 8],
    n_neurons_dict: { s1: 5 },
    hidden_channels: [3, 3],
    core: {
      temporal_kernel_sizes: [5, 3],
      spatial_kernel_sizes: [3, 3],
      gamma_input: 0,
      gamma_hidden: 0,
      gamma_in_sparse: 0,
      gamma_temporal: 0,
      input_padding: 0,
      hidden_padding: [0, 1, 1],
      cut_first_n_frames: 0,
    },
    readout: { scale: true, bias: true, gaussian_mean_scale: 1, gaussian_var_scale: 1, positive: true },
  });
}

describe('model figures', () => {
  it('weights of every layer, readout masks, direction tuning and ROI frames, without leaking tensors', async () => {
    const model = tinyModel();
    const before = tf.memory().numTensors;
    const layers = await coreWeights(model);
    const masks = await readoutMasks(model, 's1');
    expect(tf.memory().numTensors).toBe(before);
    expect(layers.map((l) => [l.name, l.method, l.spatial.length, l.spatial[0]!.length, l.kt])).toEqual([
      ['features.layer0.conv', 'separable', 3, 2, 5],
      ['features.layer1.conv', 'separable', 3, 3, 3],
    ]);
    const w0 = layerWeightsSvg(layers[0]!, { inputNames: ['Green', 'UV'] });
    expect(w0).toContain('out 2 · UV');
    expect(w0.match(/class="colorbar"/g)).toHaveLength(1);
    expect(masks!.masks).toHaveLength(5);
    const r = readoutMasksSvg(masks!, { title: 'Readout masks: s1', labels: ['a', 'b', 'c', 'd', 'e'] });
    expect(r).toContain('n4 · e');
    expect(r).toMatch(/data-neurons="5"/);
    // responses [T=16, N=5]: neuron 0 answers direction 90° only (sweeps of 4 frames over directions 0, 90, 180, 270)
    const data = new Float32Array(16 * 5);
    for (let t = 4; t < 8; t++) data[t * 5] = 2;
    const tuning = directionTuning({ data, frames: 16, neurons: 5 }, 0, 4, [0, 90, 180, 270]);
    expect(tuning.dsi[0]).toBeCloseTo(1, 6);
    expect(tuning.preferred[0]).toBeCloseTo(90, 6);
    expect(directionTuningSvg(tuning).match(/<polygon /g)).toHaveLength(5);
    const frames = roiFrameSvgs(masks!, { data, frames: 16, neurons: 5 }, { title: 's1', step: 4 });
    expect(frames).toHaveLength(4);
    expect(frames[1]).toContain('output frame 5/16');
    model.dispose();
  });
});
