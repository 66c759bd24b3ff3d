// The model of an experiment: built from the model section (OpenRetina's UnifiedCoreReadout), or loaded from
// paths.load_model_path with the data's new sessions added.
import { ConfigError, DataError, UnsupportedError, type DataInfo } from '@openretina/contracts';
import { architectureOf, rememberArchitecture } from '@openretina/hub';
import { loadCoreReadout } from '@openretina/hub/node';
import { buildCoreReadout, parseConfig, type CoreReadout, type CoreReadoutConfig } from '@openretina/models';
import type { ExperimentConfig } from './config/index.js';
import { coreReadoutModelSchema, type CoreReadoutModelConfig } from './config/sections/model.js';
import { resolveDataDir } from './data-path.js';
import { cliDownloadOptions } from './download-progress.js';
import { experimentLosses } from './losses.js';

/** The model section as a core-readout model (a section with its own `_target_` is another model family). */
export function coreReadoutSection(cfg: ExperimentConfig): CoreReadoutModelConfig {
  if ('_target_' in cfg.model) {
    throw new UnsupportedError(
      `model._target_ ${String(cfg.model._target_)}: openretina train builds core-readout models; this model class is built by @openretina/models' buildModel, but training it from the CLI is not wired yet.`,
    );
  }
  return parseConfig(coreReadoutModelSchema, cfg.model, 'model');
}

/** The architecture (OpenRetina keys) of the model section, with n_neurons_dict from the data. */
export function architectureFromConfig(cfg: ExperimentConfig, dataInfo: DataInfo): CoreReadoutConfig {
  const m = coreReadoutSection(cfg);
  if (m.in_shape === '???') throw new ConfigError('model.in_shape is ??? : set it to [C, T, H, W] of the stimulus.');
  const [c, , h, w] = m.in_shape;
  const [dc, dh, dw] = dataInfo.inputShape;
  if (c !== dc || h !== dh || w !== dw) {
    throw new ConfigError(
      `model.in_shape ${JSON.stringify(m.in_shape)} (C, T, H, W) does not match the data: [C, H, W] = [${dc}, ${dh}, ${dw}]. Set data_io.color_channels / video_height / video_width or model.in_shape.`,
    );
  }
  return {
    in_shape: [...m.in_shape],
    n_neurons_dict: { ...dataInfo.nNeuronsDict },
    ...(m.hidden_channels == null ? {} : { hidden_channels: [...m.hidden_channels] }),
    core: m.core,
    readout: m.readout,
    ...(m.learning_rate === undefined ? {} : { learning_rate: m.learning_rate }),
  };
}

/**
 * The model of an experiment: from `paths.load_model_path` (OpenRetina .ckpt, our checkpoint folder or a published
 * name; sessions of the data that the model lacks are added to its readout), else built from the model section.
 */
export async function buildExperimentModel(cfg: ExperimentConfig, dataInfo: DataInfo, log: (m: string) => void): Promise<CoreReadout> {
  const losses = experimentLosses(coreReadoutSection(cfg), dataInfo);
  const loadPath = cfg.paths.load_model_path;
  if (loadPath) {
    const model = await loadCoreReadout(resolveDataDir(loadPath), cliDownloadOptions());
    try {
      const { channels: c, height: h, width: w } = model.stimulus;
      const [dc, dh, dw] = dataInfo.inputShape;
      if (c !== dc || h !== dh || w !== dw) {
        throw new DataError(`The model at ${loadPath} takes [C, H, W] = [${c}, ${h}, ${w}] but the data has [${dc}, ${dh}, ${dw}].`);
      }
      const have = model.neuronsPerSession;
      const added: Record<string, number> = {};
      for (const [s, n] of Object.entries(dataInfo.nNeuronsDict)) {
        if (have[s] === undefined) added[s] = n;
        else if (have[s] !== n) throw new DataError(`Session ${s}: the model at ${loadPath} has ${have[s]} neurons, the data ${n}.`);
      }
      if (Object.keys(added).length) {
        const mean = Object.fromEntries(Object.keys(added).map((s) => [s, dataInfo.meanActivityDict[s]!]));
        model.addSessions(added, mean);
        log(`added session(s) ${Object.keys(added).join(', ')} to the loaded model`);
        const arch = architectureOf(model);
        if (arch) rememberArchitecture(model, { ...arch, n_neurons_dict: { ...arch.n_neurons_dict, ...added } });
      }
      model.dataInfo = mergeDataInfo(model.dataInfo, dataInfo);
      model.setLosses(losses);
      log(`loaded model from ${loadPath} (sessions: ${model.sessions.join(', ')})`);
      return model;
    } catch (e) {
      model.dispose();
      throw e;
    }
  }
  const architecture = architectureFromConfig(cfg, dataInfo);
  const model = rememberArchitecture(
    buildCoreReadout(architecture, { dataInfo, ...(cfg.seed === null ? {} : { seed: cfg.seed }) }),
    architecture,
  );
  model.setLosses(losses);
  return model;
}

function mergeDataInfo(old: DataInfo | undefined, next: DataInfo): DataInfo {
  if (!old) return next;
  return {
    ...old,
    nNeuronsDict: { ...old.nNeuronsDict, ...next.nNeuronsDict },
    meanActivityDict: { ...old.meanActivityDict, ...next.meanActivityDict },
    sessionsKwargs: { ...(old.sessionsKwargs ?? {}), ...(next.sessionsKwargs ?? {}) },
  };
}

/** Every session of the data must be a session of the model (else a DataError naming both lists). */
export function checkSessionsMatch(model: CoreReadout, sessions: readonly string[], source: string): void {
  const missing = sessions.filter((s) => !model.sessions.includes(s));
  if (missing.length) {
    throw new DataError(
      `The dataset's session(s) [${missing.join(', ')}] are not sessions of the model ${source} (model sessions: [${model.sessions.join(', ')}]). Train with paths.load_model_path=${source} to add them.`,
    );
  }
}
