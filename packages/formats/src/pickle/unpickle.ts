import { FileFormatError } from '@openretina/contracts';
import { latin1, PickleByteReader } from './byte-reader.js';
import { decodeLong, normaliseInt } from './long-integers.js';
import { PickleStack } from './pickle-stack.js';
import { PyBytes, PyDict, PyGlobal, PyObject, PySet, PyTuple } from './values.js';

/*
 * A small, safe interpreter for Python pickles (protocols 0–5, the subset of opcodes that data pickles use).
 *
 * Nothing in a pickle is ever executed. A global (`GLOBAL`, `STACK_GLOBAL`, `INST`) becomes an inert `PyGlobal`
 * record; calling it (`REDUCE`, `NEWOBJ`, `OBJ`, `INST`) either runs a *recogniser* the caller registered for that
 * exact class path (a pure TypeScript function that builds a data value from the arguments, e.g. an OrderedDict or
 * a tensor) or yields an inert `PyObject` that only records the callable and its arguments. `BUILD` on such a
 * record stores the state; no `__setstate__` is ever looked up. Dictionaries are `PyDict`s (a `Map`), so keys keep
 * their type and a `__proto__` key is just a key.
 *
 * This file is the opcode loop: what each opcode does to the stack (pickle-stack.ts), reading its arguments through
 * the bounded reader (byte-reader.ts).
 */

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

