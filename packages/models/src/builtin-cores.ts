// The cores of OpenRetina that this port builds from config sections (schemas with OpenRetina's snake_case keys).
import { z } from 'zod';
import { ConfigError, type Core } from '@openretina/contracts';
import { ConditionedGRUCore, ConvGRUCore, DummyCore, SimpleCoreWrapper } from '@openretina/core';
import { camelCaseOptions, type CamelCaseOptions } from './config-schema.js';
import type { ComponentRegistry } from './component-registry.js';
import { filledLater, finite, neuronCounts, nonNegativeInt, padding, positiveInt, MISSING } from './option-schemas.js';
import type { BuildContext } from './build-context.js';

const convolutionType = z.enum(['custom_separable', 'separable', 'full', 'time_independent']);
/** OpenRetina's cores take n_neurons_dict "for compatibility" and do not use it; so do we. */
const compatNeurons = filledLater(neuronCounts).nullable().optional();

function channelsOf(channels: readonly number[] | typeof MISSING, what: string): readonly number[] {
  if (channels === MISSING)
    throw new ConfigError(`${what}.channels is ??? : set the model's hidden_channels (channels = [in_shape[0], ...hidden_channels]).`);
  return channels;
}

const simpleCore = z.object({
  channels: filledLater(z.array(positiveInt).min(2)),
  temporal_kernel_sizes: z.array(positiveInt).min(1),
  spatial_kernel_sizes: z.array(positiveInt).min(1),
  gamma_input: finite,
  gamma_temporal: finite,
  gamma_in_sparse: finite,
  gamma_hidden: finite,
  dropout_rate: z.number().min(0).max(1).optional(),
  cut_first_n_frames: nonNegativeInt.optional(),
  maxpool_every_n_layers: positiveInt.nullable().optional(),
  downsample_input_kernel_size: z.tuple([positiveInt, positiveInt, positiveInt]).nullable().optional(),
  input_padding: padding.optional(),
  hidden_padding: padding.optional(),
  color_squashing_weights: z.array(finite).nullable().optional(),
  convolution_type: convolutionType.optional(),
  n_neurons_dict: compatNeurons,
});

const dummyCore = z.object({
  cut_first_n_frames: nonNegativeInt.nullable().optional(),
  n_neurons_dict: compatNeurons,
});

const gruKwargs = z.object({
  rec_channels: positiveInt,
  input_kern: positiveInt,
  rec_kern: positiveInt,
  groups: positiveInt.optional(),
  gamma_rec: finite.optional(),
  pad_input: z.boolean().optional(),
});

const gruCore = z.object({
  channels: filledLater(z.array(positiveInt).min(2)),
  n_neurons_dict: filledLater(neuronCounts).nullable().optional(),
  temporal_kernel_sizes: z.union([positiveInt, z.array(positiveInt)]).optional(),
  spatial_kernel_sizes: z.union([positiveInt, z.array(positiveInt)]).optional(),
  gamma_hidden: finite.optional(),
  gamma_input: finite.optional(),
  gamma_in_sparse: finite.optional(),
  gamma_temporal: finite.optional(),
  final_nonlinearity: z.boolean().optional(),
  bias: z.boolean().optional(),
  input_padding: padding.optional(),
  hidden_padding: padding.optional(),
  batch_norm: z.boolean().optional(),
  batch_norm_scale: z.boolean().optional(),
  batch_norm_momentum: finite.optional(),
  laplace_padding: nonNegativeInt.nullable().optional(),
  batch_adaptation: z.boolean().optional(),
  use_avg_reg: z.boolean().optional(),
  nonlinearity: z.string().optional(),
  convolution_type: convolutionType.optional(),
  use_gru: z.boolean().optional(),
  use_projections: z.boolean().optional(),
  gru_kwargs: gruKwargs.strict().nullable().optional(),
});

type GruSection = CamelCaseOptions<z.output<typeof gruCore>>;

function gruOptions(o: GruSection, ctx: BuildContext) {
  const { channels, nNeuronsDict: _unused, gruKwargs, ...rest } = o;
  return {
    ...rest,
    channels: channelsOf(channels, 'core'),
    nNeuronsDict: ctx.nNeuronsDict,
    // gru_kwargs keeps OpenRetina's snake_case keys in configs
    ...(gruKwargs ? { gruKwargs: camelCaseOptions(gruKwargs) } : {}),
    ...(ctx.seed === undefined ? {} : { seed: ctx.seed }),
  };
}

export function registerBuiltinCores(registry: ComponentRegistry<BuildContext, Core>): void {
  registry.register('openretina.modules.core.base_core.SimpleCoreWrapper', simpleCore, (o, ctx) => {
    const { nNeuronsDict: _unused, channels, ...rest } = o;
    return new SimpleCoreWrapper({
      ...rest,
      channels: channelsOf(channels, 'core'),
      ...(ctx.seed === undefined ? {} : { seed: ctx.seed }),
    });
  });
  registry.register(
    'openretina.modules.core.base_core.DummyCore',
    dummyCore,
    (o, ctx) => new DummyCore(ctx.inShape[0], { cutFirstNFrames: o.cutFirstNFrames ?? 0 }),
  );
  registry.register('openretina.modules.core.gru_core.ConvGRUCore', gruCore, (o, ctx) => new ConvGRUCore(gruOptions(o, ctx)));
  registry.register('openretina.modules.core.gru_core.ConditionedGRUCore', gruCore.extend({ cond_dim: positiveInt }), (o, ctx) => {
    const { condDim, ...gru } = o;
    return new ConditionedGRUCore({ ...gruOptions(gru, ctx), condDim });
  });
}
