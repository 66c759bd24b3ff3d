import { ConfigError } from '@openretina/contracts';
import { PyBytes, PyDict, PyGlobal, PyObject, PySet, PyTuple } from './values.js';

/*
 * A pickle writer for plain data (protocol 2, what torch.save writes): None, bools, ints (numbers that are integers,
 * bigints), floats, strings, bytes, lists, tuples, dicts (`PyDict`, `Map`, plain objects), sets, globals
 * (`PyGlobal`), calls of globals (`PyObject`, e.g. `collections.OrderedDict()` with items) and persistent ids
 * (`PyPersistentId`, how torch refers to tensor storages). The same classes the reader produces are what it writes.
 * Anything else goes through the caller's `convert` hook (e.g. tensors → a `_rebuild_tensor_v2` call) or is refused:
 * nothing is ever written by reflection over arbitrary objects. Containers are memoised, so a value referenced twice
 * is written once (and cycles terminate).
 */

/** A Python float for a number that is an integer (other numbers are written as ints when integral). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** A persistent id (`BINPERSID`): resolved by the loader (torch resolves `('storage', ...)` tuples to storages). */
export class PyPersistentId {
  constructor(readonly id: unknown) {}
}

export interface SerializePickleOptions {
  /**
   * Called for every object value before the writer looks at it; a return value other than `undefined` is written
   * instead (it may itself need converting). Lets the caller write its own types, e.g. tensors.
   */
  convert?: (value: object) => unknown;
  /** Name of the data, for error messages. */
  source?: string;
}

const MAX_DEPTH = 1000;
const BATCH = 1000; // items per APPENDS/SETITEMS, as Python's pickler

class ByteSink {
  private chunks: Uint8Array[] = [];
  private current = new Uint8Array(1 << 16);
  private used = 0;
  private total = 0;

  byte(b: number): void {
    if (this.used === this.current.length) this.flush();
    this.current[this.used++] = b;
  }

  bytes(b: Uint8Array): void {
    if (b.length > this.current.length - this.used) {
      this.flush();
      if (b.length > this.current.length) {
        this.chunks.push(b.slice());
        this.total += b.length;
        return;
      }
    }
    this.current.set(b, this.used);
    this.used += b.length;
  }

  u16(v: number): void {
    this.byte(v & 0xff);
    this.byte((v >>> 8) & 0xff);
  }

  u32(v: number): void {
    for (let i = 0; i < 4; i++) this.byte((v >>> (8 * i)) & 0xff);
  }

  private flush(): void {
    if (this.used === 0) return;
    this.chunks.push(this.current.slice(0, this.used));
    this.total += this.used;
    this.used = 0;
  }

  result(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.total);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

const utf8 = new TextEncoder();

/** Little-endian two's-complement bytes of an integer (LONG1), the shortest Python's pickler writes. */
function longBytes(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0);
  const out: number[] = [];
  let x = v;
  for (;;) {
    out.push(Number(x & 0xffn));
    x >>= 8n;
    const sign = out[out.length - 1]! & 0x80;
    if ((x === 0n && !sign) || (x === -1n && sign)) break;
  }
  return Uint8Array.from(out);
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

class Pickler {
  private readonly out = new ByteSink();
  private readonly memo = new Map<unknown, number>();
  private readonly active = new Set<unknown>();

  constructor(private readonly options: SerializePickleOptions) {}

  run(value: unknown): Uint8Array {
    this.out.byte(0x80); // PROTO 2
    this.out.byte(2);
    this.write(value, 0, '');
    this.out.byte(0x2e); // STOP
    return this.out.result();
  }

  private fail(path: string, message: string): never {
    const where = `${this.options.source ?? 'pickle'}${path ? ` at ${path}` : ''}`;
    throw new ConfigError(`${where}: ${message}`);
  }

  private put(key: unknown): void {
    const index = this.memo.size;
    this.memo.set(key, index);
    if (index < 256) {
      this.out.byte(0x71); // BINPUT
      this.out.byte(index);
    } else {
      this.out.byte(0x72); // LONG_BINPUT
      this.out.u32(index);
    }
  }

