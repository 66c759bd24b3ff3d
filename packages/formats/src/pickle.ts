import { FileFormatError } from '@openretina/contracts';

/*
 * A small, safe interpreter for Python pickles (protocols 0–5, the subset of opcodes that data pickles use).
 *
 * Nothing in a pickle is ever executed. A global (`GLOBAL`, `STACK_GLOBAL`, `INST`) becomes an inert `PyGlobal`
 * record; calling it (`REDUCE`, `NEWOBJ`, `OBJ`, `INST`) either runs a *recogniser* the caller registered for that
 * exact class path (a pure TypeScript function that builds a data value from the arguments, e.g. an OrderedDict or
 * a tensor) or yields an inert `PyObject` that only records the callable and its arguments. `BUILD` on such a
 * record stores the state; no `__setstate__` is ever looked up. Dictionaries are `PyDict`s (a `Map`), so keys keep
 * their type and a `__proto__` key is just a key.
 */

/** A reference to a Python global (`module.name`). Inert. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get path(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A Python tuple. */
export class PyTuple {
  constructor(readonly items: readonly unknown[]) {}
}

/** A Python dict (insertion-ordered, keys of any type). */
export class PyDict {
  readonly map = new Map<unknown, unknown>();
  /** Instance attributes set by BUILD (e.g. an OrderedDict state dict's `_metadata`); never items. */
  attributes: unknown = undefined;
}

/** A Python set / frozenset. */
export class PySet {
  readonly items: unknown[] = [];
}

/** Python `bytes` / `bytearray`. */
export class PyBytes {
  constructor(readonly bytes: Uint8Array) {}
}

/**
 * An object the pickle asked to create by calling a class or function that has no recogniser: inert, it only
 * records what would have been called (`callable`), with which arguments, and the state `BUILD` gave it.
 */
export class PyObject {
  /** Set by BUILD (never applied through `__setstate__`). */
  state: unknown = undefined;
  /** Items added by SETITEM(S) (dict subclasses). */
  readonly dictItems = new Map<unknown, unknown>();
  /** Items added by APPEND(S) (list subclasses). */
  readonly listItems: unknown[] = [];
  constructor(
    readonly callable: PyGlobal | unknown,
    readonly args: readonly unknown[],
    readonly how: 'reduce' | 'newobj' | 'inst' | 'obj',
  ) {}
  /** `module.name` of the callable when it is a global. */
  get className(): string | undefined {
    return this.callable instanceof PyGlobal ? this.callable.path : undefined;
  }
}

/** A recogniser: builds a data value from the arguments of a call to a known global (never executes pickle code). */
export type Recogniser = (args: readonly unknown[], how: PyObject['how']) => unknown;

/** A BUILD handler for values produced by recognisers (e.g. numpy arrays, whose data arrives in BUILD). */
export type BuildHandler = (target: unknown, state: unknown) => boolean;

export interface UnpickleOptions {
  /** Recognisers by `module.name`. */
  recognisers?: ReadonlyMap<string, Recogniser>;
  /** Handles BUILD on a value; returns true when it did. */
  build?: BuildHandler;
  /** Resolves persistent ids (`PERSID`, `BINPERSID`). Without it, persistent ids are an error. */
  persistentLoad?: (pid: unknown) => unknown;
  /** `inert` (default): unknown globals become inert records. `error`: any global without a recogniser is refused. */
  unknownGlobals?: 'inert' | 'error';
  /** Globals allowed to stay inert in `error` mode (e.g. classes only used as markers). */
  allowInert?: (global: PyGlobal) => boolean;
  /** Name of the data, for error messages. */
  source?: string;
  /** Maximum number of memo entries (default 10 million). */
  maxMemo?: number;
}

const MARK = Symbol('mark');

const textDecoder = new TextDecoder('utf-8', { fatal: true });

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

/** Little-endian two's-complement integer of any length (LONG1/LONG4), as a number when safe, else a bigint. */
export function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  if (bytes[bytes.length - 1]! & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return normaliseInt(v);
}

function normaliseInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Parses a pickle into inert JavaScript values (see the module comment). */
export function unpickle(data: Uint8Array, options: UnpickleOptions = {}): unknown {
  const source = options.source ?? 'pickle';
  const recognisers = options.recognisers ?? new Map<string, Recogniser>();
  const maxMemo = options.maxMemo ?? 10_000_000;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const fail = (msg: string, at: number): never => {
    throw new FileFormatError(`${source}: ${msg} (at byte ${at}).`, { details: { offset: at } });
  };
  let pos = 0;
  const need = (n: number): number => {
    if (!Number.isSafeInteger(n) || n < 0 || pos + n > data.length)
      fail(`truncated: needs ${n} more bytes, ${data.length - pos} left`, pos);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = () => data[need(1)]!;
  const u16 = () => view.getUint16(need(2), true);
  const u32 = () => view.getUint32(need(4), true);
  const i32 = () => view.getInt32(need(4), true);
  const u64 = () => {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${v} is too large`, pos - 8);
    return Number(v);
  };
  const bytes = (n: number) => {
    const at = need(n);
    return data.subarray(at, at + n);
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('truncated: unterminated text line', pos);
    const s = latin1(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const utf8 = (b: Uint8Array, at: number): string => {
    try {
      return textDecoder.decode(b);
    } catch {
      return fail('invalid UTF-8 in a string', at);
    }
  };

  const stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  let current = stack;

  const pop = (at: number): unknown => {
    if (current.length === 0) fail('stack underflow', at);
    const v = current.pop();
    if (v === MARK) fail('unexpected MARK on the stack', at);
    return v;
  };
  const top = (at: number): unknown => {
    if (current.length === 0) fail('stack underflow', at);
    return current[current.length - 1];
  };
  const popMark = (at: number): unknown[] => {
    const items = current;
    const prev = metastack.pop();
    if (prev === undefined) fail('MARK expected', at);
    current = prev!;
    if (items.includes(MARK)) fail('nested MARK', at);
    return items;
  };
  const push = (v: unknown) => {
    current.push(v);
  };
  const put = (idx: number, at: number) => {
    if (!Number.isSafeInteger(idx) || idx < 0) fail(`invalid memo index ${idx}`, at);
    if (memo.size >= maxMemo && !memo.has(idx)) fail(`more than ${maxMemo} memo entries`, at);
    memo.set(idx, top(at));
  };
  const get = (idx: number, at: number) => {
    if (!memo.has(idx)) fail(`memo entry ${idx} is missing`, at);
    push(memo.get(idx));
  };
  const makeGlobal = (module: string, name: string, at: number): PyGlobal => {
    if (typeof module !== 'string' || typeof name !== 'string') fail('GLOBAL names must be strings', at);
    const g = new PyGlobal(module, name);
    if (options.unknownGlobals === 'error' && !recognisers.has(g.path) && !(options.allowInert?.(g) ?? false)) {
      fail(`refusing global ${g.path}: not a known data type`, at);
    }
    return g;
  };
  const call = (callable: unknown, args: readonly unknown[], how: PyObject['how'], at: number): unknown => {
    if (callable instanceof PyGlobal) {
      const r = recognisers.get(callable.path);
      if (r) {
        try {
          return r(args, how);
        } catch (error) {
          if (error instanceof FileFormatError) throw error;
          return fail(`cannot interpret ${callable.path}(...): ${(error as Error).message}`, at);
        }
      }
    }
    return new PyObject(callable, args, how);
  };
  const setItem = (target: unknown, key: unknown, value: unknown, at: number) => {
    if (target instanceof PyDict) target.map.set(key, value);
    else if (target instanceof PyObject) target.dictItems.set(key, value);
    else fail('SETITEM on a value that is not a dict', at);
  };
  const appendItems = (target: unknown, items: readonly unknown[], at: number) => {
    if (Array.isArray(target)) target.push(...items);
    else if (target instanceof PyObject) target.listItems.push(...items);
    else fail('APPEND on a value that is not a list', at);
  };
  const tupleArgs = (v: unknown, at: number): readonly unknown[] => {
    if (v instanceof PyTuple) return v.items;
    return fail('call arguments must be a tuple', at);
  };

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('unsupported pickle protocol', at);
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: {
        // STOP
        const result = pop(at);
        if (metastack.length) fail('unbalanced MARK at STOP', at);
        return result;
      }
      case 0x28: // MARK
        metastack.push(current);
        current = [];
        break;
      case 0x30: // POP
        if (current.length === 0) popMark(at);
        else current.pop();
        break;
      case 0x31: // POP_MARK
        popMark(at);
        break;
      case 0x32: // DUP
        push(top(at));
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x49: {
        // INT (text)
        const s = line();
        if (s === '01') push(true);
        else if (s === '00') push(false);
        else if (/^[+-]?\d+$/.test(s)) push(normaliseInt(BigInt(s)));
        else fail(`invalid INT "${s.slice(0, 40)}"`, at);
        break;
      }
      case 0x4a: // BININT
        push(i32());
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x4c: {
        // LONG (text)
        const s = line().replace(/L$/, '');
        if (!/^[+-]?\d+$/.test(s)) fail(`invalid LONG "${s.slice(0, 40)}"`, at);
        push(normaliseInt(BigInt(s)));
        break;
      }
      case 0x8a: // LONG1
        push(decodeLong(bytes(u8())));
        break;
      case 0x8b: {
        // LONG4
        const n = i32();
        if (n < 0) fail('negative LONG4 length', at);
        push(decodeLong(bytes(n)));
        break;
      }
      case 0x46: {
        // FLOAT (text)
        const s = line();
        const v = Number(s);
        if (Number.isNaN(v) && !/nan/i.test(s)) fail(`invalid FLOAT "${s.slice(0, 40)}"`, at);
        push(v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        push(view.getFloat64(need(8), false));
        break;
      case 0x53: {
        // STRING (text, quoted)
        const s = line();
        push(s.replace(/^(['"])(.*)\1$/s, '$2'));
        break;
      }
      case 0x54: {
        // BINSTRING
        const n = i32();
        if (n < 0) fail('negative BINSTRING length', at);
        push(latin1(bytes(n)));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        push(latin1(bytes(u8())));
        break;
      case 0x56: // UNICODE (raw-unicode-escape text)
        push(
          line().replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, a?: string, b?: string) =>
            String.fromCodePoint(parseInt((a ?? b)!, 16)),
          ),
        );
        break;
      case 0x58: {
        // BINUNICODE
        const n = u32();
        push(utf8(bytes(n), at));
        break;
      }
      case 0x8c: // SHORT_BINUNICODE
        push(utf8(bytes(u8()), at));
        break;
      case 0x8d: // BINUNICODE8
        push(utf8(bytes(u64()), at));
        break;
      case 0x42: // BINBYTES
        push(new PyBytes(bytes(u32()).slice()));
        break;
      case 0x43: // SHORT_BINBYTES
        push(new PyBytes(bytes(u8()).slice()));
        break;
      case 0x8e: // BINBYTES8
        push(new PyBytes(bytes(u64()).slice()));
        break;
      case 0x96: // BYTEARRAY8
        push(new PyBytes(bytes(u64()).slice()));
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x61: {
        // APPEND
        const v = pop(at);
        appendItems(top(at), [v], at);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark(at);
        appendItems(top(at), items, at);
        break;
      }
      case 0x6c: // LIST
        push(popMark(at));
        break;
      case 0x29: // EMPTY_TUPLE
        push(new PyTuple([]));
        break;
      case 0x74: // TUPLE
        push(new PyTuple(popMark(at)));
        break;
      case 0x85: // TUPLE1
        push(new PyTuple([pop(at)]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop(at);
        const a = pop(at);
        push(new PyTuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop(at);
        const b = pop(at);
        const a = pop(at);
        push(new PyTuple([a, b, c]));
        break;
      }
      case 0x7d: // EMPTY_DICT
        push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const items = popMark(at);
        if (items.length % 2) fail('odd number of DICT items', at);
        const d = new PyDict();
        for (let i = 0; i < items.length; i += 2) d.map.set(items[i], items[i + 1]);
        push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop(at);
        const k = pop(at);
        setItem(top(at), k, v, at);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark(at);
        if (items.length % 2) fail('odd number of SETITEMS items', at);
        const target = top(at);
        for (let i = 0; i < items.length; i += 2) setItem(target, items[i], items[i + 1], at);
        break;
      }
      case 0x8f: // EMPTY_SET
        push(new PySet());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark(at);
        const target = top(at);
        if (!(target instanceof PySet)) fail('ADDITEMS on a value that is not a set', at);
        (target as PySet).items.push(...items);
        break;
      }
      case 0x91: {
        // FROZENSET
        const s = new PySet();
        s.items.push(...popMark(at));
        push(s);
        break;
      }
      case 0x67: // GET
        get(Number(line()), at);
        break;
      case 0x68: // BINGET
        get(u8(), at);
        break;
      case 0x6a: // LONG_BINGET
        get(u32(), at);
        break;
      case 0x70: // PUT
        put(Number(line()), at);
        break;
      case 0x71: // BINPUT
        put(u8(), at);
        break;
      case 0x72: // LONG_BINPUT
        put(u32(), at);
        break;
      case 0x94: // MEMOIZE
        put(memo.size, at);
        break;
      case 0x63: {
        // GLOBAL
        const module = line();
        const name = line();
        push(makeGlobal(module, name, at));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop(at);
        const module = pop(at);
        push(makeGlobal(module as string, name as string, at));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = tupleArgs(pop(at), at);
        const fn = pop(at);
        push(call(fn, args, 'reduce', at));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = tupleArgs(pop(at), at);
        const cls = pop(at);
        push(call(cls, args, 'newobj', at));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX (keyword arguments are kept as a trailing PyDict)
        const kwargs = pop(at);
        const args = tupleArgs(pop(at), at);
        const cls = pop(at);
        push(call(cls, [...args, kwargs], 'newobj', at));
        break;
      }
      case 0x69: {
        // INST
        const module = line();
        const name = line();
        const args = popMark(at);
        push(call(makeGlobal(module, name, at), args, 'inst', at));
        break;
      }
      case 0x6f: {
        // OBJ
        const items = popMark(at);
        if (items.length === 0) fail('OBJ without a class', at);
        push(call(items[0], items.slice(1), 'obj', at));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop(at);
        const target = top(at);
        if (options.build?.(target, state)) break;
        if (target instanceof PyObject) target.state = state;
        else if (target instanceof PyDict) target.attributes = state;
        else fail('BUILD on a value that cannot take a state', at);
        break;
      }
      case 0x50: // PERSID
      case 0x51: {
        // BINPERSID
        const pid = op === 0x50 ? line() : pop(at);
        if (!options.persistentLoad) fail('persistent id without a resolver', at);
        push(options.persistentLoad!(pid));
        break;
      }
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        fail('extension registry opcodes are not supported', at);
        break;
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        fail('out-of-band buffers are not supported', at);
        break;
      default:
        fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`, at);
    }
  }
}
