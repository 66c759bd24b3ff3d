import { ConfigError, ShapeError } from '@openretina/contracts';
import type { ReadoutInShape } from '@openretina/readout';
import { ParametricFactorizedBatchConv3dCore } from './core.js';
import { LegacyEncoder } from './encoder.js';
import { parseLegacyModelConfig, type LegacyModelConfig } from './model-config.js';
import { SpatialXFeature3dReadout } from './multi-readout.js';

/** Per-session entry of the legacy `data_info` (nnfabrik): what `SFB3d_core_SxF3d_readout` reads from it. */
export interface LegacySessionInfo {
  /** `(B, C, T, H, W)` of the training batches. */
  inputDimensions: readonly number[];
  inputChannels: number;
  outputDimension: number;
  meanResponse: Float32Array;
  /** `(N, 2)` ROI coordinates, row-major (only used with `initialize_from_roi_masks`). */
  roiCoords?: Float32Array | undefined;
}

export type LegacyDataInfo = Readonly<Record<string, LegacySessionInfo>>;

/**
 * OpenRetina's legacy builder `SFB3d_core_SxF3d_readout(dataloaders=None, seed, data_info, **model_config)`: the
 * core and readout from the nnfabrik `model_config` (snake_case keys, defaults as in Python) and the per-session
 * `data_info`; readout biases = `mean_response`. Unknown config keys are an error.
 */
export function buildLegacyHoeflingModel(
  modelConfig: LegacyModelConfig,
  dataInfo: LegacyDataInfo,
  options: { seed?: number } = {},
): LegacyEncoder {
  const cfg = parseLegacyModelConfig(modelConfig);
  const sessions = Object.keys(dataInfo);
  if (sessions.length === 0) throw new ConfigError('data_info has no sessions.');
  const channels = new Set(sessions.map((s) => dataInfo[s]!.inputChannels));
  if (channels.size !== 1) throw new ConfigError(`all input channels must be of equal size, got ${JSON.stringify([...channels])}.`);
  const nNeuronsDict: Record<string, number> = {};
  const meanActivityDict: Record<string, Float32Array> = {};
  for (const s of sessions) {
    const info = dataInfo[s]!;
    nNeuronsDict[s] = info.outputDimension;
    if (info.meanResponse.length !== info.outputDimension) {
      throw new ShapeError(
        `data_info["${s}"].mean_response has ${info.meanResponse.length} values, output_dimension is ${info.outputDimension}.`,
      );
    }
    meanActivityDict[s] = info.meanResponse;
  }
  const core = new ParametricFactorizedBatchConv3dCore({
    nNeuronsDict,
    inputChannels: dataInfo[sessions[0]!]!.inputChannels,
    hiddenChannels: cfg.hidden_channels,
    temporalKernelSize: cfg.temporal_kernel_size,
    spatialKernelSize: cfg.spatial_kernel_size,
    layers: cfg.layers,
    gammaHidden: cfg.gamma_hidden,
    gammaInput: cfg.gamma_input,
    gammaInSparse: cfg.gamma_in_sparse,
    gammaTemporal: cfg.gamma_temporal,
    finalNonlinearity: cfg.final_nonlinearity,
    bias: cfg.core_bias,
    momentum: cfg.momentum,
    inputPadding: cfg.input_padding,
    hiddenPadding: cfg.hidden_padding,
    batchNorm: cfg.batch_norm,
    batchNormScale: cfg.batch_norm_scale,
    laplacePadding: cfg.laplace_padding,
    stack: cfg.stack,
    batchAdaptation: cfg.batch_adaptation,
    useAvgReg: cfg.use_avg_reg,
    nonlinearity: cfg.nonlinearity,
    convType: cfg.conv_type,
    seed: options.seed ?? 0,
  });
  try {
    const inShapes: Record<string, ReadoutInShape> = {};
    let inputShape: [number, number, number] | undefined;
    for (const s of sessions) {
      const d = dataInfo[s]!.inputDimensions;
      if (d.length !== 5) throw new ConfigError(`data_info["${s}"].input_dimensions must be (B, C, T, H, W), got ${JSON.stringify(d)}.`);
      const [, c, t, h, w] = d as [number, number, number, number, number];
      const [to, ho, wo, co] = core.outputShape([t, h, w, c]);
      inShapes[s] = [co, to, ho, wo];
      inputShape ??= [c, h, w];
    }
    const readout = new SpatialXFeature3dReadout({
      inShapes,
      nNeuronsDict,
      meanActivityDict: cfg.readout_bias ? meanActivityDict : undefined,
      scale: cfg.readout_scale,
      bias: cfg.readout_bias,
      gaussianMasks: cfg.gaussian_masks,
      gaussianMeanScale: cfg.gaussian_mean_scale,
      gaussianVarScale: cfg.gaussian_var_scale,
      positive: cfg.readout_positive,
      initializeFromRoiMasks: cfg.initialize_from_roi_masks,
      gammaReadout: cfg.gamma_readout,
      gammaMasks: cfg.gamma_masks,
      readoutRegAvg: cfg.readout_reg_avg,
      seed: (options.seed ?? 0) + 1,
    });
    const [c, h, w] = inputShape!;
    return new LegacyEncoder({
      core,
      readout,
      inputShape: [c, h, w],
      dataInfo: { nNeuronsDict, meanActivityDict, inputShape: [c, h, w] },
    });
  } catch (error) {
    core.dispose();
    throw error;
  }
}