  /** Writes a memo reference when `key` was written before; true when it did. */
  private get(key: unknown): boolean {
    const index = this.memo.get(key);
    if (index === undefined) return false;
    if (index < 256) {
      this.out.byte(0x68); // BINGET
      this.out.byte(index);
    } else {
      this.out.byte(0x6a); // LONG_BINGET
      this.out.u32(index);
    }
    return true;
  }

  private int(v: number | bigint): void {
    if (typeof v === 'number' && v >= 0 && v < 256) {
      this.out.byte(0x4b); // BININT1
      this.out.byte(v);
    } else if (typeof v === 'number' && v >= 0 && v < 65536) {
      this.out.byte(0x4d); // BININT2
      this.out.u16(v);
    } else if (typeof v === 'number' && v >= -(2 ** 31) && v < 2 ** 31) {
      this.out.byte(0x4a); // BININT
      this.out.u32(v >>> 0);
    } else {
      const b = longBytes(BigInt(v));
      if (b.length > 255) this.fail('', `the integer ${v} is too large.`);
      this.out.byte(0x8a); // LONG1
      this.out.byte(b.length);
      this.out.bytes(b);
    }
  }

  private float(v: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, false);
    this.out.byte(0x47); // BINFLOAT (big-endian)
    this.out.bytes(b);
  }

  private string(s: string): void {
    const b = utf8.encode(s);
    this.out.byte(0x58); // BINUNICODE
    this.out.u32(b.length);
    this.out.bytes(b);
  }

  private global(g: PyGlobal, path: string): void {
    const key = `global:${g.path}`; // globals are memoised by name (strings never collide with the object keys)
    if (this.get(key)) return;
    if (/\n/.test(g.module + g.name)) this.fail(path, `invalid global name ${JSON.stringify(g.path)}.`);
    this.out.byte(0x63); // GLOBAL
    this.out.bytes(utf8.encode(`${g.module}\n${g.name}\n`));
    this.put(key);
  }

  private bytesValue(b: Uint8Array, depth: number, path: string): void {
    // protocol 2 has no bytes opcode: Python 3 writes _codecs.encode(<latin-1 text>, 'latin1')
    let text = '';
    for (let i = 0; i < b.length; i += 8192) text += String.fromCharCode(...b.subarray(i, i + 8192));
    this.write(new PyObject(new PyGlobal('_codecs', 'encode'), [text, 'latin1'], 'reduce'), depth + 1, path);
  }

  private items(values: readonly unknown[], depth: number, path: string, opcode: number): void {
    for (let i = 0; i < values.length; i += BATCH) {
      this.out.byte(0x28); // MARK
      for (let j = i; j < Math.min(values.length, i + BATCH); j++) this.write(values[j], depth + 1, `${path}[${j}]`);
      this.out.byte(opcode);
    }
  }

  private pairs(entries: readonly (readonly [unknown, unknown])[], depth: number, path: string): void {
    for (let i = 0; i < entries.length; i += BATCH) {
      this.out.byte(0x28); // MARK
      for (let j = i; j < Math.min(entries.length, i + BATCH); j++) {
        const [k, v] = entries[j]!;
        this.write(k, depth + 1, `${path}{key}`);
        this.write(v, depth + 1, `${path}/${String(k)}`);
      }
      this.out.byte(0x75); // SETITEMS
    }
  }

  private write(value: unknown, depth: number, path: string): void {
    if (depth > MAX_DEPTH) this.fail(path, `data nested deeper than ${MAX_DEPTH} levels.`);
    if (value === null) {
      this.out.byte(0x4e); // NONE
      return;
    }
    switch (typeof value) {
      case 'boolean':
        this.out.byte(value ? 0x88 : 0x89); // NEWTRUE / NEWFALSE
        return;
      case 'number':
        if (Number.isSafeInteger(value) && !Object.is(value, -0)) this.int(value);
        else this.float(value);
        return;
      case 'bigint':
        this.int(value);
        return;
      case 'string':
        this.string(value);
        return;
      case 'object':
        break;
      default:
        this.fail(path, `cannot write a ${typeof value} value.`);
    }
    const converted = this.options.convert?.(value);
    if (converted !== undefined && converted !== value) {
      this.write(converted, depth, path);
      return;
    }
    if (value instanceof PyFloat) {
      this.float(value.value);
      return;
    }
    if (value instanceof PyGlobal) {
      this.global(value, path);
      return;
    }
    if (this.get(value)) return;
    // lists and dicts are memoised before their items; a tuple or call only after its arguments
    if (this.active.has(value)) this.fail(path, 'a container contains itself through a tuple or call, which pickle cannot express.');
    this.active.add(value);
    try {
      this.container(value, depth, path);
    } finally {
      this.active.delete(value);
    }
  }

