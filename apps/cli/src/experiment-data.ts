// The data of an experiment: read by the reader that data_io's `_target_` names, checked, and its data info.
import { DataError, type DataInfo } from '@openretina/contracts';
import { computeDataInfo } from '@openretina/data-io';
import type { ExperimentConfig } from './config/index.js';
import { resolveDataDir } from './data-path.js';
import { cliDownloadOptions } from './download-progress.js';
import type { ExperimentData } from './readers/reader.js';
import { readerFor } from './readers/registry.js';

export type { ExperimentData } from './readers/reader.js';

/** Loads the data of an experiment with the reader of `data_io.stimuli._target_`. */
export async function loadExperimentData(
  cfg: ExperimentConfig,
  log: (message: string) => void = () => {},
  warn: (message: string) => void = () => {},
): Promise<ExperimentData> {
  const data = await readerFor(cfg.data_io).read(cfg.data_io, {
    resolvePath: resolveDataDir,
    download: { ...cliDownloadOptions(), cacheDir: cfg.paths.cache_dir },
    log,
    warn,
  });
  try {
    const sessions = Object.keys(data.responses);
    if (sessions.length === 0) throw new DataError(`No sessions found in ${resolveDataDir(String(cfg.paths.data_dir))}.`);
    if (cfg.check_stimuli_responses_match) {
      for (const s of sessions) {
        const m = data.movies[s];
        if (!m) throw new DataError(`Session ${s} has responses but no stimulus.`);
        const r = data.responses[s]!;
        if (r.train.shape[0] !== m.train.shape[0]) {
          throw new DataError(`Session ${s}: the train responses have ${r.train.shape[0]} frames, the train movie ${m.train.shape[0]}.`);
        }
      }
    }
  } catch (error) {
    data.close?.();
    throw error;
  }
  return data;
}

/**
 * {@link loadExperimentData}, then `use` of the data: the files a lazily read dataset keeps open are closed when `use`
 * ends, however it ends.
 */
export async function withExperimentData<T>(
  cfg: ExperimentConfig,
  log: (message: string) => void,
  warn: (message: string) => void,
  use: (data: ExperimentData) => Promise<T>,
): Promise<T> {
  const data = await loadExperimentData(cfg, log, warn);
  try {
    return await use(data);
  } finally {
    data.close?.();
  }
}

/** Data info of the loaded data (OpenRetina's compute_data_info, with the config's data_io.data_info entries). */
export function experimentDataInfo(cfg: ExperimentConfig, data: ExperimentData, warn: (m: string) => void): DataInfo {
  const partial = cfg.data_io.data_info;
  return computeDataInfo(data.responses, data.movies, {
    ...(partial && typeof partial === 'object' && !Array.isArray(partial) ? { partialDataInfo: { ...partial } } : {}),
    warn,
  });
}
