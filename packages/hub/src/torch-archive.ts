import { FileFormatError, UnsupportedError, type StateArray, type StateDtype } from '@openretina/contracts';
import { unzipSync } from 'fflate';
import { PyBytes, PyDict, PyGlobal, PyObject, PyTuple, unpickle, type Recogniser } from './pickle.js';

/**
 * A tensor or numpy array read from a pickle: dense, row-major, with its PyTorch/numpy shape. Storages of types
 * without a state-dict dtype are widened (float16/bfloat16 → float32, int8/int16/uint8 → int32, uint32 → int64).
 */
export class ArrayValue {
  constructor(
    readonly kind: 'tensor' | 'ndarray',
    readonly dtype: StateDtype,
    readonly shape: readonly number[],
    readonly data: StateArray,
    /** The dtype in the file (`float32`, `float16`, `uint8`, ...). */
    readonly sourceDtype: string,
  ) {}
}

/** Limits applied while reading (absurd sizes are refused before anything is allocated). */
export interface ReadLimits {
  /** Maximum elements of one tensor (default 2^31 − 1). */
  maxElements?: number;
}

interface ElementType {
  name: string;
  bytes: number;
}

const STORAGE_TYPES: Record<string, ElementType> = {
  FloatStorage: { name: 'float32', bytes: 4 },
  DoubleStorage: { name: 'float64', bytes: 8 },
  HalfStorage: { name: 'float16', bytes: 2 },
  BFloat16Storage: { name: 'bfloat16', bytes: 2 },
  LongStorage: { name: 'int64', bytes: 8 },
  IntStorage: { name: 'int32', bytes: 4 },
  ShortStorage: { name: 'int16', bytes: 2 },
  CharStorage: { name: 'int8', bytes: 1 },
  ByteStorage: { name: 'uint8', bytes: 1 },
  BoolStorage: { name: 'bool', bytes: 1 },
  UntypedStorage: { name: 'uint8', bytes: 1 },
};

const NUMPY_TYPES: Record<string, ElementType> = {
  f4: { name: 'float32', bytes: 4 },
  f8: { name: 'float64', bytes: 8 },
  f2: { name: 'float16', bytes: 2 },
  i1: { name: 'int8', bytes: 1 },
  i2: { name: 'int16', bytes: 2 },
  i4: { name: 'int32', bytes: 4 },
  i8: { name: 'int64', bytes: 8 },
  u1: { name: 'uint8', bytes: 1 },
  u2: { name: 'uint16', bytes: 2 },
  u4: { name: 'uint32', bytes: 4 },
  b1: { name: 'bool', bytes: 1 },
};

/** A storage of a torch archive (`<root>/data/<key>`), typed by its storage class. */
class TorchStorage {
  constructor(
    readonly type: ElementType,
    readonly key: string,
    readonly bytes: Uint8Array,
  ) {}
  get numel(): number {
    return Math.floor(this.bytes.byteLength / this.type.bytes);
  }
}

class NumpyDtype {
  byteorder = '<';
  constructor(readonly type: ElementType) {}
}

class PendingNdarray {
  value: ArrayValue | undefined;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Reads `count` little-endian elements starting at element 0 of `bytes` as a JS typed array of the widened dtype. */
function decodeElements(bytes: Uint8Array, type: ElementType, count: number, littleEndian = true): { dtype: StateDtype; data: StateArray } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = count;
  switch (type.name) {
    case 'float32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, littleEndian);
      return { dtype: 'float32', data: out };
    }
    case 'float64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, littleEndian);
      return { dtype: 'float64', data: out };
    }
    case 'float16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, littleEndian));
      return { dtype: 'float32', data: out };
    }
    case 'bfloat16': {
      const out = new Float32Array(n);
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < n; i++) {
        tmp.setUint32(0, view.getUint16(i * 2, littleEndian) << 16);
        out[i] = tmp.getFloat32(0);
      }
      return { dtype: 'float32', data: out };
    }
    case 'int64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getBigInt64(i * 8, littleEndian);
      return { dtype: 'int64', data: out };
    }
    case 'uint32': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(view.getUint32(i * 4, littleEndian));
      return { dtype: 'int64', data: out };
    }
    case 'int32':
    case 'int16':
    case 'int8':
    case 'uint16':
    case 'uint8': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        out[i] =
          type.name === 'int32'
            ? view.getInt32(i * 4, littleEndian)
            : type.name === 'int16'
              ? view.getInt16(i * 2, littleEndian)
              : type.name === 'uint16'
                ? view.getUint16(i * 2, littleEndian)
                : type.name === 'int8'
                  ? view.getInt8(i)
                  : view.getUint8(i);
      }
      return { dtype: 'int32', data: out };
    }
    case 'bool': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = bytes[i]! ? 1 : 0;
      return { dtype: 'bool', data: out };
    }
    default:
      throw new UnsupportedError(`Unsupported element type ${type.name}.`);
  }
}

