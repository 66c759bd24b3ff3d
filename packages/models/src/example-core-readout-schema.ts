// The zod schema of OpenRetina's `ExampleCoreReadout` arguments (its own file: the registry imports it at load time,
// and the class itself imports the registry).
import { z } from 'zod';
import { filledLater, finite, neuronCounts, nonNegativeInt, padding, positiveInt, shape4 } from './option-schemas.js';

export const EXAMPLE_CORE_READOUT_TARGET = 'openretina.models.core_readout.ExampleCoreReadout';

/** `ExampleCoreReadout.__init__`'s arguments (snake_case, as its checkpoints' flat hyper-parameters hold them). */
export const exampleCoreReadoutSchema = z.object({
  in_shape: shape4,
  hidden_channels: z.array(positiveInt).min(1),
  temporal_kernel_sizes: z.array(positiveInt).min(1),
  spatial_kernel_sizes: z.array(positiveInt).min(1),
  n_neurons_dict: filledLater(neuronCounts).optional(),
  core_gamma_input: finite.optional(),
  core_gamma_hidden: finite.optional(),
  core_gamma_in_sparse: finite.optional(),
  core_gamma_temporal: finite.optional(),
  core_input_padding: padding.optional(),
  core_hidden_padding: padding.optional(),
  readout_scale: z.boolean().optional(),
  readout_bias: z.boolean().optional(),
  /** Accepted and unused, as in OpenRetina. */
  readout_gaussian_masks: z.boolean().optional(),
  readout_gaussian_mean_scale: finite.optional(),
  readout_gaussian_var_scale: finite.optional(),
  readout_positive: z.boolean().optional(),
  readout_gamma: finite.optional(),
  readout_gamma_masks: finite.optional(),
  readout_reg_avg: z.boolean().optional(),
  learning_rate: finite.optional(),
  cut_first_n_frames_in_core: nonNegativeInt.optional(),
  dropout_rate: z.number().min(0).max(1).optional(),
  maxpool_every_n_layers: positiveInt.nullable().optional(),
  downsample_input_kernel_size: z.tuple([positiveInt, positiveInt, positiveInt]).nullable().optional(),
  convolution_type: z.enum(['custom_separable', 'separable', 'full', 'time_independent']).optional(),
  color_squashing_weights: z.array(finite).nullable().optional(),
});
