// Models whose `model` section names its own class (`_target_`: SingleCellSeparatedLNP, SingleCellSpatialContrast,
// SpatialContrastCoreReadout, ...): built by @openretina/models' buildModel with the data info, the seed and, for the
// spatial-contrast models, the filters derived from the STA files (OpenRetina's load_sta_and_extract_filters).
import { ConfigError, type DataInfo, type TrainableModel } from '@openretina/contracts';
import { loadStaAndExtractFilters, resolveDataPath } from '@openretina/data-io/node';
import { buildModel, type ConfigObject, type StaFilterLoader } from '@openretina/models';
import type { ExperimentConfig } from './config/index.js';
import { resolveDataDir } from './data-path.js';
import { cliDownloadOptions } from './download-progress.js';

/** Whether the model section names its own model class (else it is a core-readout model). */
export function hasModelTarget(cfg: ExperimentConfig): boolean {
  return '_target_' in cfg.model;
}

/** Reads an STA file and derives the neuron's filters (the STA folder resolved, or downloaded, beforehand). */
const staFilterLoader: StaFilterLoader = (request) =>
  loadStaAndExtractFilters(request.staDir, request.fileName, {
    flipSta: request.flipSta,
    targetShape: request.targetShape,
    temporalCropFrames: request.temporalCropFrames,
    sigmaContour: request.sigmaContour,
  });

/**
 * The model of a `model` section with its own `_target_`, as OpenRetina's train script instantiates it: with the
 * data info (n_neurons_dict from the data) and the experiment's seed. `paths.load_model_path` is refused: loading
 * checkpoints is for core-readout models.
 */
export async function buildTargetModel(cfg: ExperimentConfig, dataInfo: DataInfo): Promise<TrainableModel> {
  if (cfg.paths.load_model_path) {
    throw new ConfigError(
      `paths.load_model_path: continuing from a checkpoint is supported for core-readout models; model._target_ ${String(cfg.model._target_)} is trained from its config.`,
    );
  }
  const section = { ...(cfg.model as ConfigObject) };
  if (typeof section.sta_dir === 'string') {
    section.sta_dir = await resolveDataPath(resolveDataDir(section.sta_dir), { ...cliDownloadOptions(), cacheDir: cfg.paths.cache_dir });
  }
  // OpenRetina's train script sets model.n_neurons_dict from the data before instantiating the model
  if ('n_neurons_dict' in section) section.n_neurons_dict = { ...dataInfo.nNeuronsDict };
  return buildModel(section, {
    nNeuronsDict: dataInfo.nNeuronsDict,
    dataInfo,
    ...(cfg.seed === null ? {} : { seed: cfg.seed }),
    loadStaFilters: staFilterLoader,
  });
}
