import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '@openretina/contracts';
import { parseDefaultsList, toChoice, type GroupChoice } from './defaults-list.js';
import { MISSING } from './interpolate.js';
import { parseOverride, type Override } from './overrides.js';
import { TRAINER_NULL_DEFAULT_KEYS } from './sections/trainer.js';
import { clone, deletePath, getPath, hasPath, isTree, merge, setPath, type ConfigTree } from './tree.js';

/** The folder of the presets shipped with the CLI (`configs/` beside `dist/`): OpenRetina's config tree. */
export function presetsDirectory(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, '..', 'configs'), join(here, '..', '..', 'configs'), join(here, '..', '..', '..', 'configs')]) {
    if (existsSync(join(candidate, 'model'))) return resolve(candidate);
  }
  throw new ConfigError(`The openretina presets folder was not found next to ${here}.`);
}

/** Names of the experiment configs (top-level YAML files) of a config folder. */
export function listPresets(dir = presetsDirectory()): string[] {
  return readdirSync(dir)
    .filter((f) => extname(f) === '.yaml' && statSync(join(dir, f)).isFile())
    .map((f) => basename(f, '.yaml'))
    .sort();
}

function readYaml(path: string): ConfigTree {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ConfigError(`${path}: not valid YAML (${(cause as Error).message}).`, { cause });
  }
  if (parsed == null) return {};
  if (!isTree(parsed)) throw new ConfigError(`${path}: the top level must be a mapping of keys to values.`);
  return parsed;
}

export interface ComposeOptions {
  /** Hydra overrides: `key=value`, `group=option`, `+key=value`, `++key=value`, `~key`. */
  overrides?: readonly string[];
  /**
   * The config tree (Hydra's `--config-path`): `experiment` is a config name in it and its groups are read from
   * it alone. Without it, `experiment` is a preset name or a YAML file, and groups are looked up beside the file,
   * then in the presets.
   */
  configDir?: string;
}

/** Hydra's own defaults for where runs go (`hydra.run.dir`, `hydra.sweep.dir`). */
const HYDRA_DEFAULTS: ConfigTree = {
  run: { dir: 'outputs/${now:%Y-%m-%d}/${now:%H-%M-%S}' },
  sweep: { dir: 'multirun/${now:%Y-%m-%d}/${now:%H-%M-%S}' },
};

/** Keys of this port (not in OpenRetina's configs) that `key=value` may set without `+`: the compute engine. */
/** Keys an override sets without `+` although no config spells them out (our engine key, Lightning's null defaults). */
const IMPLICIT_KEYS = new Set(['trainer.engine', ...TRAINER_NULL_DEFAULT_KEYS.map((k) => `trainer.${k}`)]);

/** The chosen option(s) per config group, as Hydra records them in `hydra.runtime.choices`. */
export type GroupChoices = Record<string, GroupChoice>;

/**
 * Composes an experiment config the way Hydra does: the primary config's defaults list is walked in order, each
 * group's option file merged into the group's package (`hydra/sweeper` → `hydra.sweeper`; a list of options merges
 * each), `_self_` merges the config's own keys where it stands (at the end when absent); `override` entries and
 * command-line `group=option` replace choices, `group: null` drops a group, `group: ???` must be chosen; then
 * `+group=option` entries follow the primary config and value overrides apply. Groups under `hydra/` that the tree
 * does not hold (Hydra's own and its plugins', e.g. `hydra/sweeper: optuna`) are recorded only. The result holds
 * the job's keys and a `hydra` node with `run`, `sweep`, anything the configs put there and `runtime.choices`;
 * interpolations are left unresolved ({@link resolveExperiment} resolves them).
 */
