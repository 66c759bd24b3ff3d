// Shared by `openretina train` and `openretina eval`: config loading, data loading per data_io.reader, dataloaders
// per the dataloader section, data info, and model construction (fresh, or from paths.load_model_path).
import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError, DataError, type DataInfo, type MovieSplit, type ResponseSplit } from '@openretina/contracts';
import { computeDataInfo, hoefling2024Dataloaders, multipleMoviesDataloaders, type DataloaderDict } from '@openretina/data-io';
import { loadGoldin2022, loadHoefling2024, loadKaramanlis2024, loadMaheswaranathan2023, readHdf5Dataset } from '@openretina/data-io/node';
import { architectureOf, rememberArchitecture } from '@openretina/hub';
import { loadCoreReadout } from '@openretina/hub/node';
import { buildCoreReadout, type CoreReadout, type CoreReadoutConfig, type ModelLoss } from '@openretina/models';
import {
  composeConfig,
  presetsDirectory,
  resolveInterpolations,
  validateExperiment,
  type ConfigTree,
  type ExperimentConfig,
} from './config/index.js';
import { cliDownloadOptions } from './download-progress.js';

/** A composed, resolved and validated experiment. */
export interface LoadedConfig {
  /** The resolved tree (written to the run folder as config.yaml). */
  tree: ConfigTree;
  cfg: ExperimentConfig;
  /** Where the run goes (paths.output_dir). */
  outputDir: string;
}

function timestamp(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}_${p(now.getHours())}-${p(now.getMinutes())}-${p(now.getSeconds())}`;
}

/**
 * Composes `config` (a preset name or a YAML file) with the overrides, resolves `${...}` (Hydra's
 * `runtime.output_dir` = `runs/<exp_name>/<timestamp>` unless `paths.output_dir=DIR` is given) and validates it.
 */
export function loadExperimentConfig(
  config: string,
  overrides: readonly string[],
  options: { runsDir?: string; now?: Date } = {},
): LoadedConfig {
  const composed = composeConfig(presetAlias(config), { overrides });
  const expName = typeof composed.exp_name === 'string' && !composed.exp_name.includes('${') ? composed.exp_name : 'experiment';
  const runDir = join(options.runsDir ?? 'runs', expName, timestamp(options.now));
  const tree = resolveInterpolations(composed, { hydra: { 'runtime.output_dir': runDir, 'runtime.cwd': process.cwd() } });
  const cfg = validateExperiment(tree);
  return { tree, cfg, outputDir: cfg.paths.output_dir };
}

/** `hdf5` → `hdf5_core_readout` (OpenRetina's README calls the generic-format experiment by its data_io name). */
export function presetAlias(config: string): string {
  if (existsSync(config)) return config;
  const dir = presetsDirectory();
  if (existsSync(join(dir, `${config}.yaml`))) return config;
  return existsSync(join(dir, `${config}_core_readout.yaml`)) ? `${config}_core_readout` : config;
}

/** A relative data path: against the working directory first, then against the CLI package (bundled data). */
export function resolveDataDir(path: string): string {
  const expanded = path.startsWith('~/') ? join(process.env.HOME ?? '~', path.slice(2)) : path;
  if (isAbsolute(expanded) || existsSync(expanded) || /^[a-z]+:\/\//i.test(expanded)) return expanded;
  const packaged = join(dirname(presetsDirectory()), expanded);
  return existsSync(packaged) ? packaged : expanded;
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${what} must be a number, got ${JSON.stringify(v)}.`);
  return v;
}

function str(v: unknown, fallback?: string): string | undefined {
  return typeof v === 'string' ? v : fallback;
}

/** Movies and responses per session, as the data_io section says. */
export interface ExperimentData {
  movies: Record<string, MovieSplit>;
  responses: Record<string, ResponseSplit>;
  /** Test stimulus names (the test folds of the loaders). */
  testNames: string[];
}

