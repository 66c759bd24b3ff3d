import { FileFormatError, UnsupportedError } from '@openretina/contracts';
import { type ArrayValue, arrayValueFromStrided, contiguousStrides, type ReadLimits } from '../array-value.js';
import { decodeElements, isLittleEndianOrder, numpyDtype, type NumpyDtype } from '../dtypes.js';
import { type Recogniser, unpickle } from './unpickle.js';
import { PyBytes, PyDict, type PyGlobal, PyObject, PyTuple } from './values.js';

/*
 * Recognisers for the data types of Python data pickles (dict/OrderedDict/list/tuple, numpy arrays, dtypes and
 * scalars, `_codecs.encode` bytes, pathlib paths): pure functions that build values, never Python code. Torch
 * archives (in @openretina/hub) add their tensor recognisers to these.
 */

/** A numpy dtype met in a pickle (its byte order arrives later, in BUILD). */
class PickledNumpyDtype {
  byteOrder: NumpyDtype['byteOrder'];
  constructor(readonly dtype: NumpyDtype) {
    this.byteOrder = dtype.byteOrder;
  }
  get littleEndian(): boolean {
    return isLittleEndianOrder(this.byteOrder);
  }
}

/** A numpy array whose data arrives in BUILD (`_reconstruct` then `__setstate__` in Python). */
class PendingNdarray {
  value: ArrayValue | undefined;
}

/** The items of a pickled tuple (or list) of non-negative integers: a shape, a size or a stride; checked. */
export function pickledIntTuple(v: unknown, what: string): number[] {
  const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : undefined;
  if (!items?.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
    throw new FileFormatError(`${what} must be a tuple of non-negative integers.`);
  }
  return items as number[];
}

function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) throw new FileFormatError('_codecs.encode: a latin1 string has a character above U+00FF.');
    out[i] = c;
  }
  return out;
}

function parseNumpyDtype(descr: unknown): PickledNumpyDtype {
  const dtype = typeof descr === 'string' ? numpyDtype(descr) : undefined;
  if (!dtype) throw new UnsupportedError(`numpy dtype ${JSON.stringify(descr)} is not supported (numeric and bool dtypes only).`);
  return new PickledNumpyDtype(dtype);
}

function numpyScalar(args: readonly unknown[]): unknown {
  const [dt, raw] = args;
  if (!(dt instanceof PickledNumpyDtype) || !(raw instanceof PyBytes)) throw new FileFormatError('numpy scalar: expected (dtype, bytes).');
  const { type } = dt.dtype;
  if (raw.bytes.byteLength < type.bytes) throw new FileFormatError('numpy scalar: not enough bytes.');
  const v = decodeElements(raw.bytes, type, 1, dt.littleEndian)[0]!;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  return type.name === 'bool' ? v !== 0 : v;
}

/** The recognisers of data pickles (see the module comment; arrays are completed by {@link dataBuildHandler}). */
export function dataRecognisers(): Map<string, Recogniser> {
  const r = new Map<string, Recogniser>();
  const dict: Recogniser = (args) => {
    const d = new PyDict();
    const src = args[0];
    if (src instanceof PyDict) for (const [k, v] of src.map) d.map.set(k, v);
    else if (Array.isArray(src)) {
      for (const pair of src) {
        const items = pair instanceof PyTuple ? pair.items : Array.isArray(pair) ? pair : [];
        if (items.length !== 2) throw new FileFormatError('dict(...) items must be pairs.');
        d.map.set(items[0], items[1]);
      }
    }
    return d;
  };
  r.set('collections.OrderedDict', dict);
  for (const m of ['builtins', '__builtin__']) {
    r.set(`${m}.dict`, dict);
    r.set(`${m}.list`, (args) => (Array.isArray(args[0]) ? [...args[0]] : args[0] instanceof PyTuple ? [...args[0].items] : []));
    r.set(`${m}.tuple`, (args) => new PyTuple(Array.isArray(args[0]) ? [...args[0]] : args[0] instanceof PyTuple ? args[0].items : []));
  }
  r.set('_codecs.encode', (args) => {
    if (typeof args[0] !== 'string') throw new FileFormatError('_codecs.encode: expected a string.');
    const enc = String(args[1] ?? 'utf-8').toLowerCase();
    return new PyBytes(enc === 'latin1' || enc === 'latin-1' ? latin1Bytes(args[0]) : new TextEncoder().encode(args[0]));
  });
  // numpy 1.x and 2.x module names
  for (const m of ['numpy.core.multiarray', 'numpy._core.multiarray']) {
    r.set(`${m}._reconstruct`, () => new PendingNdarray());
    r.set(`${m}.scalar`, numpyScalar);
  }
  r.set('numpy.dtype', (args) => parseNumpyDtype(args[0]));
  for (const p of ['pathlib.PosixPath', 'pathlib.WindowsPath', 'pathlib.PurePosixPath', 'pathlib.PureWindowsPath', 'pathlib.Path']) {
    r.set(p, (args) => args.filter((a) => typeof a === 'string').join('/'));
  }
  return r;
}