function asIntList(v: unknown, what: string): number[] {
  const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : undefined;
  if (!items?.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
    throw new FileFormatError(`${what} must be a tuple of non-negative integers.`);
  }
  return items as number[];
}

/**
 * Copies the strided view `(offset, shape, strides)` of a storage with `available` elements into a dense array,
 * after checking that every index lies inside the storage.
 */
function materialise(
  bytes: Uint8Array,
  type: ElementType,
  available: number,
  offset: number,
  shape: readonly number[],
  strides: readonly number[],
  limits: ReadLimits,
  what: string,
  littleEndian = true,
): { dtype: StateDtype; data: StateArray } {
  if (shape.length !== strides.length)
    throw new FileFormatError(`${what}: size ${JSON.stringify(shape)} and stride ${JSON.stringify(strides)} differ in rank.`);
  const maxElements = limits.maxElements ?? 2 ** 31 - 1;
  let numel = 1;
  for (const s of shape) {
    numel *= s;
    if (numel > maxElements) throw new FileFormatError(`${what}: ${JSON.stringify(shape)} has more than ${maxElements} elements.`);
  }
  if (numel > 0) {
    let last = offset;
    for (let i = 0; i < shape.length; i++) last += (shape[i]! - 1) * strides[i]!;
    if (!Number.isSafeInteger(last) || last >= available) {
      throw new FileFormatError(
        `${what}: size ${JSON.stringify(shape)}, stride ${JSON.stringify(strides)} and offset ${offset} reach element ${last}, but the storage has ${available} elements.`,
      );
    }
  } else if (offset > available) {
    throw new FileFormatError(`${what}: offset ${offset} is outside the storage of ${available} elements.`);
  }
  // contiguous fast path
  let contiguous = true;
  let expect = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i]! !== 1 && strides[i]! !== expect) contiguous = false;
    expect *= shape[i]!;
  }
  const b = type.bytes;
  if (contiguous) return decodeElements(bytes.subarray(offset * b, (offset + numel) * b), type, numel, littleEndian);
  const dense = new Uint8Array(numel * b);
  const index = new Array<number>(shape.length).fill(0);
  let src = offset;
  for (let k = 0; k < numel; k++) {
    dense.set(bytes.subarray(src * b, src * b + b), k * b);
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]!++;
      src += strides[d]!;
      if (index[d]! < shape[d]!) break;
      src -= strides[d]! * shape[d]!;
      index[d] = 0;
    }
  }
  return decodeElements(dense, type, numel, littleEndian);
}

function rebuildTensor(args: readonly unknown[], limits: ReadLimits): ArrayValue {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof TorchStorage))
    throw new FileFormatError('_rebuild_tensor_v2: the first argument is not a storage of this archive.');
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
    throw new FileFormatError(`tensor storage offset ${String(offset)} is invalid.`);
  const shape = asIntList(size, 'tensor size');
  const strides = asIntList(stride, 'tensor stride');
  const { dtype, data } = materialise(
    storage.bytes,
    storage.type,
    storage.numel,
    offset,
    shape,
    strides,
    limits,
    `tensor in storage ${storage.key}`,
  );
  return new ArrayValue('tensor', dtype, shape, data, storage.type.name);
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

function numpyType(descr: unknown): ElementType {
  const code = typeof descr === 'string' ? descr.replace(/^[<>=|]/, '') : '';
  const alias: Record<string, string> = {
    float32: 'f4',
    float64: 'f8',
    float16: 'f2',
    int8: 'i1',
    int16: 'i2',
    int32: 'i4',
    int64: 'i8',
    uint8: 'u1',
    uint16: 'u2',
    uint32: 'u4',
    bool: 'b1',
    '?': 'b1',
  };
  const t = NUMPY_TYPES[alias[code] ?? code];
  if (!t) throw new UnsupportedError(`numpy dtype ${JSON.stringify(descr)} is not supported (numeric and bool dtypes only).`);
  return t;
}

