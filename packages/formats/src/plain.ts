import { ConfigError, FileFormatError, UnsupportedError } from '@openretina/contracts';
import { PyBytes, PyDict, PyGlobal, PyObject, PySet, PyTuple } from './pickle/values.js';
import { ArrayValue } from './array-value.js';

/*
 * Conversion of inert pickle values into plain JavaScript data: dicts become plain objects (keys as strings,
 * assigned as own properties, so a `__proto__` key never changes a prototype), tuples and lists arrays, tensors and
 * numpy arrays `ArrayValue`s. omegaconf `DictConfig`/`ListConfig` trees become plain objects/arrays with their
 * `${...}` interpolations resolved against the root config saved with them (resolvers such as `${oc.env:...}` are
 * refused). Other Python objects become inert descriptions `{ __python__: 'module.Class', ... }`.
 */

const OMEGA_CONTAINERS = new Set(['omegaconf.dictconfig.DictConfig', 'omegaconf.listconfig.ListConfig']);
const MAX_DEPTH = 500;

/** A Python object that is not plain data, described without executing anything. */
export interface InertObject {
  readonly __python__: string;
  readonly args?: unknown[];
  readonly state?: unknown;
  readonly items?: unknown;
}

function isOmegaNode(v: unknown): v is PyObject {
  return v instanceof PyObject && (v.className?.startsWith('omegaconf.') ?? false) && v.state instanceof PyDict;
}

function field(node: PyObject, key: string): unknown {
  return (node.state as PyDict).map.get(key);
}

/** Sets an own enumerable property, also for keys such as `__proto__` or `constructor`. */
export function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function keyString(k: unknown): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return String(k);
  if (k === null) return 'None';
  if (k instanceof PyTuple) return `(${k.items.map(keyString).join(', ')})`;
  return String(k);
}

class Converter {
  private readonly active = new Set<unknown>();
  private readonly resolving = new Set<PyObject>();

  plain(v: unknown, depth = 0): unknown {
    if (depth > MAX_DEPTH) throw new FileFormatError(`pickle data nested deeper than ${MAX_DEPTH} levels.`);
    if (v === null || v === undefined || typeof v !== 'object') return v;
    if (v instanceof ArrayValue) return v;
    if (v instanceof PyBytes) return v.bytes;
    if (v instanceof PyGlobal) return { __python__: v.path } satisfies InertObject;
    if (this.active.has(v)) return '[circular]';
    this.active.add(v);
    try {
      if (isOmegaNode(v)) return this.omega(v, depth);
      if (Array.isArray(v)) return v.map((x) => this.plain(x, depth + 1));
      if (v instanceof PyTuple) return v.items.map((x) => this.plain(x, depth + 1));
      if (v instanceof PySet) return v.items.map((x) => this.plain(x, depth + 1));
      if (v instanceof PyDict) return this.dict(v.map, depth);
      if (v instanceof PyObject) {
        if (v.dictItems.size > 0 && v.state === undefined) return this.dict(v.dictItems, depth); // dict subclasses (AttributeDict)
        if (v.listItems.length > 0 && v.state === undefined) return v.listItems.map((x) => this.plain(x, depth + 1));
        const out: Record<string, unknown> = { __python__: v.className ?? '(call result)' };
        if (v.args.length) out.args = v.args.map((x) => this.plain(x, depth + 1));
        if (v.state !== undefined) out.state = this.plain(v.state, depth + 1);
        if (v.dictItems.size) out.items = this.dict(v.dictItems, depth);
        return out;
      }
      return String(v);
    } finally {
      this.active.delete(v);
    }
  }

