import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '@openretina/contracts';
import { parseOverride, type Override } from './overrides.js';
import { clone, deletePath, isTree, merge, setPath, type ConfigTree, type ConfigValue } from './tree.js';

/** The folder of the presets shipped with the CLI (`configs/` beside `dist/`). */
export function presetsDirectory(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, '..', 'configs'), join(here, '..', '..', 'configs'), join(here, '..', '..', '..', 'configs')]) {
    if (existsSync(join(candidate, 'model'))) return resolve(candidate);
  }
  throw new ConfigError(`The openretina presets folder was not found next to ${here}.`);
}

/** Names of the experiment presets (top-level YAML files of the presets folder). */
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
  return parsed as ConfigTree;
}

type DefaultsEntry = { group: string; options: string[]; optional: boolean } | 'self';

function parseDefaults(list: ConfigValue | undefined, file: string): DefaultsEntry[] {
  if (list === undefined) return ['self'];
  if (!Array.isArray(list)) throw new ConfigError(`${file}: "defaults" must be a list.`);
  return list.map((item) => {
    if (item === '_self_') return 'self';
    if (!isTree(item) || Object.keys(item).length !== 1) {
      throw new ConfigError(`${file}: each defaults entry must be "_self_" or "group: option", got ${JSON.stringify(item)}.`);
    }
    const [rawGroup, value] = Object.entries(item)[0]!;
    const optional = rawGroup.startsWith('optional ');
    const group = rawGroup.replace(/^optional /, '');
    const options = value === null ? [] : Array.isArray(value) ? value.map(String) : [String(value)];
    return { group, options, optional };
  });
}

export interface ComposeOptions {
  /** `key.sub=value`, `group=option`, `+new.key=value`, `~key` (Hydra override grammar, simplified). */
  overrides?: readonly string[];
  presetsDir?: string;
}

/** Keys of this port (not in OpenRetina's configs) that `key=value` may set without `+`: the compute engine. */
const IMPLICIT_KEYS = new Set(['trainer.engine']);

/**
 * Composes an experiment config the way Hydra does for OpenRetina's config tree: the experiment's `defaults`
 * list pulls group files (`model/base_core_readout.yaml` → key `model`), `_self_` places the experiment's own
 * values, then command-line overrides apply. `experiment` is a preset name or a path to a YAML file; a YAML file
 * outside the presets may use the presets' groups too.
 */
export function composeConfig(experiment: string, options: ComposeOptions = {}): ConfigTree {
  const presets = options.presetsDir ?? presetsDirectory();
  const file = existsSync(experiment) && statSync(experiment).isFile() ? experiment : join(presets, `${experiment}.yaml`);
  if (!existsSync(file)) {
    throw new ConfigError(`No config "${experiment}": not a file, and not one of the presets (${listPresets(presets).join(', ')}).`);
  }
  const own = readYaml(file);
  const overrides = (options.overrides ?? []).map(parseOverride);
  const groupDirs = [dirname(resolve(file)), presets];
  const entries = parseDefaults(own.defaults, file);
  delete own.defaults;

  // Group selections on the command line (`model=core_gaussian_readout`) replace the defaults' choices.
  const remaining: Override[] = [];
  for (const o of overrides) {
    const isGroup = o.kind !== 'delete' && groupDirs.some((d) => existsSync(join(d, o.key)) && statSync(join(d, o.key)).isDirectory());
    const entry = entries.find((e): e is Exclude<DefaultsEntry, 'self'> => e !== 'self' && e.group === o.key);
    if (isGroup && typeof o.value === 'string' && (entry || o.kind === 'add')) {
      if (entry) entry.options = [o.value];
      else entries.splice(entries.indexOf('self'), 0, { group: o.key, options: [o.value], optional: false });
    } else remaining.push(o);
  }

  let config: ConfigTree = {};
  for (const entry of entries) {
    if (entry === 'self') {
      config = merge(config, own);
      continue;
    }
    for (const option of entry.options) {
      const groupFile = groupDirs.map((d) => join(d, entry.group, `${option}.yaml`)).find((p) => existsSync(p));
      if (!groupFile) {
        if (entry.optional) continue;
        const available = groupDirs
          .map((d) => join(d, entry.group))
          .filter((d) => existsSync(d))
          .flatMap((d) => readdirSync(d).map((f) => basename(f, '.yaml')));
        throw new ConfigError(`Config group "${entry.group}" has no option "${option}". Available: ${available.join(', ') || '(none)'}.`);
      }
      const content = readYaml(groupFile);
      delete content.defaults;
      config = merge(config, { [entry.group]: content });
    }
  }
  if (!entries.includes('self')) config = merge(config, own);

  for (const o of remaining) {
    if (o.kind === 'delete') deletePath(config, o.key);
    else setPath(config, o.key, clone(o.value), o.kind === 'set' && !IMPLICIT_KEYS.has(o.key));
  }
  return config;
}