/** The recognisers used for torch archives and data pickles: pure functions building data values. */
export function dataRecognisers(limits: ReadLimits = {}): Map<string, Recogniser> {
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
  for (const m of ['collections', 'builtins', '__builtin__']) r.set(`${m}.${m === 'collections' ? 'OrderedDict' : 'dict'}`, dict);
  for (const m of ['builtins', '__builtin__']) {
    r.set(`${m}.list`, (args) => (Array.isArray(args[0]) ? [...args[0]] : args[0] instanceof PyTuple ? [...args[0].items] : []));
    r.set(`${m}.tuple`, (args) => new PyTuple(Array.isArray(args[0]) ? [...args[0]] : args[0] instanceof PyTuple ? args[0].items : []));
  }
  const tensor: Recogniser = (args) => rebuildTensor(args, limits);
  r.set('torch._utils._rebuild_tensor_v2', tensor);
  r.set('torch._utils._rebuild_tensor', tensor);
  const parameter: Recogniser = (args) => {
    if (!(args[0] instanceof ArrayValue)) throw new FileFormatError('_rebuild_parameter: the data is not a tensor.');
    return args[0];
  };
  r.set('torch._utils._rebuild_parameter', parameter);
  r.set('torch._utils._rebuild_parameter_with_state', parameter);
  r.set('_codecs.encode', (args) => {
    if (typeof args[0] !== 'string') throw new FileFormatError('_codecs.encode: expected a string.');
    const enc = String(args[1] ?? 'utf-8').toLowerCase();
    return new PyBytes(enc === 'latin1' || enc === 'latin-1' ? latin1Bytes(args[0]) : new TextEncoder().encode(args[0]));
  });
  for (const m of ['numpy.core.multiarray', 'numpy._core.multiarray']) {
    r.set(`${m}._reconstruct`, () => new PendingNdarray());
    r.set(`${m}.scalar`, (args) => {
      const dt = args[0];
      const raw = args[1];
      if (!(dt instanceof NumpyDtype) || !(raw instanceof PyBytes)) throw new FileFormatError('numpy scalar: expected (dtype, bytes).');
      if (raw.bytes.byteLength < dt.type.bytes) throw new FileFormatError('numpy scalar: not enough bytes.');
      const { data } = decodeElements(raw.bytes, dt.type, 1, dt.byteorder !== '>');
      const v = data[0]!;
      return typeof v === 'bigint'
        ? v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(v)
          : v
        : dt.type.name === 'bool'
          ? v !== 0
          : v;
    });
  }
  r.set('numpy.dtype', (args) => new NumpyDtype(numpyType(args[0])));
  for (const p of ['pathlib.PosixPath', 'pathlib.WindowsPath', 'pathlib.PurePosixPath', 'pathlib.PureWindowsPath', 'pathlib.Path']) {
    r.set(p, (args) => args.filter((a) => typeof a === 'string').join('/'));
  }
  r.set('torch.device', (args) => args.map(String).join(':'));
  return r;
}