  private container(value: object, depth: number, path: string): void {
    if (value instanceof PyPersistentId) {
      this.write(value.id, depth + 1, path);
      this.out.byte(0x51); // BINPERSID
      return;
    }
    if (value instanceof Uint8Array || value instanceof PyBytes) {
      this.bytesValue(value instanceof PyBytes ? value.bytes : value, depth, path);
      return;
    }
    if (Array.isArray(value)) {
      this.out.byte(0x5d); // EMPTY_LIST
      this.put(value);
      if (value.length === 1) {
        this.write(value[0], depth + 1, `${path}[0]`);
        this.out.byte(0x61); // APPEND
      } else this.items(value, depth, path, 0x65); // APPENDS
      return;
    }
    if (value instanceof PyTuple) {
      const n = value.items.length;
      if (n === 0)
        this.out.byte(0x29); // EMPTY_TUPLE
      else if (n <= 3) {
        value.items.forEach((v, i) => this.write(v, depth + 1, `${path}(${i})`));
        this.out.byte([0x85, 0x86, 0x87][n - 1]!); // TUPLE1/2/3
      } else {
        this.out.byte(0x28); // MARK
        value.items.forEach((v, i) => this.write(v, depth + 1, `${path}(${i})`));
        this.out.byte(0x74); // TUPLE
      }
      this.put(value);
      return;
    }
    if (value instanceof PyDict || value instanceof Map || isPlainObject(value)) {
      const entries: (readonly [unknown, unknown])[] =
        value instanceof PyDict ? [...value.map] : value instanceof Map ? [...value] : Object.entries(value);
      this.out.byte(0x7d); // EMPTY_DICT
      this.put(value);
      this.pairs(entries, depth, path);
      return;
    }
    if (value instanceof PySet) {
      this.write(new PyObject(new PyGlobal('__builtin__', 'set'), [value.items], 'reduce'), depth + 1, path);
      return;
    }
    if (value instanceof PyObject) {
      if (value.how !== 'reduce' && value.how !== 'newobj') this.fail(path, `cannot write a call made with ${value.how}.`);
      this.write(value.callable, depth + 1, path);
      this.write(new PyTuple(value.args), depth + 1, path);
      this.out.byte(value.how === 'reduce' ? 0x52 : 0x81); // REDUCE / NEWOBJ
      this.put(value);
      if (value.listItems.length) this.items(value.listItems, depth, path, 0x65);
      if (value.dictItems.size) this.pairs([...value.dictItems], depth, path);
      if (value.state !== undefined) {
        this.write(value.state, depth + 1, `${path}.__state__`);
        this.out.byte(0x62); // BUILD
      }
      return;
    }
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    this.fail(path, `cannot write a ${name}: only plain data, pickle records and what the convert hook returns.`);
  }
}

/** Serialises plain data as a protocol-2 pickle (see the module comment); deterministic for the same input. */
export function serializePickle(value: unknown, options: SerializePickleOptions = {}): Uint8Array {
  return new Pickler(options).run(value);
}

/** `collections.OrderedDict(entries)` as a pickle record (how Python pickles one: a call, then SETITEMS). */
export function pickleOrderedDict(entries: Iterable<readonly [unknown, unknown]>): PyObject {
  const od = new PyObject(new PyGlobal('collections', 'OrderedDict'), [], 'reduce');
  for (const [k, v] of entries) od.dictItems.set(k, v);
  return od;
}
