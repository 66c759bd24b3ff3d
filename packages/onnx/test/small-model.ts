import { buildCoreReadout, type CoreReadout } from '@openretina/models';

export { randomizeWeights } from '@openretina/test-utils/random-weights';

/**
 * A small two-session core-readout for engine tests: temporal and spatial padding, cut frames and every core
 * regularizer term, so the ONNX graphs are exercised beyond the fixture architecture. `positive`: the readout
 * clamps its features at 0 (as the Höfling 2024 models); `readoutRegAvg`: mean instead of sum in the readout's penalty.
 * `temporalPadding: false` pads space only (as the Höfling 2024 core: the graphs then take their time windows
 * without padding).
 */
export function buildSmallModel(
  neurons: Record<string, number> = { a: 3, b: 4 },
  { positive = false, readoutRegAvg = false, temporalPadding = true } = {},
): CoreReadout {
  return buildCoreReadout({
    in_shape: [2, 16, 9, 8],
    n_neurons_dict: neurons,
    hidden_channels: [3, 4],
    core: {
      temporal_kernel_sizes: [5, 3],
      spatial_kernel_sizes: [3, 3],
      gamma_input: 0.3,
      gamma_hidden: 0.2,
      gamma_in_sparse: 0.1,
      gamma_temporal: 1,
      cut_first_n_frames: 2,
      input_padding: temporalPadding ? [1, 1, 0] : [0, 1, 0],
      hidden_padding: temporalPadding ? true : [0, 1, 1],
    },
    readout: {
      _target_: 'openretina.modules.readout.multi_readout.MultiGaussianMaskReadout',
      scale: true,
      bias: true,
      positive,
      gaussian_mean_scale: 2,
      gaussian_var_scale: 1,
      mask_l1_reg: 0.5,
      feature_weights_l1_reg: 0.5,
      readout_reg_avg: readoutRegAvg,
    },
  });
}