  private dict(map: Map<unknown, unknown>, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, val] of map) defineOwn(out, keyString(k), this.plain(val, depth + 1));
    return out;
  }

  /** A DictConfig/ListConfig/value node as plain data (interpolations resolved; `_parent` only used to find roots). */
  private omega(node: PyObject, depth: number): unknown {
    if (OMEGA_CONTAINERS.has(node.className!)) {
      const content = field(node, '_content');
      if (content === null || content === undefined) return null;
      if (typeof content === 'string') return this.interpolate(content, node, depth);
      if (content instanceof PyDict) {
        const out: Record<string, unknown> = {};
        for (const [k, child] of content.map) defineOwn(out, keyString(k), this.plain(child, depth + 1));
        return out;
      }
      if (Array.isArray(content)) return content.map((c) => this.plain(c, depth + 1));
      throw new FileFormatError(`omegaconf ${node.className}: unexpected _content.`);
    }
    const val = field(node, '_val');
    if (typeof val === 'string') return this.interpolate(val, node, depth);
    return this.plain(val, depth + 1);
  }

  private parent(node: PyObject): PyObject | undefined {
    const p = field(node, '_parent');
    return isOmegaNode(p) ? p : undefined;
  }

  private root(node: PyObject): PyObject {
    let n = node;
    for (let i = 0; i < 10_000; i++) {
      const p = this.parent(n);
      if (!p) return n;
      n = p;
    }
    throw new FileFormatError('omegaconf: the _parent chain does not end (cyclic).');
  }

  private child(container: PyObject, key: string): unknown {
    const content = field(container, '_content');
    if (content instanceof PyDict) {
      for (const [k, v] of content.map) if (keyString(k) === key) return v;
      return undefined;
    }
    if (Array.isArray(content) && /^\d+$/.test(key)) return content[Number(key)];
    return undefined;
  }

  /** Resolves `${a.b}`, `${.sibling}`, `${..uncle}` and strings with embedded interpolations. */
  private interpolate(text: string, node: PyObject, depth: number): unknown {
    if (text === '???') return null; // omegaconf's "missing" marker
    if (!text.includes('${')) return text;
    const full = /^\$\{([^${}]*)\}$/.exec(text);
    if (full) return this.reference(full[1]!.trim(), node, depth, text);
    if (
      text
        .replace(/\\\$\{[^{}]*\}/g, '')
        .replace(/\$\{[^${}]*\}/g, '')
        .includes('${')
    ) {
      throw new UnsupportedError(`omegaconf: nested interpolation "${text}" is not supported.`);
    }
    let failure: Error | undefined;
    const out = text.replace(/(\\?)\$\{([^{}]*)\}/g, (whole, escaped: string, ref: string) => {
      if (escaped) return whole.slice(1);
      try {
        return String(this.reference(ref.trim(), node, depth, text));
      } catch (e) {
        failure = e as Error;
        return '';
      }
    });
    if (failure) throw failure;
    return out;
  }

  private reference(ref: string, node: PyObject, depth: number, text: string): unknown {
    if (/^[A-Za-z_][\w.]*:/.test(ref)) {
      throw new ConfigError(
        `omegaconf: the resolver interpolation "${text}" is refused (resolvers could read the environment or run code).`,
      );
    }
    let base: PyObject | undefined;
    let path = ref.replace(/\[(\d+)\]/g, '.$1');
    if (path.startsWith('.')) {
      const dots = /^\.+/.exec(path)![0].length;
      base = this.parent(node);
      for (let i = 1; i < dots && base; i++) base = this.parent(base);
      path = path.slice(dots);
    } else {
      base = this.root(node);
    }
    let target: unknown = base;
    for (const key of path.split('.').filter(Boolean)) {
      target = isOmegaNode(target) ? this.child(target, key) : undefined;
      if (target === undefined) break;
    }
    if (target === undefined || base === undefined)
      throw new ConfigError(`omegaconf: interpolation "${text}": key "${ref}" not found in the saved config.`);
    if (isOmegaNode(target)) {
      if (this.resolving.has(target)) throw new ConfigError(`omegaconf: interpolation "${text}" is cyclic.`);
      this.resolving.add(target);
      try {
        // resolved independently of the nodes being converted (a reference may point to an ancestor)
        return new Converter().withResolving(this.resolving).plain(target, depth + 1);
      } finally {
        this.resolving.delete(target);
      }
    }
    return this.plain(target, depth + 1);
  }

  private withResolving(set: Set<PyObject>): this {
    for (const n of set) this.resolving.add(n);
    return this;
  }
}

/** Converts inert pickle values to plain JavaScript data (see the module comment). */
export function toPlain(value: unknown): unknown {
  return new Converter().plain(value);
}