/** The BUILD handler completing numpy dtypes (byte order) and arrays (shape, dtype, Fortran order, data). */
export function dataBuildHandler(limits: ReadLimits = {}): (target: unknown, state: unknown) => boolean {
  return (target, state) => {
    if (target instanceof PickledNumpyDtype) {
      const items = state instanceof PyTuple ? state.items : [];
      const order = items[1];
      if (order === '<' || order === '>' || order === '|' || order === '=') target.byteOrder = order;
      return true;
    }
    if (target instanceof PendingNdarray) {
      const items = state instanceof PyTuple ? state.items : [];
      const [, shapeV, dt, fortran, raw] = items;
      if (!(dt instanceof PickledNumpyDtype)) throw new FileFormatError('numpy array: missing dtype in its state.');
      const shape = pickledIntTuple(shapeV, 'numpy array shape');
      if (!(raw instanceof PyBytes)) {
        throw new UnsupportedError('numpy arrays of Python objects (dtype=object) are not supported: they would need code execution.');
      }
      const { type } = dt.dtype;
      const n = shape.reduce((a, b) => a * b, 1);
      const available = Math.floor(raw.bytes.byteLength / type.bytes);
      if (n > available) throw new FileFormatError(`numpy array ${JSON.stringify(shape)} needs ${n} elements, its data has ${available}.`);
      const view = { offset: 0, shape, strides: contiguousStrides(shape, fortran === true) };
      target.value = arrayValueFromStrided('ndarray', raw.bytes, type, available, view, limits, 'numpy array', dt.littleEndian);
      return true;
    }
    return false;
  };
}

/** Replaces completed numpy placeholders by their arrays (the placeholders are shared through the memo). */
export function finishNdarrays(value: unknown, seen = new Set<unknown>()): unknown {
  if (value instanceof PendingNdarray) {
    if (!value.value) throw new FileFormatError('numpy array without data (no BUILD).');
    return value.value;
  }
  if (typeof value !== 'object' || value === null || seen.has(value)) return value;
  seen.add(value);
  if (Array.isArray(value)) for (let i = 0; i < value.length; i++) value[i] = finishNdarrays(value[i], seen);
  else if (value instanceof PyTuple) (value.items as unknown[]).forEach((v, i, a) => (a[i] = finishNdarrays(v, seen)));
  else if (value instanceof PyDict) for (const [k, v] of value.map) value.map.set(k, finishNdarrays(v, seen));
  else if (value instanceof PyObject) {
    value.state = finishNdarrays(value.state, seen);
    for (const [k, v] of value.dictItems) value.dictItems.set(k, finishNdarrays(v, seen));
    value.listItems.forEach((v, i, a) => (a[i] = finishNdarrays(v, seen)));
    (value.args as unknown[]).forEach((v, i, a) => (a[i] = finishNdarrays(v, seen)));
  }
  return value;
}

// Globals that may stay inert records when unknown globals are refused: markers and configuration classes of the
// pickles we read (omegaconf, Lightning's AttributeDict, torch dtypes, enums), never callables that do work.
const KNOWN_INERT =
  /^(omegaconf\.|typing\.|builtins\.(object|int|float|str|bool|long)$|__builtin__\.(object|int|float|str|bool|long)$|collections\.defaultdict$|pytorch_lightning\.utilities\.parsing\.AttributeDict$|lightning\.(pytorch\.)?utilities\.parsing\.AttributeDict$|lightning_fabric\.utilities\.data\.AttributeDict$|torch\.(float|double|half|bfloat16|int|long|short|int8|uint8|bool|float16|float32|float64|int16|int32|int64)$|enum\.|numpy\.ndarray$|numpy\.core\.multiarray\._reconstruct$)/;

/** True for globals that may stay inert records in `unknownGlobals: 'error'` mode (see the pattern above). */
export function isKnownInertGlobal(global: PyGlobal): boolean {
  return KNOWN_INERT.test(global.path);
}

/** Options of {@link readPickle}. */
export interface ReadPickleOptions extends ReadLimits {
  /** `error` refuses any global that is not a known data type (default `inert`: unknown globals become inert records). */
  unknownGlobals?: 'inert' | 'error';
  /** Name of the data, for error messages. */
  source?: string;
}

/**
 * Parses a data pickle (e.g. numpy data, `data_info_*.pkl`) into inert values (see `unpickle`): dicts are `PyDict`s,
 * numpy arrays {@link ArrayValue}s; `toPlain` turns the result into plain JavaScript data.
 */
export function readPickle(bytes: Uint8Array, options: ReadPickleOptions = {}): unknown {
  const value = unpickle(bytes, {
    recognisers: dataRecognisers(),
    build: dataBuildHandler(options),
    source: options.source ?? 'pickle',
    unknownGlobals: options.unknownGlobals ?? 'inert',
    // plain data pickles may also name any numpy global (e.g. numpy scalar types) as a marker
    allowInert: (g) => isKnownInertGlobal(g) || g.module === 'numpy' || g.module.startsWith('numpy.'),
  });
  return finishNdarrays(value);
}