/** Loads the data of an experiment per `data_io.reader` (hdf5, hoefling_2024, karamanlis_2024, maheswaranathan_2023, goldin_2022). */
export async function loadExperimentData(cfg: ExperimentConfig): Promise<ExperimentData> {
  const io = cfg.data_io as Record<string, unknown>;
  const dataDir = resolveDataDir(cfg.paths.data_dir);
  const reader = cfg.data_io.reader;
  let movies: Record<string, MovieSplit>;
  let responses: Record<string, ResponseSplit>;
  switch (reader) {
    case 'hdf5': {
      if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) {
        throw new DataError(
          `paths.data_dir: ${dataDir} is not a directory (expected a dataset in the generic HDF5 format: stimuli/<name>.npy and <session>.h5 files).`,
        );
      }
      const testNames = io.test_names;
      if (!Array.isArray(testNames) || !testNames.every((x) => typeof x === 'string')) {
        throw new ConfigError(`data_io.test_names must be a list of stimulus names, got ${JSON.stringify(testNames)}.`);
      }
      const data = await readHdf5Dataset(dataDir, {
        testNames,
        stimulusSize: [
          num(io.color_channels, 'data_io.color_channels'),
          num(io.video_height, 'data_io.video_height'),
          num(io.video_width, 'data_io.video_width'),
        ],
        normMean: io.norm_mean == null ? 0 : num(io.norm_mean, 'data_io.norm_mean'),
        normStd: io.norm_std == null ? 1 : num(io.norm_std, 'data_io.norm_std'),
      });
      movies = data.movies;
      responses = data.responses;
      break;
    }
    case 'hoefling_2024': {
      const paths = cfg.paths as Record<string, unknown>;
      const data = await loadHoefling2024({
        resolve: cliDownloadOptions(),
        ...(typeof paths.movies_path === 'string' ? { stimuliPath: paths.movies_path } : {}),
        ...(typeof paths.responses_path === 'string' ? { responsesPath: paths.responses_path } : {}),
      });
      responses = data.responses;
      movies = Object.fromEntries(Object.keys(responses).map((s) => [s, data.movies]));
      break;
    }
    case 'karamanlis_2024': {
      const data = await loadKaramanlis2024(dataDir, {
        resolve: cliDownloadOptions(),
        ...(str(io.stim_type) ? { stimType: str(io.stim_type) as 'fixationmovie' } : {}),
        ...(str(io.specie) ? { specie: str(io.specie) as 'mouse' } : {}),
        ...(io.fr_normalization == null ? {} : { frNormalization: num(io.fr_normalization, 'data_io.fr_normalization') }),
        ...(io.normalize_stimuli == null ? {} : { normalizeStimuli: Boolean(io.normalize_stimuli) }),
        ...(io.video_height == null
          ? {}
          : { downsampledSize: [num(io.video_height, 'data_io.video_height'), num(io.video_width, 'data_io.video_width')] as const }),
      });
      ({ movies, responses } = data);
      break;
    }
    case 'maheswaranathan_2023': {
      const data = await loadMaheswaranathan2023(dataDir, {
        resolve: cliDownloadOptions(),
        ...(str(io.response_type) ? { responseType: str(io.response_type) as 'firing_rate_10ms' } : {}),
        ...(str(io.stim_type) ? { stimType: str(io.stim_type) as 'naturalscene' } : {}),
        ...(io.fr_normalization == null ? {} : { frNormalization: num(io.fr_normalization, 'data_io.fr_normalization') }),
        ...(io.normalize_stimuli == null ? {} : { normalizeStimuli: Boolean(io.normalize_stimuli) }),
      });
      ({ movies, responses } = data);
      break;
    }
    case 'goldin_2022': {
      const data = await loadGoldin2022(dataDir, {
        resolve: cliDownloadOptions(),
        ...(str(io.specie) ? { specie: str(io.specie) as 'mouse' } : {}),
        ...(io.fr_normalization == null ? {} : { frNormalization: num(io.fr_normalization, 'data_io.fr_normalization') }),
        ...(io.normalize_stimuli == null ? {} : { normalizeStimuli: Boolean(io.normalize_stimuli) }),
      });
      ({ movies, responses } = data);
      break;
    }
    default:
      throw new ConfigError(
        `Unsupported data_io.reader "${reader}" (supported: hdf5, hoefling_2024, karamanlis_2024, maheswaranathan_2023, goldin_2022).`,
      );
  }
  const sessions = Object.keys(responses);
  if (sessions.length === 0) throw new DataError(`No sessions found in ${dataDir} (reader ${reader}).`);
  const testNames = [...new Set(Object.values(responses).flatMap((r) => Object.keys(r.test)))].sort();
  if (cfg.check_stimuli_responses_match) {
    for (const s of sessions) {
      const m = movies[s];
      if (!m) throw new DataError(`Session ${s} has responses but no stimulus.`);
      const r = responses[s]!;
      if (r.train.shape[0] !== m.train.shape[0]) {
        throw new DataError(`Session ${s}: the train responses have ${r.train.shape[0]} frames, the train movie ${m.train.shape[0]}.`);
      }
    }
  }
  return { movies, responses, testNames };
}

