// The search-space grammar of Hydra's Optuna sweeper: `choice(a, b, ...)`, `interval(lo, hi)`, `range(lo, hi[, step])`
// and `tag(log, interval(lo, hi))`, on the command line (`key=choice(...)`) and in `hydra.sweeper.params`.
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '@openretina/contracts';

/** A configuration value a parameter can take (what `key=value` sets). */
export type ParamValue = string | number | boolean | null | ParamValue[] | { [k: string]: ParamValue };

/** One dimension of the search space, as Optuna's distributions. */
export type Distribution =
  | { kind: 'categorical'; choices: ParamValue[] }
  | { kind: 'float'; low: number; high: number; log: boolean }
  | { kind: 'int'; low: number; high: number; step: number; log: boolean };

/** The search space: parameter key → distribution (keys in the order given). */
export type SearchSpace = Record<string, Distribution>;

/** Splits at top-level commas (outside brackets, braces, parentheses and quotes). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.length === 1 && parts[0] === '' ? [] : parts;
}

/** A scalar or list as YAML reads it (Hydra's override values are YAML-like). */
function parseValue(text: string, key: string): ParamValue {
  try {
    return parseYaml(text) as ParamValue;
  } catch {
    throw new ConfigError(`Sweep parameter ${key}: cannot read the value "${text}".`);
  }
}

function parseNumber(text: string, key: string, what: string): number {
  const v = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(v)) throw new ConfigError(`Sweep parameter ${key}: ${what} must be a number, got "${text}".`);
  return v;
}

const isIntText = (t: string) => /^[+-]?\d+$/.test(t.trim());

/** The function call `name(args)` of a sweep expression, or null for a plain value. */
function call(text: string): { name: string; args: string[] } | null {
  const m = /^\s*(choice|interval|range|tag)\s*\(([\s\S]*)\)\s*$/.exec(text);
  return m ? { name: m[1]!, args: splitTopLevel(m[2]!) } : null;
}

/**
 * The distribution of one sweep expression, or null when `text` is a plain value (a fixed override). `interval` of
 * two integers is an integer distribution and otherwise a float one, `tag(log, ...)` makes it log-uniform, `range(lo,
 * hi, step)` is the integers (or steps) from lo up to but not including hi, as in Hydra.
 */
export function parseDistribution(key: string, text: string, tags: string[] = []): Distribution | null {
  const c = call(text);
  if (!c) return null;
  const log = tags.includes('log');
  switch (c.name) {
    case 'choice': {
      if (c.args.length === 0) throw new ConfigError(`Sweep parameter ${key}: choice() needs at least one option.`);
      return { kind: 'categorical', choices: c.args.map((a) => parseValue(a, key)) };
    }
    case 'interval': {
      if (c.args.length !== 2) throw new ConfigError(`Sweep parameter ${key}: interval(lo, hi) takes two numbers, got "${text}".`);
      const low = parseNumber(c.args[0]!, key, 'interval lo');
      const high = parseNumber(c.args[1]!, key, 'interval hi');
      if (!(low < high)) throw new ConfigError(`Sweep parameter ${key}: interval needs lo < hi, got ${low} and ${high}.`);
      if (log && low <= 0) throw new ConfigError(`Sweep parameter ${key}: a log interval needs lo > 0, got ${low}.`);
      return isIntText(c.args[0]!) && isIntText(c.args[1]!) ? { kind: 'int', low, high, step: 1, log } : { kind: 'float', low, high, log };
    }
    case 'range': {
      if (c.args.length < 2 || c.args.length > 3)
        throw new ConfigError(`Sweep parameter ${key}: range(lo, hi[, step]) takes two or three numbers, got "${text}".`);
      const low = parseNumber(c.args[0]!, key, 'range lo');
      const stop = parseNumber(c.args[1]!, key, 'range hi');
      const step = c.args[2] === undefined ? 1 : parseNumber(c.args[2], key, 'range step');
      if (!(step > 0) || !(stop > low)) throw new ConfigError(`Sweep parameter ${key}: range needs lo < hi and step > 0, got "${text}".`);
      const count = Math.ceil((stop - low) / step - 1e-9);
      if (c.args.every(isIntText)) return { kind: 'int', low, high: low + (count - 1) * step, step, log };
      return { kind: 'categorical', choices: Array.from({ length: count }, (_, i) => Number((low + i * step).toPrecision(12))) };
    }
    case 'tag': {
      const inner = c.args[c.args.length - 1]!;
      const more = c.args.slice(0, -1);
      if (!call(inner))
        throw new ConfigError(`Sweep parameter ${key}: tag(...) must end with a sweep, e.g. tag(log, interval(1e-4, 1e-1)).`);
      return parseDistribution(key, inner, [...tags, ...more]);
    }
    default:
      return null;
  }
}

/** Sweep overrides from `key=value` arguments: the sweeps (a search space) and the fixed overrides. */
export function splitSweepOverrides(args: readonly string[]): { space: SearchSpace; fixed: string[] } {
  const space: SearchSpace = {};
  const fixed: string[] = [];
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const key = eq < 0 ? arg : arg.slice(0, eq);
    const d = eq < 0 ? null : parseDistribution(key, arg.slice(eq + 1));
    if (d) space[key] = d;
    else fixed.push(arg);
  }
  return { space, fixed };
}

/** The search space of a `hydra.sweeper.params` block (values are sweep expressions, or fixed values). */
export function spaceFromParams(params: Record<string, unknown>): { space: SearchSpace; fixed: string[] } {
  return splitSweepOverrides(Object.entries(params).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`));
}

/** A parameter value written as a Hydra override value (`[16, 16]`, `0.001`, `name`). */
export function overrideValue(v: ParamValue): string {
  if (typeof v === 'string') return /^[\w./-]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v);
}

/** A human-readable description of a distribution (for the sweep's header line). */
export function describeDistribution(d: Distribution): string {
  switch (d.kind) {
    case 'categorical':
      return `choice(${d.choices.map(overrideValue).join(', ')})`;
    case 'float':
      return `${d.log ? 'log-' : ''}interval(${d.low}, ${d.high})`;
    case 'int':
      return `${d.log ? 'log-' : ''}int(${d.low}..${d.high}${d.step === 1 ? '' : ` step ${d.step}`})`;
  }
}
