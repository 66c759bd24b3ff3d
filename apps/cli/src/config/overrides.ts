import { parse as parseYaml } from 'yaml';
import { ConfigError } from '@openretina/contracts';
import type { ConfigValue } from './tree.js';

/**
 * One command-line override (Hydra's grammar): `key=value` sets an existing key (or chooses a group option),
 * `+key=value` adds a key (or a defaults entry), `++key=value` adds or sets, `~key` deletes (or drops a group).
 */
export interface Override {
  kind: 'set' | 'add' | 'force' | 'delete';
  key: string;
  value: ConfigValue;
  /** The value as written. */
  raw: string;
}

/** Parses one override; values are YAML: `[16,16]`, `0.01`, `true`, `null`, strings. */
export function parseOverride(text: string): Override {
  if (text.startsWith('~')) {
    const key = text.slice(1).split('=')[0]!;
    return { kind: 'delete', key, value: null, raw: '' };
  }
  const eq = text.indexOf('=');
  if (eq <= 0) throw new ConfigError(`Override "${text}" is not of the form key=value.`);
  let key = text.slice(0, eq).trim();
  let kind: Override['kind'] = 'set';
  if (key.startsWith('++')) {
    key = key.slice(2);
    kind = 'force';
  } else if (key.startsWith('+')) {
    key = key.slice(1);
    kind = 'add';
  }
  if (!/^[A-Za-z_][\w-]*([./][\w-]+)*$/.test(key)) throw new ConfigError(`Override "${text}": "${key}" is not a config key.`);
  const raw = text.slice(eq + 1);
  let value: ConfigValue;
  try {
    // `${...}` is an interpolation to keep, not YAML flow syntax.
    value = raw === '' ? '' : raw.startsWith('${') ? raw : (parseYaml(raw) as ConfigValue);
  } catch (cause) {
    throw new ConfigError(`Override "${text}": cannot parse the value "${raw}".`, { cause });
  }
  return { kind, key, value: value === undefined ? null : value, raw };
}
