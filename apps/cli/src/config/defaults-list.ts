import { ConfigError } from '@openretina/contracts';
import { isTree, type ConfigValue } from './tree.js';

/** One entry of a config's `defaults` list (Hydra's grammar, as OpenRetina's configs use it). */
export type DefaultsEntry =
  | { kind: 'self' }
  | {
      kind: 'group';
      /** `data_io`, `hydra/sweeper`, ... */
      group: string;
      /** One option, a list of options (all merged into the group's package), null (none) or `???` (must be chosen). */
      choice: GroupChoice;
      /** `override group: option`: replaces the choice of a group listed elsewhere. */
      override: boolean;
      /** `optional group: option`: a missing option file is no error. */
      optional: boolean;
    };

/** The option(s) chosen for a config group. */
export type GroupChoice = string | string[] | null;

/** Parses a `defaults` list; a config without one has only `_self_`. */
export function parseDefaultsList(list: ConfigValue | undefined, file: string): DefaultsEntry[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new ConfigError(`${file}: "defaults" must be a list, got ${JSON.stringify(list)}.`);
  return list.map((item): DefaultsEntry => {
    if (item === '_self_') return { kind: 'self' };
    if (!isTree(item) || Object.keys(item).length !== 1) {
      throw new ConfigError(
        `${file}: each defaults entry must be "_self_" or "[override|optional] group: option", got ${JSON.stringify(item)}.`,
      );
    }
    const [key, value] = Object.entries(item)[0]!;
    const words = key.trim().split(/\s+/);
    const modifier = words.length === 2 ? words[0] : undefined;
    if (words.length > 2 || (modifier !== undefined && modifier !== 'override' && modifier !== 'optional')) {
      throw new ConfigError(`${file}: defaults entry "${key}" is not "group", "override group" or "optional group".`);
    }
    return {
      kind: 'group',
      group: words[words.length - 1]!,
      choice: toChoice(value, `${file}: defaults entry "${key}"`),
      override: modifier === 'override',
      optional: modifier === 'optional',
    };
  });
}

export function toChoice(value: ConfigValue, what: string): GroupChoice {
  if (value === null) return null;
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) return value.map(String);
  throw new ConfigError(`${what}: the option must be a name, a list of names or null, got ${JSON.stringify(value)}.`);
}