/** Parses a pickle into inert JavaScript values (see the module comment). */
export function unpickle(data: Uint8Array, options: UnpickleOptions = {}): unknown {
  const recognisers = options.recognisers ?? new Map<string, Recogniser>();
  const input = new PickleByteReader(data, options.source ?? 'pickle');
  const fail = (msg: string, at: number): never => input.fail(msg, at);
  const stack = new PickleStack(fail, options.maxMemo ?? 10_000_000);
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
    const at = input.pos;
    const op = input.u8();
    switch (op) {
      case 0x80: // PROTO
        if (input.u8() > 5) fail('unsupported pickle protocol', at);
        break;
      case 0x95: // FRAME
        input.u64();
        break;
      case 0x2e: {
        // STOP
        const result = stack.pop(at);
        if (!stack.balanced) fail('unbalanced MARK at STOP', at);
        return result;
      }
      case 0x28: // MARK
        stack.mark();
        break;
      case 0x30: // POP
        if (stack.frameEmpty) stack.popMark(at);
        else stack.pop(at);
        break;
      case 0x31: // POP_MARK
        stack.popMark(at);
        break;
      case 0x32: // DUP
        stack.push(stack.top(at));
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x49: {
        // INT (text)
        const s = input.line();
        if (s === '01') stack.push(true);
        else if (s === '00') stack.push(false);
        else if (/^[+-]?\d+$/.test(s)) stack.push(normaliseInt(BigInt(s)));
        else fail(`invalid INT "${s.slice(0, 40)}"`, at);
        break;
      }
      case 0x4a: // BININT
        stack.push(input.i32());
        break;
      case 0x4b: // BININT1
        stack.push(input.u8());
        break;
      case 0x4d: // BININT2
        stack.push(input.u16());
        break;
      case 0x4c: {
        // LONG (text)
        const s = input.line().replace(/L$/, '');
        if (!/^[+-]?\d+$/.test(s)) fail(`invalid LONG "${s.slice(0, 40)}"`, at);
        stack.push(normaliseInt(BigInt(s)));
        break;
      }
      case 0x8a: // LONG1
        stack.push(decodeLong(input.bytes(input.u8())));
        break;
      case 0x8b: {
        // LONG4
        const n = input.i32();
        if (n < 0) fail('negative LONG4 length', at);
        stack.push(decodeLong(input.bytes(n)));
        break;
      }
      case 0x46: {
        // FLOAT (text)
        const s = input.line();
        const v = Number(s);
        if (Number.isNaN(v) && !/nan/i.test(s)) fail(`invalid FLOAT "${s.slice(0, 40)}"`, at);
        stack.push(v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        stack.push(input.f64BigEndian());
        break;
      case 0x53: {
        // STRING (text, quoted)
        const s = input.line();
        stack.push(s.replace(/^(['"])(.*)\1$/s, '$2'));
        break;
      }
      case 0x54: {
        // BINSTRING
        const n = input.i32();
        if (n < 0) fail('negative BINSTRING length', at);
        stack.push(latin1(input.bytes(n)));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1(input.bytes(input.u8())));
        break;
      case 0x56: // UNICODE (raw-unicode-escape text)
        stack.push(
          input
            .line()
            .replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, a?: string, b?: string) =>
              String.fromCodePoint(parseInt((a ?? b)!, 16)),
            ),
        );
        break;
      case 0x58: {
        // BINUNICODE
        const n = input.u32();
        stack.push(input.utf8(input.bytes(n), at));
        break;
      }
      case 0x8c: // SHORT_BINUNICODE
        stack.push(input.utf8(input.bytes(input.u8()), at));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(input.utf8(input.bytes(input.u64()), at));
        break;
      case 0x42: // BINBYTES
        stack.push(new PyBytes(input.bytes(input.u32()).slice()));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(new PyBytes(input.bytes(input.u8()).slice()));
        break;
      case 0x8e: // BINBYTES8
        stack.push(new PyBytes(input.bytes(input.u64()).slice()));
        break;
      case 0x96: // BYTEARRAY8
        stack.push(new PyBytes(input.bytes(input.u64()).slice()));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x61: {
        // APPEND
        const v = stack.pop(at);
        appendItems(stack.top(at), [v], at);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = stack.popMark(at);
        appendItems(stack.top(at), items, at);
        break;
      }
      case 0x6c: // LIST
        stack.push(stack.popMark(at));
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(new PyTuple(stack.popMark(at)));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([stack.pop(at)]));
        break;
      case 0x86: {
        // TUPLE2
        const b = stack.pop(at);
        const a = stack.pop(at);
        stack.push(new PyTuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = stack.pop(at);
        const b = stack.pop(at);
        const a = stack.pop(at);
        stack.push(new PyTuple([a, b, c]));
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const items = stack.popMark(at);
        if (items.length % 2) fail('odd number of DICT items', at);
        const d = new PyDict();
        for (let i = 0; i < items.length; i += 2) d.map.set(items[i], items[i + 1]);
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = stack.pop(at);
        const k = stack.pop(at);
        setItem(stack.top(at), k, v, at);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = stack.popMark(at);
        if (items.length % 2) fail('odd number of SETITEMS items', at);
        const target = stack.top(at);
        for (let i = 0; i < items.length; i += 2) setItem(target, items[i], items[i + 1], at);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new PySet());
        break;
      case 0x90: {
        // ADDITEMS
        const items = stack.popMark(at);
        const target = stack.top(at);
        if (!(target instanceof PySet)) fail('ADDITEMS on a value that is not a set', at);
        (target as PySet).items.push(...items);
        break;
      }
      case 0x91: {
        // FROZENSET
        const s = new PySet();
        s.items.push(...stack.popMark(at));
        stack.push(s);
        break;
      }
      case 0x67: // GET
        stack.get(Number(input.line()), at);
        break;
      case 0x68: // BINGET
        stack.get(input.u8(), at);
        break;
      case 0x6a: // LONG_BINGET
        stack.get(input.u32(), at);
        break;
      case 0x70: // PUT
        stack.put(Number(input.line()), at);
        break;
      case 0x71: // BINPUT
        stack.put(input.u8(), at);
        break;
      case 0x72: // LONG_BINPUT
        stack.put(input.u32(), at);
        break;
      case 0x94: // MEMOIZE
        stack.put(stack.memoSize, at);
        break;
      case 0x63: {
        // GLOBAL
        const module = input.line();
        const name = input.line();
        stack.push(makeGlobal(module, name, at));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = stack.pop(at);
        const module = stack.pop(at);
        stack.push(makeGlobal(module as string, name as string, at));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = tupleArgs(stack.pop(at), at);
        const fn = stack.pop(at);
        stack.push(call(fn, args, 'reduce', at));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = tupleArgs(stack.pop(at), at);
        const cls = stack.pop(at);
        stack.push(call(cls, args, 'newobj', at));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX (keyword arguments are kept as a trailing PyDict)
        const kwargs = stack.pop(at);
        const args = tupleArgs(stack.pop(at), at);
        const cls = stack.pop(at);
        stack.push(call(cls, [...args, kwargs], 'newobj', at));
        break;
      }
      case 0x69: {
        // INST
        const module = input.line();
        const name = input.line();
        const args = stack.popMark(at);
        stack.push(call(makeGlobal(module, name, at), args, 'inst', at));
        break;
      }
      case 0x6f: {
        // OBJ
        const items = stack.popMark(at);
        if (items.length === 0) fail('OBJ without a class', at);
        stack.push(call(items[0], items.slice(1), 'obj', at));
        break;
      }
      case 0x62: {
        // BUILD
        const state = stack.pop(at);
        const target = stack.top(at);
        if (options.build?.(target, state)) break;
        if (target instanceof PyObject) target.state = state;
        else if (target instanceof PyDict) target.attributes = state;
        else fail('BUILD on a value that cannot take a state', at);
        break;
      }
      case 0x50: // PERSID
      case 0x51: {
        // BINPERSID
        const pid = op === 0x50 ? input.line() : stack.pop(at);
        if (!options.persistentLoad) fail('persistent id without a resolver', at);
        stack.push(options.persistentLoad!(pid));
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
