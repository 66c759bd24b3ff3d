import { ConfigError } from '@openretina/contracts';
import { getPath, isTree, type ConfigTree, type ConfigValue } from './tree.js';

/** What the resolvers read: the clock (`${now:...}`), the environment (`${oc.env:...}`) and Hydra's node. */
export interface ResolverContext {
  /** The clock of `${now:FORMAT}` (default: the time of the call). */
  now?: Date;
  /** The environment of `${oc.env:VAR}` (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * The `hydra` node that `${hydra:runtime.output_dir}` reads (default: the config's own `hydra` key). A flat map
   * `{'runtime.output_dir': ...}` works too.
   */
  hydra?: ConfigTree | Readonly<Record<string, string>>;
}

/** OmegaConf's marker of a value that must be given before use. */
export const MISSING = '???';

/** A piece of a parsed string: literal text or one `${...}` interpolation. */
type Piece = { text: string } | { expr: Expression };
/** `${a.b}` (a key) or `${name:arg,...}` (a resolver; each argument is a list of pieces). */
type Expression = { key: string } | { resolver: string; args: Piece[][] };

/** Parses text with `${...}` interpolations (nested ones allowed in resolver arguments; `\${` is a literal `${`). */
function parsePieces(source: string, where: string): Piece[] {
  let i = 0;
  function pieces(stopAt: string): Piece[] {
    const out: Piece[] = [];
    let text = '';
    while (i < source.length) {
      const c = source[i]!;
      if (c === '\\' && source.startsWith('${', i + 1)) {
        text += '${';
        i += 3;
      } else if (c === '$' && source[i + 1] === '{') {
        if (text) out.push({ text });
        text = '';
        i += 2;
        out.push({ expr: expression() });
      } else if (stopAt.includes(c)) {
        break;
      } else {
        text += c;
        i++;
      }
    }
    if (text) out.push({ text });
    return out;
  }
  function expression(): Expression {
    const start = i;
    while (i < source.length && !':}$'.includes(source[i]!)) i++;
    const head = source.slice(start, i).trim();
    if (source[i] === '}') {
      i++;
      return { key: head };
    }
    if (source[i] !== ':') throw new ConfigError(`${where}: cannot parse the interpolation in "${source}".`);
    i++;
    const args: Piece[][] = [];
    for (;;) {
      args.push(trimPieces(pieces(',}')));
      const c = source[i];
      i++;
      if (c === '}') return { resolver: head, args };
      if (c !== ',') throw new ConfigError(`${where}: unterminated interpolation in "${source}".`);
    }
  }
  const out = pieces('');
  return out;
}

function trimPieces(p: Piece[]): Piece[] {
  const out = p.map((x) => ({ ...x }));
  const first = out[0];
  if (first && 'text' in first) first.text = first.text.trimStart();
  const last = out[out.length - 1];
  if (last && 'text' in last) last.text = last.text.trimEnd();
  return out.filter((x) => !('text' in x) || x.text !== '');
}

/** A value inside a longer string, as Python's str() writes it (OmegaConf concatenates with str()). */
function asText(v: ConfigValue): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** strftime for the codes Hydra's `${now:...}` patterns use. */
export function formatTime(pattern: string, t: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const codes: Record<string, string> = {
    Y: String(t.getFullYear()),
    m: p(t.getMonth() + 1),
    d: p(t.getDate()),
    H: p(t.getHours()),
    M: p(t.getMinutes()),
    S: p(t.getSeconds()),
    f: p(t.getMilliseconds() * 1000, 6),
    '%': '%',
  };
  return pattern.replace(/%(.)/g, (all, c: string) => {
    const v = codes[c];
    if (v === undefined) throw new ConfigError(`\${now:${pattern}}: the format code ${all} is not supported (use %Y %m %d %H %M %S %f).`);
    return v;
  });
}

/**
 * Resolves OmegaConf interpolations the way `OmegaConf.to_container(cfg, resolve=True)` does: `${a.b}` (absolute
 * key; a value that is exactly one interpolation keeps the referenced type), `${oc.env:VAR}` /
 * `${oc.env:VAR,default}` (the default may itself interpolate), `${now:%Y-%m-%d_%H-%M-%S}`, `${hydra:path}`,
 * `${len:...}` (OpenRetina's resolver). `???` values stay as they are, but interpolating one is an error, as is a
 * cycle or a missing key.
 */
