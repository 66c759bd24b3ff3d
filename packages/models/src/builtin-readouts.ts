// The multi-session readouts of OpenRetina that this port builds from config sections.
import { z } from 'zod';
import { ConfigError, type MultiReadout } from '@openretina/contracts';
import { MultiFactorizedReadout, MultiGaussianMaskReadout, MultiSampledGaussianReadout, MultipleLNPReadout } from '@openretina/readout';
import type { BuildContext } from './build-context.js';
import type { ComponentRegistry } from './component-registry.js';
import { filledLater, finite, nonNegativeInt, nullOnly, shape4, MISSING } from './option-schemas.js';

const inShape = filledLater(shape4);

/** What every readout gets from the model: its input shape (computed from the core when `???`) and the sessions. */
function common(shape: readonly [number, number, number, number] | typeof MISSING, ctx: BuildContext) {
  if (shape === MISSING) throw new ConfigError('readout.in_shape is ??? : it is computed from the core when the model is built.');
  return {
    inShape: shape,
    nNeuronsDict: ctx.nNeuronsDict,
    meanActivityDict: ctx.meanActivityDict,
    ...(ctx.seed === undefined ? {} : { seed: ctx.seed + 1 }),
  };
}

const multi = { readout_reg_avg: z.boolean().optional(), clone_readout: z.boolean().optional() };
const readoutNonlinearity = z.enum(['softplus', 'identity', 'exp', 'relu', 'elu']);

const gaussianMask = z.object({
  in_shape: inShape,
  scale: z.boolean().optional(),
  bias: z.boolean().optional(),
  gaussian_mean_scale: finite.optional(),
  gaussian_var_scale: finite.optional(),
  positive: z.boolean().optional(),
  mask_l1_reg: finite.optional(),
  feature_weights_l1_reg: finite.optional(),
  readout_reg_avg: z.boolean().optional(),
  nonlinearity: readoutNonlinearity.optional(),
});

const factorized = z.object({
  in_shape: inShape,
  mask_l1_reg: finite,
  weights_l1_reg: finite,
  laplace_mask_reg: finite,
  readout_bias: z.boolean().optional(),
  weights_constraint: z.enum(['abs', 'norm', 'absnorm']).nullable().optional(),
  mask_constraint: z.literal('abs').nullable().optional(),
  init_mask: nullOnly('MultiFactorizedReadout init_mask from a config'),
  init_weights: nullOnly('MultiFactorizedReadout init_weights from a config'),
  init_scales: z
    .array(z.tuple([finite, finite]))
    .nullable()
    .optional(),
  ...multi,
});

const sampledGaussian = z.object({
  in_shape: inShape,
  bias: z.boolean().optional(),
  init_mu_range: finite.optional(),
  init_sigma_range: finite.optional(),
  batch_sample: z.boolean().optional(),
  align_corners: z.boolean().optional(),
  gauss_type: z.enum(['full', 'uncorrelated', 'isotropic']).optional(),
  gamma: finite.optional(),
  reg_avg: z.boolean().optional(),
  grid_mean_predictor: nullOnly('MultiSampledGaussianReadout grid_mean_predictor'),
  shared_features: nullOnly('MultiSampledGaussianReadout shared_features'),
  shared_grid: nullOnly('MultiSampledGaussianReadout shared_grid'),
  init_grid: nullOnly('MultiSampledGaussianReadout init_grid'),
  nonlinearity: readoutNonlinearity.optional(),
  ...multi,
});

const lnp = z.object({
  in_shape: inShape,
  smooth_weight: finite.optional(),
  sparse_weight: finite.optional(),
  smooth_regularizer: z.enum(['LaplaceL2norm', 'GaussianLaplaceL2']).optional(),
  laplace_padding: nonNegativeInt.nullable().optional(),
  nonlinearity: z.enum(['exp', 'softplus', 'relu', 'elu', 'selu', 'sigmoid', 'tanh', 'leaky_relu']).optional(),
  bias: z.boolean().optional(),
  ...multi,
});

export function registerBuiltinReadouts(registry: ComponentRegistry<BuildContext, MultiReadout>): void {
  const path = (name: string) => `openretina.modules.readout.multi_readout.${name}`;
  registry.register(
    path('MultiGaussianMaskReadout'),
    gaussianMask,
    ({ inShape: s, ...o }, ctx) => new MultiGaussianMaskReadout({ ...o, ...common(s, ctx) }),
  );
  registry.register(
    path('MultiFactorizedReadout'),
    factorized,
    ({ inShape: s, initMask: _m, initWeights: _w, ...o }, ctx) => new MultiFactorizedReadout({ ...o, ...common(s, ctx) }),
  );
  registry.register(
    path('MultiSampledGaussianReadout'),
    sampledGaussian,
    ({ inShape: s, gridMeanPredictor: _g, sharedFeatures: _f, sharedGrid: _sg, initGrid: _ig, ...o }, ctx) =>
      new MultiSampledGaussianReadout({ ...o, ...common(s, ctx) }),
  );
  registry.register(path('MultipleLNPReadout'), lnp, ({ inShape: s, ...o }, ctx) => new MultipleLNPReadout({ ...o, ...common(s, ctx) }));
}