/** The loaders of an experiment (train, validation and one fold per test stimulus), per the dataloader section. */
export function makeDataloaders(cfg: ExperimentConfig, data: ExperimentData): DataloaderDict {
  const d = cfg.dataloader;
  const common = {
    batchSize: d.batch_size,
    trainChunkSize: d.train_chunk_size,
    clipLength: d.clip_length,
    seed: cfg.seed,
    ...(d.allow_over_boundaries === undefined ? {} : { allowOverBoundaries: d.allow_over_boundaries }),
  };
  if (cfg.data_io.reader === 'hoefling_2024') {
    const movies = Object.values(data.movies)[0]!;
    return hoefling2024Dataloaders(data.responses, movies, {
      ...common,
      ...(d.validation_clip_indices ? { validationClipIndices: d.validation_clip_indices } : {}),
    });
  }
  return multipleMoviesDataloaders(data.responses, data.movies, {
    ...common,
    ...(d.num_val_clips === undefined ? {} : { numValClips: d.num_val_clips }),
    ...(d.validation_clip_indices ? { valClipIndices: d.validation_clip_indices } : {}),
  });
}

/** Data info of the loaded data (OpenRetina's compute_data_info, with the config's data_io.data_info entries). */
export function experimentDataInfo(cfg: ExperimentConfig, data: ExperimentData, warn: (m: string) => void): DataInfo {
  const partial = (cfg.data_io as Record<string, unknown>).data_info;
  return computeDataInfo(data.responses, data.movies, {
    ...(partial && typeof partial === 'object' ? { partialDataInfo: partial as Record<string, unknown> } : {}),
    warn,
  });
}

