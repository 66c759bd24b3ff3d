// The study of `openretina sweep`: the command line over the config's `hydra.sweeper` block over Optuna's defaults.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '@openretina/contracts';
import { sweeperSettings, isTree, type ConfigTree } from '../config/index.js';
import { loadExperimentConfig } from '../experiment-config.js';
import { refuseUnavailable } from '../run-outputs.js';
import { SAMPLERS, gridPoints, type SamplerName } from './samplers.js';
import { spaceFromParams, splitSweepOverrides } from './search-space.js';
import type { Direction, StudySpec } from './study.js';

/** The command-line part of a sweep (undefined: take the config's). */
export interface SweepRequest {
  config: string;
  configDir?: string;
  /** key=value overrides and key=choice(...)/interval(...)/range(...)/tag(log, ...) sweeps. */
  args: string[];
  trials?: number;
  sampler?: string;
  seed?: number;
  jobs?: number;
  study?: string;
  direction?: string;
  backend?: string;
  engine?: string;
  maxAttempts?: number;
}

/** A study spec and what the config says that the trials need (its seed). */
export interface PlannedStudy {
  spec: StudySpec;
  configSeed: number | null;
  /** `hydra/sweeper` of the config (e.g. optuna), for the header line. */
  sweeper: string | null;
}

const numberOr = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

/** Plans a study: composes the config (validating it), merges the sweeper block with the command line. */
export function planStudy(request: SweepRequest): PlannedStudy {
  const cli = splitSweepOverrides(request.args);
  // a config file path is made absolute so that workers elsewhere find it at the same (shared) path
  const config = request.configDir === undefined && existsSync(request.config) ? resolve(request.config) : request.config;
  const configDir = request.configDir === undefined ? undefined : resolve(request.configDir);
  const loaded = loadExperimentConfig(config, cli.fixed, configDir === undefined ? {} : { configDir });
  refuseUnavailable(loaded.cfg); // before any trial starts
  const sweeper = sweeperSettings({ config: loaded.tree, hydra: loaded.hydra });
  const s = sweeper.settings;
  const fromConfig = isTree(s.params) ? spaceFromParams(s.params as ConfigTree) : { space: {}, fixed: [] };
  const fixedKeys = new Set(cli.fixed.map((o) => o.replace(/^[+~]+/, '').split('=')[0]!));
  const space = Object.fromEntries(
    Object.entries({ ...fromConfig.space, ...cli.space }).filter(([k]) => !fixedKeys.has(k) || k in cli.space),
  );
  if (Object.keys(space).length === 0)
    throw new ConfigError(
      'Nothing to sweep: give key=choice(a,b), key=interval(lo,hi), key=range(lo,hi,step) or key=tag(log,interval(lo,hi)), or a config with hydra.sweeper.params.',
    );
  const samplerName = (request.sampler ??
    (sweeper.sampler === 'random' || sweeper.sampler === 'grid' ? sweeper.sampler : 'tpe')) as SamplerName;
  if (!SAMPLERS.includes(samplerName)) throw new ConfigError(`--sampler must be one of ${SAMPLERS.join(', ')}, got "${request.sampler}".`);
  const direction = (request.direction ?? (typeof s.direction === 'string' ? s.direction : 'minimize')) as Direction;
  if (direction !== 'minimize' && direction !== 'maximize')
    throw new ConfigError(`The direction must be minimize or maximize, got "${direction}".`);
  const samplerSettings = isTree(s.sampler) ? s.sampler : {};
  const seed = request.seed ?? numberOr(samplerSettings.seed, 0);
  const nTrials =
    request.trials ?? (typeof s.n_trials === 'number' ? s.n_trials : samplerName === 'grid' ? gridPoints(space, seed).length : 20);
  const jobs = request.jobs ?? 1;
  for (const [name, v] of [
    ['--trials', nTrials],
    ['--jobs', jobs],
  ] as const)
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${name} must be an integer ≥ 1, got ${v}.`);
  const study = request.study ?? (typeof s.study_name === 'string' && s.study_name ? s.study_name : loaded.cfg.exp_name);
  const spec: StudySpec = {
    study,
    direction,
    sampler: samplerName,
    seed,
    nTrials,
    jobs,
    space,
    config,
    ...(configDir === undefined ? {} : { configDir }),
    overrides: [...fromConfig.fixed, ...cli.fixed],
    objective: sweeper.objectiveTarget ?? 'val_evaluation_loss',
    outputDir: resolve(loaded.outputDir),
    ...(request.backend === undefined ? {} : { backend: request.backend }),
    ...(request.engine === undefined ? {} : { engine: request.engine }),
    maxAttempts: request.maxAttempts ?? 3,
  };
  return { spec, configSeed: loaded.cfg.seed ?? null, sweeper: sweeper.sweeper };
}
