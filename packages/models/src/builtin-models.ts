// Model classes that a `model` section names with its own `_target_` (OpenRetina instantiates those directly).
import { z } from 'zod';
import { ConfigError, UnsupportedError, type TrainableModel } from '@openretina/contracts';
import type { ModelBuildContext, StaFilterLoader } from './build-context.js';
import type { ComponentRegistry } from './component-registry.js';
import { SingleCellSeparatedLNP } from './linear-nonlinear.js';
import { filledLater, finite, neuronCounts, nonNegativeInt, positiveInt, shape4, MISSING } from './option-schemas.js';
import { SingleCellSpatialContrast, SpatialContrastCoreReadout } from './spatial-contrast.js';

const inShape = filledLater(shape4);
const pair = z.tuple([positiveInt, positiveInt]);

function shapeOf(s: readonly [number, number, number, number] | typeof MISSING, what: string) {
  if (s === MISSING) throw new ConfigError(`${what}.in_shape is ??? : set it to [C, T, H, W] of the stimulus.`);
  return s;
}

function staLoader(ctx: ModelBuildContext, what: string): StaFilterLoader {
  if (!ctx.loadStaFilters) {
    throw new UnsupportedError(
      `${what}: the filters of this model come from STA files (OpenRetina's load_sta_and_extract_filters); pass loadStaFilters to build it (e.g. a wrapper of @openretina/data-io/node's loadStaAndExtractFilters, as openretina train does).`,
    );
  }
  return ctx.loadStaFilters;
}

const singleCellLnp = z.object({
  in_shape: inShape,
  spat_kernel_size: pair.optional(),
  rf_location: pair.nullable().optional(),
  learning_rate: finite.optional(),
  nonlinearity: z.enum(['parametrized_softplus', 'softplus', 'relu', 'elu', 'sigmoid', 'tanh', 'selu', 'exp']).optional(),
  rank: positiveInt.optional(),
  smooth_weight_spat: finite.optional(),
  smooth_weight_temp: finite.optional(),
  sparse_weight: finite.optional(),
  smooth_regularizer_spat: z.enum(['LaplaceL2norm', 'GaussianLaplaceL2']).optional(),
  smooth_regularizer_temp: z.literal('TimeLaplaceL23dnorm').optional(),
  laplace_padding: nonNegativeInt.nullable().optional(),
  fit_gaussian: z
    .literal(false, { error: 'fit_gaussian=true (fitting a Gaussian to the spatial filter) is not supported by @openretina' })
    .optional(),
  normalize_weights: z.boolean().optional(),
});

const staCommon = {
  in_shape: inShape,
  sta_dir: z.string(),
  flip_sta: z.boolean().optional(),
  temporal_crop_frames: positiveInt.nullable().optional(),
  sigma_contour: finite.optional(),
  learning_rate: finite.optional(),
  w_init: finite.optional(),
  a_init: finite.optional(),
  b_init: finite.optional(),
  c_init: finite.optional(),
};

const singleCellSc = z.object({ ...staCommon, sta_file_name: z.string(), spat_crop_size: pair.nullable().optional() });

const spatialContrastCoreReadout = z.object({
  ...staCommon,
  n_neurons_dict: filledLater(neuronCounts).optional(),
  sta_file_pattern: z.string().optional(),
  cut_first_n_frames: nonNegativeInt.optional(),
  neuron_chunk_size: positiveInt.optional(),
});

/** The neurons' filters one after the other (`[N, ...]` row-major). */
function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function registerBuiltinModels(registry: ComponentRegistry<ModelBuildContext, TrainableModel>): void {
  registry.register('openretina.models.linear_nonlinear.SingleCellSeparatedLNP', singleCellLnp, (o, ctx) => {
    const { inShape: s, fitGaussian: _f, ...rest } = o;
    return new SingleCellSeparatedLNP({ ...rest, inShape: shapeOf(s, 'model'), ...(ctx.seed === undefined ? {} : { seed: ctx.seed }) });
  });
  registry.register('openretina.models.spatial_contrast.SingleCellSpatialContrast', singleCellSc, (o, ctx) => {
    const { inShape: s, staDir, staFileName, flipSta, temporalCropFrames, sigmaContour, ...rest } = o;
    const shape = shapeOf(s, 'model');
    const f = staLoader(
      ctx,
      'model',
    )({
      staDir,
      fileName: staFileName,
      flipSta: flipSta ?? false,
      targetShape: [shape[2], shape[3]],
      temporalCropFrames: temporalCropFrames ?? null,
      sigmaContour: sigmaContour ?? 3,
    });
    return new SingleCellSpatialContrast({
      ...rest,
      inShape: shape,
      spatialFilter: f.spatialFilter,
      temporalFilter: f.temporalFilter,
      rfCenter: { centerX: f.center.x, centerY: f.center.y },
    });
  });
  registry.register('openretina.models.spatial_contrast.SpatialContrastCoreReadout', spatialContrastCoreReadout, (o, ctx) => {
    const { inShape: s, nNeuronsDict: _n, staDir, staFilePattern, flipSta, temporalCropFrames, sigmaContour, ...rest } = o;
    const shape = shapeOf(s, 'model');
    const neurons = ctx.nNeuronsDict ?? ctx.dataInfo?.nNeuronsDict;
    if (!neurons) throw new ConfigError('model: SpatialContrastCoreReadout needs n_neurons_dict (from the data).');
    const load = staLoader(ctx, 'model');
    const spatial: Record<string, Float32Array> = {};
    const temporal: Record<string, Float32Array> = {};
    for (const session of Object.keys(neurons)) {
      const cells = ctx.dataInfo?.sessionsKwargs?.[session]?.cell_indices;
      if (!Array.isArray(cells)) {
        throw new ConfigError(`model: SpatialContrastCoreReadout needs the data info's sessions_kwargs.${session}.cell_indices.`);
      }
      const filters = cells.map((cell) =>
        load({
          staDir,
          fileName: (staFilePattern ?? 'cell_data_{retina_index}_WN_stas_cell_{cell_index}.npy')
            .replaceAll('{retina_index}', session)
            .replaceAll('{cell_index}', String(cell)),
          flipSta: flipSta ?? false,
          targetShape: [shape[2], shape[3]],
          temporalCropFrames: temporalCropFrames === undefined ? 30 : temporalCropFrames,
          sigmaContour: sigmaContour ?? 3,
        }),
      );
      spatial[session] = concat(filters.map((f) => f.spatialFilter));
      temporal[session] = concat(filters.map((f) => f.temporalFilter));
    }
    return new SpatialContrastCoreReadout({
      ...rest,
      inShape: shape,
      nNeuronsDict: neurons,
      spatialFiltersDict: spatial,
      temporalFiltersDict: temporal,
      ...(ctx.dataInfo ? { dataInfo: ctx.dataInfo, meanActivityDict: ctx.dataInfo.meanActivityDict } : {}),
    });
  });
}
