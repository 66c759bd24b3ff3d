// The tiny core-readout the training and loss tests build (one space-time separable conv layer, Gaussian-mask
// readouts): one config builder, so that a test names only what it varies (shapes, sessions, the sparsity weight)
// instead of carrying its own copy of the whole config.
import type { CoreReadoutConfig } from '@openretina/models';

export interface TinyCoreReadoutOptions {
  /** Neurons per session (`n_neurons_dict`). */
  sessions: Readonly<Record<string, number>>;
  /** `in_shape`: [channels, frames, height, width]. */
  inShape: readonly [number, number, number, number];
  /** Channels of the one core layer (default 4). */
  hiddenChannels?: number;
  /** Temporal kernel size (default 5). */
  temporalKernel?: number;
  /** Spatial kernel size (default 3). */
  spatialKernel?: number;
  /** `gamma_in_sparse` (default 0). */
  gammaInSparse?: number;
  /** A core config that replaces the conv core (e.g. OpenRetina's DummyCore); `hidden_channels` is then not set. */
  core?: CoreReadoutConfig['core'];
  /** `mask_l1_reg` and `feature_weights_l1_reg` of the readouts (default 0.01). */
  readoutL1?: number;
  /** `readout_reg_avg`, written only when given. */
  readoutRegAvg?: boolean;
  /** `learning_rate`, written only when given. */
  learningRate?: number;
}

/** The config of the tiny core-readout (OpenRetina's keys), for `buildCoreReadout`. */
export function tinyCoreReadoutConfig(options: TinyCoreReadoutOptions): CoreReadoutConfig {
  const l1 = options.readoutL1 ?? 0.01;
  return {
    in_shape: [...options.inShape],
    n_neurons_dict: { ...options.sessions },
    ...(options.core ? {} : { hidden_channels: [options.hiddenChannels ?? 4] }),
    core: options.core ?? {
      temporal_kernel_sizes: [options.temporalKernel ?? 5],
      spatial_kernel_sizes: [options.spatialKernel ?? 3],
      gamma_input: 0.1,
      gamma_hidden: 0,
      gamma_in_sparse: options.gammaInSparse ?? 0,
      gamma_temporal: 1,
      input_padding: 0,
      hidden_padding: 0,
      cut_first_n_frames: 0,
    },
    readout: {
      scale: true,
      bias: true,
      gaussian_mean_scale: 6,
      gaussian_var_scale: 4,
      positive: true,
      mask_l1_reg: l1,
      feature_weights_l1_reg: l1,
      ...(options.readoutRegAvg === undefined ? {} : { readout_reg_avg: options.readoutRegAvg }),
    },
    ...(options.learningRate === undefined ? {} : { learning_rate: options.learningRate }),
  };
}
