import { ConfigError } from '@openretina/contracts';

/** A YAML/JSON value. */
export type ConfigValue = string | number | boolean | null | ConfigValue[] | ConfigTree;
export interface ConfigTree {
  [key: string]: ConfigValue;
}

export function isTree(v: unknown): v is ConfigTree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Deep merge as OmegaConf does: trees merge key by key, anything else (lists included) is replaced, except that a
 * `???` (missing) value does not replace a value that is there.
 */
export function merge(base: ConfigTree, over: ConfigTree): ConfigTree {
  const out: ConfigTree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isTree(b) && isTree(v) ? merge(b, v) : v === '???' && b !== undefined ? b : clone(v);
  }
  return out;
}

export function clone<T extends ConfigValue>(v: T): T {
  return v === null || typeof v !== 'object' ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Reads `a.b.c`; undefined when any part is missing. */
export function getPath(tree: ConfigTree, path: string): ConfigValue | undefined {
  let node: ConfigValue | undefined = tree;
  for (const part of path.split('.')) {
    if (Array.isArray(node) && /^\d+$/.test(part)) node = node[Number(part)];
    else if (isTree(node)) node = node[part];
    else return undefined;
  }
  return node;
}

/** Whether `a.b.c` is a key of the config (a null or `???` value counts). */
export function hasPath(tree: ConfigTree, path: string): boolean {
  const parts = path.split('.');
  const parent = parts.length > 1 ? getPath(tree, parts.slice(0, -1).join('.')) : tree;
  return isTree(parent) && parts[parts.length - 1]! in parent;
}

/** Writes `a.b.c = value`, creating trees on the way. `mustExist` refuses new keys (Hydra's rule without `+`). */
export function setPath(tree: ConfigTree, path: string, value: ConfigValue, mustExist: boolean): void {
  const parts = path.split('.');
  let node: ConfigTree = tree;
  parts.slice(0, -1).forEach((part, i) => {
    const next = node[part];
    if (next === undefined && !mustExist) node[part] = {};
    else if (!isTree(next)) {
      throw new ConfigError(`Cannot set "${path}": "${parts.slice(0, i + 1).join('.')}" is not a section of the config.`);
    }
    node = node[part] as ConfigTree;
  });
  const last = parts[parts.length - 1]!;
  if (mustExist && !(last in node)) {
    throw new ConfigError(`Unknown config key "${path}". Use "+${path}=..." to add a new key.`);
  }
  node[last] = value;
}

export function deletePath(tree: ConfigTree, path: string): void {
  const parts = path.split('.');
  const parent = parts.length > 1 ? getPath(tree, parts.slice(0, -1).join('.')) : tree;
  const last = parts[parts.length - 1]!;
  if (!isTree(parent) || !(last in parent)) throw new ConfigError(`Cannot delete "${path}": no such key.`);
  delete parent[last];
}
