// OpenRetina's test_core_readout_loss_scale_invariance is a strict xfail: with the default reductions (PoissonLoss3d
// sums, the readout regularizer sums over neurons) the training loss scales with batch size, time window and neuron
// count. We reproduce those defaults, so we assert what the xfail records: the loss is NOT scale-invariant.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@openretina/backend';
import { buildCoreReadout, type CoreReadout } from '../src/index.js';

const SESSION = 'session';

function model(nNeurons: number, otherSessions: boolean): CoreReadout {
  return buildCoreReadout(
    {
      in_shape: [2, 8, 8, 8],
      n_neurons_dict: { [SESSION]: nNeurons, ...(otherSessions ? { other_session_a: 4, other_session_b: 11 } : {}) },
      hidden_channels: [4, 4],
      core: {
        temporal_kernel_sizes: [3, 3],
        spatial_kernel_sizes: [3, 3],
        gamma_input: 0.1,
        gamma_hidden: 0.1,
        gamma_temporal: 0.1,
        gamma_in_sparse: 0.1,
        input_padding: 0,
        hidden_padding: 0,
        cut_first_n_frames: 0,
      },
      readout: {
        scale: true,
        bias: true,
        gaussian_mean_scale: 1,
        gaussian_var_scale: 1,
        positive: false,
        mask_l1_reg: 0.5,
        feature_weights_l1_reg: 0.3,
      },
    },
    { seed: 0 },
  ).eval();
}

/** The training loss of a ones stimulus against ones targets: Poisson (sum), plus every regularizer when asked. */
function totalLoss(m: CoreReadout, batch: number, frames: number, withRegularization: boolean): number {
  return tf.tidy(() => {
    const x = tf.ones(m.stimulusShape(frames, batch)) as tf.Tensor5D;
    const target = tf.onesLike(m.forward(x, { session: SESSION })) as tf.Tensor3D;
    const { data, total } = m.loss(x, target, SESSION);
    return (withRegularization ? total : data).dataSync()[0]!;
  });
}

beforeAll(async () => {
  await initBackend('cpu');
});

const differs = (a: number, b: number) => Math.abs(a - b) > 1e-6;

describe.each([false, true])('loss scale (OpenRetina xfail), other sessions %s', (otherSessions) => {
  it.each([false, true])('scales with batch size (regularizers %s): the summed data term doubles', (withRegularization) => {
    const m = model(5, otherSessions);
    const before = tf.memory().numTensors;
    const reference = totalLoss(m, 1, 8, withRegularization);
    for (const batch of [2, 4]) expect(differs(totalLoss(m, batch, 8, withRegularization), reference)).toBe(true);
    if (!withRegularization) expect(totalLoss(m, 2, 8, false) / reference).toBeCloseTo(2, 4);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it.each([false, true])('scales with the time window (regularizers %s)', (withRegularization) => {
    const m = model(5, otherSessions);
    const reference = totalLoss(m, 2, 6, withRegularization);
    for (const frames of [8, 16]) expect(differs(totalLoss(m, 2, frames, withRegularization), reference)).toBe(true);
    m.dispose();
  });

  it.each([false, true])('scales with the number of neurons (regularizers %s)', (withRegularization) => {
    const reference = model(3, otherSessions);
    const r = totalLoss(reference, 2, 8, withRegularization);
    reference.dispose();
    for (const n of [7, 20]) {
      const m = model(n, otherSessions);
      expect(differs(totalLoss(m, 2, 8, withRegularization), r)).toBe(true);
      m.dispose();
    }
  });
});