export function composeConfig(experiment: string, options: ComposeOptions = {}): ConfigTree {
  const { file, searchPath } = locate(experiment, options.configDir);
  const name = basename(file, '.yaml');
  const own = readYaml(file);
  const entries = parseDefaultsList(own.defaults, file);
  delete own.defaults;
  const overrides = (options.overrides ?? []).map(parseOverride);

  const groupDir = (group: string) => searchPath.map((d) => join(d, group)).find((d) => existsSync(d) && statSync(d).isDirectory());
  const choices: GroupChoices = {};
  const order: (string | '_self_')[] = [];
  for (const e of entries) {
    if (e.kind === 'self') order.push('_self_');
    else if (!e.override) {
      choices[e.group] = e.choice;
      order.push(e.group);
    }
  }
  if (!order.includes('_self_')) order.push('_self_');
  const optional = new Set(entries.flatMap((e) => (e.kind === 'group' && e.optional ? [e.group] : [])));
  for (const e of entries) {
    if (e.kind !== 'group' || !e.override) continue;
    if (!(e.group in choices) && e.group.split('/')[0] !== 'hydra') {
      throw new ConfigError(`${name}: could not override "${e.group}": no such group in the defaults list.`);
    }
    choices[e.group] = e.choice;
  }

  const appended: string[] = [];
  const valueOverrides: Override[] = [];
  for (const o of overrides) {
    const group = o.key.replaceAll('.', '/');
    if (o.kind === 'delete' && group in choices) choices[group] = null;
    // a mapping is a value even for a group's key (Hydra: a dict override is a config override)
    else if (o.kind === 'set' && group in choices && !isTree(o.value)) choices[group] = toChoice(o.value, `Override "${o.key}=${o.raw}"`);
    else if (o.kind === 'add' && groupDir(group)) {
      if (group in choices) throw new ConfigError(`Could not add "${group}=${o.raw}": "${group}" is already in the defaults list.`);
      choices[group] = toChoice(o.value, `Override "+${o.key}=${o.raw}"`);
      appended.push(group);
    } else valueOverrides.push(o);
  }

  const groupConfig = (group: string, option: string): ConfigTree | undefined => {
    const dir = groupDir(group);
    const path = dir && join(dir, `${option}.yaml`);
    if (!path || !existsSync(path)) {
      if (group.split('/')[0] === 'hydra' && !dir) return undefined; // Hydra's own group or a plugin's
      if (optional.has(group)) return undefined;
      const available = dir
        ? readdirSync(dir)
            .filter((f) => f.endsWith('.yaml'))
            .map((f) => basename(f, '.yaml'))
        : [];
      throw new ConfigError(
        `${name}: config group "${group}" has no option "${option}". ${dir ? `Available: ${available.sort().join(', ')}.` : `There is no group "${group}" in ${searchPath.join(', ')}.`}`,
      );
    }
    const content = readYaml(path);
    delete content.defaults;
    const wrapped: ConfigTree = {};
    setPath(wrapped, group.replaceAll('/', '.'), content, false);
    return wrapped;
  };
  const mergeGroup = (config: ConfigTree, group: string): ConfigTree => {
    const choice = choices[group];
    if (choice === null || choice === undefined) return config;
    if (choice === MISSING) throw new ConfigError(`${name}: you must choose the "${group}" config, e.g. ${group}=<option>.`);
    let out = config;
    for (const option of Array.isArray(choice) ? choice : [choice]) {
      const part = groupConfig(group, option);
      if (part) out = merge(out, part);
    }
    return out;
  };

  let config: ConfigTree = { hydra: clone(HYDRA_DEFAULTS) };
  for (const item of order) config = item === '_self_' ? merge(config, own) : mergeGroup(config, item);
  for (const group of appended) config = mergeGroup(config, group);

  for (const o of valueOverrides) {
    const exists = hasPath(config, o.key);
    if (o.kind === 'delete') deletePath(config, o.key);
    else if (o.kind === 'set' && !exists && !IMPLICIT_KEYS.has(o.key)) {
      throw new ConfigError(`Unknown config key "${o.key}" (override "${o.key}=${o.raw}"). Use "+${o.key}=..." to add a new key.`);
    } else if (o.kind === 'add' && exists) {
      throw new ConfigError(`Could not add "${o.key}": it is already in the config (use "${o.key}=..." or "++${o.key}=...").`);
    } else {
      // as Hydra (OmegaConf.update with merge): overrides apply in order, so of one key given twice the last value
      // wins, and a mapping merges into the mapping that is there
      const current = getPath(config, o.key);
      setPath(config, o.key, isTree(current) && isTree(o.value) ? merge(current, o.value) : clone(o.value), false);
    }
  }
  const hydra = config.hydra as ConfigTree;
  hydra.runtime = merge(isTree(hydra.runtime) ? hydra.runtime : {}, { choices: clone(choices) as ConfigTree });
  return config;
}

/** The primary config file and the folders its groups are read from. */
function locate(experiment: string, configDir: string | undefined): { file: string; searchPath: string[] } {
  if (configDir !== undefined) {
    const dir = resolve(configDir);
    const file = join(dir, experiment.endsWith('.yaml') ? experiment : `${experiment}.yaml`);
    if (!existsSync(file)) {
      const names = existsSync(dir) ? listPresets(dir) : [];
      throw new ConfigError(
        `No config "${experiment}" in ${dir}${names.length ? ` (configs: ${names.join(', ')})` : ' (no such folder)'}.`,
      );
    }
    return { file, searchPath: [dir] };
  }
  const presets = presetsDirectory();
  const isFile = existsSync(experiment) && statSync(experiment).isFile();
  const file = isFile ? resolve(experiment) : join(presets, `${experiment}.yaml`);
  if (!existsSync(file)) {
    throw new ConfigError(`No config "${experiment}": not a file, and not one of the presets (${listPresets(presets).join(', ')}).`);
  }
  return { file, searchPath: [...new Set([dirname(file), presets])] };
}

/** The group choices recorded by {@link composeConfig}. */
export function groupChoices(config: ConfigTree): GroupChoices {
  const c = getPath(config, 'hydra.runtime.choices');
  return isTree(c) ? (c as GroupChoices) : {};
}
