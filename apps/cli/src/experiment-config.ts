// Config loading of `openretina train` / `eval`: compose (Hydra's rules), resolve (Hydra's runtime), validate.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  composeConfig,
  presetsDirectory,
  resolveExperiment,
  validateExperiment,
  type ConfigTree,
  type ExperimentConfig,
  type RuntimeContext,
} from './config/index.js';

/** A composed, resolved and validated experiment. */
export interface LoadedConfig {
  /** The resolved job config (written to the run folder as config.yaml). */
  tree: ConfigTree;
  cfg: ExperimentConfig;
  /** The resolved `hydra` node (run dir, sweeper, runtime.choices). */
  hydra: ConfigTree;
  /** Where the run goes (paths.output_dir). */
  outputDir: string;
}

/** Options of {@link loadExperimentConfig}: the config folder (`--config-path`) and the runtime (fixed in tests). */
export interface LoadConfigOptions extends RuntimeContext {
  configDir?: string;
}

/**
 * The environment configs are resolved in: OpenRetina's package sets OPENRETINA_CACHE_DIRECTORY to
 * ~/openretina_cache when it is unset, so `${oc.env:OPENRETINA_CACHE_DIRECTORY}` always resolves; so do we.
 */
export function configEnvironment(env: Readonly<Record<string, string | undefined>> = process.env): Record<string, string | undefined> {
  return { ...env, OPENRETINA_CACHE_DIRECTORY: env.OPENRETINA_CACHE_DIRECTORY ?? join(homedir(), 'openretina_cache') };
}

/**
 * Composes `config` (a preset name, a YAML file, or with `configDir` a config name in that folder) with the
 * overrides, resolves it as a Hydra run does (`paths.output_dir` = `hydra.run.dir` unless overridden) and validates it.
 */
export function loadExperimentConfig(config: string, overrides: readonly string[], options: LoadConfigOptions = {}): LoadedConfig {
  const composed = composeConfig(options.configDir === undefined ? presetAlias(config) : config, {
    overrides,
    ...(options.configDir === undefined ? {} : { configDir: options.configDir }),
  });
  const { config: tree, hydra } = resolveExperiment(composed, { ...options, env: configEnvironment(options.env) });
  const cfg = validateExperiment(tree);
  return { tree, cfg, hydra, outputDir: cfg.paths.output_dir };
}

/** `hdf5` → `hdf5_core_readout` (OpenRetina's README calls the generic-format experiment by its data_io name). */
export function presetAlias(config: string): string {
  if (existsSync(config)) return config;
  const dir = presetsDirectory();
  if (existsSync(join(dir, `${config}.yaml`))) return config;
  return existsSync(join(dir, `${config}_core_readout.yaml`)) ? `${config}_core_readout` : config;
}
