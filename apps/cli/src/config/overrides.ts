import { parse as parseYaml } from 'yaml';
import { ConfigError } from '@openretina/contracts';
import type { ConfigValue } from './tree.js';

export interface Override {
  kind: 'set' | 'add' | 'delete';
  key: string;
  value: ConfigValue;
}

/**
 * Parses one command-line override: `key.sub=value` (the key must exist), `+key=value` (adds a key),
 * `++key=value` (adds or sets), `~key` (deletes). Values are YAML: `[16,16]`, `0.01`, `true`, `null`, strings.
 */
export function parseOverride(text: string): Override {
  if (text.startsWith('~')) return { kind: 'delete', key: text.slice(1).split('=')[0]!, value: null };
  const eq = text.indexOf('=');
  if (eq <= 0) throw new ConfigError(`Override "${text}" is not of the form key=value.`);
  let key = text.slice(0, eq).trim();
  let kind: Override['kind'] = 'set';
  if (key.startsWith('++')) {
    key = key.slice(2);
    kind = 'add';
  } else if (key.startsWith('+')) {
    key = key.slice(1);
    kind = 'add';
  }
  if (!/^[A-Za-z_][\w-]*(\.[\w-]+)*$/.test(key)) throw new ConfigError(`Override "${text}": "${key}" is not a config key.`);
  const raw = text.slice(eq + 1);
  let value: ConfigValue;
  try {
    value = raw === '' ? '' : (parseYaml(raw) as ConfigValue);
  } catch (cause) {
    throw new ConfigError(`Override "${text}": cannot parse the value "${raw}".`, { cause });
  }
  return { kind, key, value: value === undefined ? null : value };
}
