import { ConfigError } from '@openretina/contracts';
import { getPath, isTree, type ConfigTree, type ConfigValue } from './tree.js';

/** Values the `${hydra:...}` resolver can read (e.g. `runtime.output_dir`). */
export interface ResolverContext {
  hydra?: Record<string, string>;
  env?: Record<string, string | undefined>;
}

const FULL = /^\$\{([^${}]+)\}$/;
const ANY = /\$\{([^${}]+)\}/g;

/**
 * Resolves OmegaConf-style interpolations: `${a.b}` (absolute key), `${oc.env:VAR}` / `${oc.env:VAR,default}`,
 * `${hydra:runtime.output_dir}` and `${len:a.b}`. A value that is exactly one interpolation keeps the referenced
 * type (a list stays a list); interpolations inside a longer string are stringified. Cycles are errors.
 */
export function resolveInterpolations(root: ConfigTree, context: ResolverContext = {}): ConfigTree {
  const resolving = new Set<string>();

  function resolveExpression(expr: string, at: string): ConfigValue {
    const colon = expr.indexOf(':');
    if (colon > 0) {
      const resolver = expr.slice(0, colon).trim();
      const arg = expr.slice(colon + 1).trim();
      if (resolver === 'oc.env') {
        const [name, ...rest] = arg.split(',');
        const value = (context.env ?? process.env)[name!.trim()];
        if (value !== undefined) return value;
        if (rest.length) return parseScalar(rest.join(',').trim());
        throw new ConfigError(`${at}: environment variable ${name} is not set (\${oc.env:${arg}}).`);
      }
      if (resolver === 'hydra') {
        const value = context.hydra?.[arg];
        if (value === undefined) throw new ConfigError(`${at}: \${hydra:${arg}} is not available here.`);
        return value;
      }
      if (resolver === 'len') {
        const v = lookup(arg, at);
        if (!Array.isArray(v)) throw new ConfigError(`${at}: \${len:${arg}} needs a list.`);
        return v.length;
      }
      throw new ConfigError(`${at}: unsupported resolver "${resolver}" in \${${expr}}.`);
    }
    return lookup(expr.trim(), at);
  }

  function lookup(path: string, at: string): ConfigValue {
    if (resolving.has(path)) throw new ConfigError(`${at}: interpolation cycle through "${path}".`);
    const v = getPath(root, path);
    if (v === undefined) throw new ConfigError(`${at}: interpolation \${${path}} refers to a missing key.`);
    resolving.add(path);
    try {
      return resolveValue(v, path);
    } finally {
      resolving.delete(path);
    }
  }

  function resolveValue(v: ConfigValue, at: string): ConfigValue {
    if (typeof v === 'string') {
      const full = FULL.exec(v);
      if (full) return resolveExpression(full[1]!, at);
      if (!v.includes('${')) return v;
      return v.replace(ANY, (_, expr: string) => {
        const r = resolveExpression(expr, at);
        return typeof r === 'object' && r !== null ? JSON.stringify(r) : String(r);
      });
    }
    if (Array.isArray(v)) return v.map((x, i) => resolveValue(x, `${at}.${i}`));
    if (isTree(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveValue(x, at ? `${at}.${k}` : k)]));
    return v;
  }

  return resolveValue(root, '') as ConfigTree;
}

/** Parses a YAML-ish scalar written on the command line or as a default: numbers, booleans, null, strings. */
export function parseScalar(text: string): ConfigValue {
  if (text === 'null' || text === '~') return null;
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  return text.replace(/^(['"])(.*)\1$/, '$2');
}