export function resolveInterpolations(root: ConfigTree, context: ResolverContext = {}): ConfigTree {
  return interpolator(root, context).resolveValue(root, '') as ConfigTree;
}

/** The resolved value of one key (`hydra.run.dir`), resolving only what it refers to. */
export function resolveKey(root: ConfigTree, path: string, context: ResolverContext = {}): ConfigValue {
  return interpolator(root, context).lookup(path, path);
}

function interpolator(root: ConfigTree, context: ResolverContext) {
  const resolving = new Set<string>();
  const now = context.now ?? new Date();
  const env = context.env ?? process.env;

  function hydraValue(path: string, at: string): ConfigValue {
    if (!context.hydra) return lookup(`hydra.${path}`, at);
    const flat = (context.hydra as Record<string, unknown>)[path];
    const value = typeof flat === 'string' ? flat : getPath(context.hydra as ConfigTree, path);
    if (value === undefined) throw new ConfigError(`${at}: \${hydra:${path}} is not available here.`);
    return resolveValue(value, `hydra.${path}`);
  }

  function evaluate(pieces: Piece[], at: string): ConfigValue {
    if (pieces.length === 1 && 'expr' in pieces[0]!) return expression(pieces[0].expr, at);
    return pieces.map((p) => ('text' in p ? p.text : asText(expression(p.expr, at)))).join('');
  }

  /** A resolver argument: an interpolation keeps its type, plain text is read as a YAML-ish scalar. */
  function argument(pieces: Piece[], at: string): ConfigValue {
    if (pieces.length === 1 && 'text' in pieces[0]!) return parseScalar(pieces[0].text);
    return evaluate(pieces, at);
  }

  function expression(e: Expression, at: string): ConfigValue {
    if ('key' in e) return lookup(e.key, at);
    const args = e.args.map((a) => argument(a, at));
    switch (e.resolver) {
      case 'oc.env': {
        const name = String(args[0]);
        const value = env[name];
        if (value !== undefined) return value;
        if (args.length > 1) return args[1] === null ? null : asText(args[1]!);
        throw new ConfigError(`${at}: environment variable ${name} is not set (\${oc.env:${name}}); set it or give a default.`);
      }
      case 'now':
        return formatTime(String(args[0] ?? ''), now);
      case 'hydra':
        return hydraValue(String(args[0]), at);
      case 'len': {
        const v = args[0];
        if (!Array.isArray(v)) throw new ConfigError(`${at}: \${len:...} needs a list, got ${JSON.stringify(v)}.`);
        return v.length;
      }
      default:
        throw new ConfigError(`${at}: unsupported resolver "${e.resolver}" (supported: oc.env, now, hydra, len).`);
    }
  }

  function lookup(path: string, at: string): ConfigValue {
    if (resolving.has(path)) throw new ConfigError(`${at}: interpolation cycle through "${path}".`);
    const v = getPath(root, path);
    if (v === undefined) throw new ConfigError(`${at}: interpolation \${${path}} refers to a missing key.`);
    if (v === MISSING) throw new ConfigError(`${at}: interpolation \${${path}} refers to "${path}", which is ??? (a value you must set).`);
    resolving.add(path);
    try {
      return resolveValue(v, path);
    } finally {
      resolving.delete(path);
    }
  }

  function resolveValue(v: ConfigValue, at: string): ConfigValue {
    if (typeof v === 'string') return v.includes('${') ? evaluate(parsePieces(v, at), at) : v;
    if (Array.isArray(v)) return v.map((x, i) => resolveValue(x, `${at}.${i}`));
    if (isTree(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveValue(x, at ? `${at}.${k}` : k)]));
    return v;
  }

  return { resolveValue, lookup };
}

/** Parses a scalar written on the command line or as a resolver argument: numbers, booleans, null, strings. */
export function parseScalar(text: string): ConfigValue {
  if (text === 'null' || text === '~') return null;
  if (/^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  return text.replace(/^(['"])(.*)\1$/, '$2');
}