/** BUILD handler completing numpy arrays and dtypes. */
export function dataBuildHandler(limits: ReadLimits = {}) {
  return (target: unknown, state: unknown): boolean => {
    if (target instanceof NumpyDtype) {
      const items = state instanceof PyTuple ? state.items : [];
      if (typeof items[1] === 'string') target.byteorder = items[1];
      return true;
    }
    if (target instanceof PendingNdarray) {
      const items = state instanceof PyTuple ? state.items : [];
      const [, shapeV, dt, fortran, raw] = items;
      if (!(dt instanceof NumpyDtype)) throw new FileFormatError('numpy array: missing dtype in its state.');
      const shape = asIntList(shapeV, 'numpy array shape');
      if (!(raw instanceof PyBytes)) {
        throw new UnsupportedError('numpy arrays of Python objects (dtype=object) are not supported: they would need code execution.');
      }
      const n = shape.reduce((a, b) => a * b, 1);
      const strides = new Array<number>(shape.length);
      let acc = 1;
      if (fortran === true) {
        for (let i = 0; i < shape.length; i++) {
          strides[i] = acc;
          acc *= shape[i]!;
        }
      } else {
        for (let i = shape.length - 1; i >= 0; i--) {
          strides[i] = acc;
          acc *= shape[i]!;
        }
      }
      const available = Math.floor(raw.bytes.byteLength / dt.type.bytes);
      if (n > available) throw new FileFormatError(`numpy array ${JSON.stringify(shape)} needs ${n} elements, its data has ${available}.`);
      const { dtype, data } = materialise(raw.bytes, dt.type, available, 0, shape, strides, limits, 'numpy array', dt.byteorder !== '>');
      target.value = new ArrayValue('ndarray', dtype, shape, data, dt.type.name);
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

export interface ReadPickleOptions extends ReadLimits {
  /** `error` refuses any global that is not a known data type (default `inert`: unknown globals become inert records). */
  unknownGlobals?: 'inert' | 'error';
  source?: string;
}

const INERT_OK =
  /^(omegaconf\.|typing\.|builtins\.(object|int|float|str|bool|long)$|__builtin__\.(object|int|float|str|bool|long)$|collections\.defaultdict$|pytorch_lightning\.utilities\.parsing\.AttributeDict$|lightning\.(pytorch\.)?utilities\.parsing\.AttributeDict$|lightning_fabric\.utilities\.data\.AttributeDict$|torch\.(float|double|half|bfloat16|int|long|short|int8|uint8|bool|float16|float32|float64|int16|int32|int64)$|enum\.|numpy\.ndarray$|numpy\.core\.multiarray\._reconstruct$)/;

/** Parses a plain pickle (e.g. numpy data, `data_info_*.pkl`) into inert values (see {@link unpickle}). */
export function readPickle(bytes: Uint8Array, options: ReadPickleOptions = {}): unknown {
  const value = unpickle(bytes, {
    recognisers: dataRecognisers(options),
    build: dataBuildHandler(options),
    source: options.source ?? 'pickle',
    unknownGlobals: options.unknownGlobals ?? 'inert',
    allowInert: (g) => INERT_OK.test(g.path) || g.path.startsWith('numpy.'),
  });
  return finishNdarrays(value);
}

/**
 * Reads a torch zip archive (`torch.save` ≥ 1.6, Lightning `.ckpt`): finds `<root>/data.pkl`, parses it with
 * storages resolved from `<root>/data/<key>`, tensors materialised (strides and offsets honoured and checked).
 * Returns inert values (see {@link unpickle}): `PyDict`s, `ArrayValue`s, omegaconf nodes as `PyObject`s.
 */
export function readTorchArchive(bytes: Uint8Array, options: ReadPickleOptions = {}): unknown {
  const source = options.source ?? 'torch archive';
  if (bytes.byteLength >= 2 && bytes[0] === 0x80 && bytes[1]! <= 5) {
    throw new UnsupportedError(
      `${source}: this is a legacy (pre-zip, torch < 1.6) torch file or a plain pickle; re-save it with a current torch.save, or read plain pickles with readPickle.`,
    );
  }
  if (!(bytes.byteLength >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b)) {
    throw new FileFormatError(
      `${source}: not a zip archive (a torch .pt/.ckpt file starts with "PK"); the file may be truncated or of another format.`,
    );
  }
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (cause) {
    throw new FileFormatError(`${source}: the zip archive is corrupt or truncated (${(cause as Error).message}).`, { cause });
  }
  const pkls = Object.keys(files).filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length !== 1) {
    throw new FileFormatError(
      `${source}: expected exactly one <root>/data.pkl in the archive, found ${pkls.length} (${Object.keys(files).slice(0, 5).join(', ')}).`,
    );
  }
  const root = pkls[0]!.slice(0, -'/data.pkl'.length);
  const byteorder = files[`${root}/byteorder`];
  if (byteorder && new TextDecoder().decode(byteorder).trim() === 'big') {
    throw new UnsupportedError(`${source}: big-endian torch archives are not supported.`);
  }
  const persistentLoad = (pid: unknown): unknown => {
    const items = pid instanceof PyTuple ? pid.items : [];
    if (items[0] !== 'storage') throw new FileFormatError(`${source}: unknown persistent id ${JSON.stringify(String(items[0]))}.`);
    const [, cls, key] = items;
    const type = cls instanceof PyGlobal && cls.module.startsWith('torch') ? STORAGE_TYPES[cls.name] : undefined;
    if (!type) throw new UnsupportedError(`${source}: storage type ${cls instanceof PyGlobal ? cls.path : String(cls)} is not supported.`);
    if (typeof key !== 'string' || !/^[\w.-]+$/.test(key))
      throw new FileFormatError(`${source}: invalid storage key ${JSON.stringify(String(key))}.`);
    const data = files[`${root}/data/${key}`];
    if (!data) throw new FileFormatError(`${source}: storage ${root}/data/${key} is missing from the archive (truncated?).`);
    return new TorchStorage(type, key, data);
  };
  const value = unpickle(files[pkls[0]!]!, {
    recognisers: dataRecognisers(options),
    build: dataBuildHandler(options),
    persistentLoad,
    source: `${source} (${pkls[0]})`,
    unknownGlobals: options.unknownGlobals ?? 'inert',
    allowInert: (g) => INERT_OK.test(g.path) || /^torch\.\w+Storage$/.test(g.path),
  });
  return finishNdarrays(value);
}