/** The architecture (OpenRetina keys) of the model section, with n_neurons_dict from the data. */
export function architectureFromConfig(cfg: ExperimentConfig, dataInfo: DataInfo): CoreReadoutConfig {
  const m = cfg.model;
  const [c, , h, w] = m.in_shape as [number, number, number, number];
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

const LOSS_CLASSES: Record<string, { type: ModelLoss['type']; keys: readonly string[] }> = {
  PoissonLoss3d: { type: 'poisson', keys: ['bias', 'per_neuron', 'avg'] },
  L1PoissonLoss3d: { type: 'l1Poisson', keys: ['bias', 'per_neuron', 'avg', 'gamma_l1'] },
  CelltypePoissonLoss3d: { type: 'celltypePoisson', keys: ['bias', 'per_neuron', 'avg'] },
  MSE3d: { type: 'mse', keys: [] },
  CorrelationLoss3d: { type: 'correlation', keys: ['bias', 'per_neuron', 'avg', 'negate'] },
};

const LOSS_MODULES = [
  'openretina.modules.losses',
  'openretina.modules.losses.poisson',
  'openretina.modules.losses.mse',
  'openretina.modules.losses.correlation',
  'openretina.modules.measures',
];

/**
 * A `model.loss` / `model.evaluation_loss` section (`_target_` + OpenRetina's arguments) as the model's loss.
 * Cell-type losses take the 1-based cell type of each neuron from the session kwarg `group_assignment` (as the
 * Höfling data carry it), and the neurons per type counted over all sessions.
 */
export function lossFromConfig(section: unknown, key: string, dataInfo: DataInfo): ModelLoss {
  if (!section || typeof section !== 'object' || Array.isArray(section))
    throw new ConfigError(`model.${key} must be a mapping with a _target_, got ${JSON.stringify(section)}.`);
  const { _target_: target, ...args } = section as Record<string, unknown>;
  if (typeof target !== 'string')
    throw new ConfigError(`model.${key}._target_ must name a loss class, e.g. openretina.modules.losses.poisson.PoissonLoss3d.`);
  const dot = target.lastIndexOf('.');
  const cls = target.slice(dot + 1);
  const spec = LOSS_CLASSES[cls];
  if (!spec || (dot >= 0 && !LOSS_MODULES.includes(target.slice(0, dot)))) {
    throw new ConfigError(
      `model.${key}._target_ "${target}" is not a supported loss (supported: ${Object.keys(LOSS_CLASSES)
        .map((c) => `openretina.modules.losses.${c === 'MSE3d' ? 'mse' : c === 'CorrelationLoss3d' ? 'correlation' : 'poisson'}.${c}`)
        .join(', ')}).`,
    );
  }
  const unknown = Object.keys(args).filter((k) => !spec.keys.includes(k));
  if (unknown.length)
    throw new ConfigError(`model.${key}: ${cls} has no argument(s) ${unknown.join(', ')} (arguments: ${spec.keys.join(', ') || 'none'}).`);
  const bool = (k: string): boolean | undefined => {
    const v = args[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw new ConfigError(`model.${key}.${k} must be true or false, got ${JSON.stringify(v)}.`);
    return v;
  };
  const number = (k: string): number | undefined => {
    const v = args[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new ConfigError(`model.${key}.${k} must be a number, got ${JSON.stringify(v)}.`);
    return v;
  };
  if (bool('per_neuron')) {
    throw new ConfigError(
      `model.${key}.per_neuron=true gives one value per neuron, which can be neither minimised nor logged as a scalar (in OpenRetina neither); use avg.`,
    );
  }
  const avg = bool('avg');
  const bias = number('bias');
  const common = { ...(avg === undefined ? {} : { avg }), ...(bias === undefined ? {} : { bias }) };
  switch (spec.type) {
    case 'poisson':
      return { type: 'poisson', ...common };
    case 'l1Poisson': {
      const gammaL1 = number('gamma_l1');
      return { type: 'l1Poisson', ...common, ...(gammaL1 === undefined ? {} : { gammaL1 }) };
    }
    case 'mse':
      return { type: 'mse' };
    case 'correlation': {
      const negate = bool('negate');
      return { type: 'correlation', ...common, ...(negate === undefined ? {} : { negate }) };
    }
    case 'celltypePoisson': {
      const groupAssignment: Record<string, number[]> = {};
      const missing: string[] = [];
      for (const s of Object.keys(dataInfo.nNeuronsDict).sort()) {
        const g = dataInfo.sessionsKwargs?.[s]?.group_assignment;
        if (!Array.isArray(g) && !ArrayBuffer.isView(g)) missing.push(s);
        else groupAssignment[s] = Array.from(g as ArrayLike<unknown>, Number);
      }
      if (missing.length) {
        throw new ConfigError(
          `model.${key} CelltypePoissonLoss3d needs the cell type of each neuron (session kwarg group_assignment, 1-based) for every session; missing for ${missing.join(', ')}.`,
        );
      }
      const all = Object.values(groupAssignment).flat();
      const counts = new Array<number>(Math.max(0, ...all)).fill(0);
      for (const g of all) if (Number.isInteger(g) && g >= 1) counts[g - 1]! += 1;
      return { type: 'celltypePoisson', ...common, groupAssignment, groupCounts: counts };
    }
  }
}

/** The model's training and evaluation losses from `model.loss` / `model.evaluation_loss` (defaults when absent). */
export function experimentLosses(cfg: ExperimentConfig, dataInfo: DataInfo): { loss?: ModelLoss; evaluationLoss?: ModelLoss } {
  const m = cfg.model as Record<string, unknown>;
  return {
    ...(m.loss == null ? {} : { loss: lossFromConfig(m.loss, 'loss', dataInfo) }),
    ...(m.evaluation_loss == null ? {} : { evaluationLoss: lossFromConfig(m.evaluation_loss, 'evaluation_loss', dataInfo) }),
  };
}

/**
 * The model of an experiment: from `paths.load_model_path` (OpenRetina .ckpt, our checkpoint folder or a published
 * name; sessions of the data that the model lacks are added to its readout), else built from the model section.
 */
export async function buildExperimentModel(cfg: ExperimentConfig, dataInfo: DataInfo, log: (m: string) => void): Promise<CoreReadout> {
  const losses = experimentLosses(cfg, dataInfo);
  const loadPath = cfg.paths.load_model_path;
  if (loadPath) {
    const model = await loadCoreReadout(resolveDataDir(loadPath), cliDownloadOptions());
    const { channels: c, height: h, width: w } = model.stimulus;
    const [dc, dh, dw] = dataInfo.inputShape;
    if (c !== dc || h !== dh || w !== dw) {
      model.dispose();
      throw new DataError(`The model at ${loadPath} takes [C, H, W] = [${c}, ${h}, ${w}] but the data has [${dc}, ${dh}, ${dw}].`);
    }
    const have = model.neuronsPerSession;
    const added: Record<string, number> = {};
    for (const [s, n] of Object.entries(dataInfo.nNeuronsDict)) {
      if (have[s] === undefined) added[s] = n;
      else if (have[s] !== n) {
        model.dispose();
        throw new DataError(`Session ${s}: the model at ${loadPath} has ${have[s]} neurons, the data ${n}.`);
      }
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
  }
  const architecture = architectureFromConfig(cfg, dataInfo);
  const model = rememberArchitecture(buildCoreReadout(architecture, { dataInfo, seed: cfg.seed }), architecture);
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

/** Resolved absolute form of a path, for messages. */
export const absolute = (p: string): string => resolve(p);
