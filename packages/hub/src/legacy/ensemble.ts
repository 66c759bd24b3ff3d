import { ConfigError, StateDictError } from '@openretina/contracts';
import { EnsembleModel, buildLegacyHoeflingModel, type LegacyDataInfo, type LegacyEncoder } from '@openretina/models';
import type { ReadPickleOptions } from '@openretina/formats';
import { centerReadouts, type CenterOptions } from './center-readouts.js';
import { parseLegacyConfig, type LegacyConfig } from './config.js';
import { readLegacyDataInfo } from './data-info.js';
import { legacyMemberFileNames } from './files.js';
import { loadStateDictFlexible, type FlexibleLoadResult } from './flexible-load.js';
import { readLegacyStateDict } from './state-dict.js';

/*
 * The original Höfling et al. 2024 ensemble (nnfabrik, published on GIN) — OpenRetina's
 * `openretina/utils/nnfabrik_model_loading.py`: per seed a YAML config (`model_fn`, `model_config`), a pickled
 * `data_info` and a `torch.save`d state dict, each member built by the legacy `SFB3d_core_SxF3d_readout` and loaded
 * with nnfabrik's flexible (non-strict) `load_state_dict`; the ensemble predicts the mean of its members.
 * Browser-safe: this module works on bytes; the file system and downloads are in `node/legacy-ensemble-fs.ts`.
 */

/** The three files of one ensemble member, as bytes/text. */
export interface LegacyMemberFiles {
  seed: number;
  config: string;
  dataInfo: Uint8Array;
  stateDict: Uint8Array;
  /** Names files in error messages (a folder or URL). */
  source?: string;
}

/**
 * One member as OpenRetina's `get_model(model_fn, model_config, seed, data_info, state_dict, strict=False)`: built by
 * the legacy builder, loaded non-strictly (missing keys keep their initial values); with `transfer` in the config,
 * names are matched by prefix and unused or mismatched entries are ignored. Unused keys are an error otherwise.
 */
export function legacyMemberFromFiles(
  files: LegacyMemberFiles,
  options: ReadPickleOptions & { log?: (m: string) => void } = {},
): {
  model: LegacyEncoder;
  dataInfo: LegacyDataInfo;
  rawDataInfo: Record<string, unknown>;
  config: LegacyConfig;
  load: FlexibleLoadResult;
} {
  const names = legacyMemberFileNames(files.seed);
  const at = (f: string) => (files.source ? `${files.source}/${f}` : f);
  const config = parseLegacyConfig(files.config, at(names.config));
  const { dataInfo, raw } = readLegacyDataInfo(files.dataInfo, { ...options, source: at(names.dataInfo) });
  const stateDict = readLegacyStateDict(files.stateDict, { ...options, source: at(names.stateDict) });
  const model = buildLegacyHoeflingModel(config.modelConfig, dataInfo, { seed: files.seed });
  try {
    const transfer = Boolean(config.modelConfig.transfer);
    const load = loadStateDictFlexible(model, stateDict, {
      ignoreMissing: true,
      ignoreUnused: transfer,
      matchNames: transfer,
      ignoreDimMismatch: transfer,
      ...(options.log ? { log: options.log } : {}),
    });
    return { model, dataInfo, rawDataInfo: raw, config, load };
  } catch (error) {
    model.dispose();
    if (error instanceof StateDictError) {
      throw new StateDictError(`${at(names.stateDict)}: ${error.message}`, { cause: error, details: error.details });
    }
    throw error;
  }
}

/** Options of {@link legacyEnsembleFromFiles}. */
export interface LegacyEnsembleOptions extends ReadPickleOptions {
  /** Centre the readout masks (OpenRetina's `center_readout=Center(...)`); `true` = `Center(target_mean=(0, 0))`. */
  center?: boolean | CenterOptions;
  log?: (message: string) => void;
}

/** What the legacy loaders return: OpenRetina's `(data_info, ensemble_model)` plus the seeds. */
export interface LegacyEnsemble {
  /** The data info of the first seed (OpenRetina assumes all are the same). */
  dataInfo: LegacyDataInfo;
  /** The same, as plain data read from the pickle (numpy arrays as `ArrayValue`s). */
  rawDataInfo: Record<string, unknown>;
  /** The members behind one model whose prediction is their mean; in eval mode. State dict `members.<i>.*`. */
  ensemble: EnsembleModel<LegacyEncoder>;
  seeds: number[];
}

/**
 * OpenRetina's `load_ensemble_retina_model_from_directory`, on files already read: every member (in the given order;
 * OpenRetina sorts by seed), wrapped in an `EnsembleModel`, optionally centred, in eval mode.
 */
export function legacyEnsembleFromFiles(members: readonly LegacyMemberFiles[], options: LegacyEnsembleOptions = {}): LegacyEnsemble {
  if (members.length === 0) throw new ConfigError('A legacy ensemble needs at least one member (no config_<seed>.yaml found).');
  const built: ReturnType<typeof legacyMemberFromFiles>[] = [];
  try {
    for (const files of members) built.push(legacyMemberFromFiles(files, options));
    const ensemble = new EnsembleModel(built.map((b) => b.model));
    if (options.center) centerReadouts(ensemble, options.center === true ? {} : options.center);
    ensemble.eval();
    return { dataInfo: built[0]!.dataInfo, rawDataInfo: built[0]!.rawDataInfo, ensemble, seeds: members.map((m) => m.seed) };
  } catch (error) {
    for (const b of built) b.model.dispose();
    throw error;
  }
}
