import { FileFormatError, UnsupportedError } from '@openretina/contracts';
import { NameRegistry, Parser } from 'pickleparser';
import type { NdArray } from './ndarray.js';

const NUMPY_CODES: Record<string, (buf: ArrayBuffer, n: number) => NdArray['data']> = {
  f4: (b, n) => new Float32Array(b, 0, n),
  f8: (b, n) => new Float64Array(b, 0, n),
  f2: (b, n) => float16ToFloat32(new Uint16Array(b, 0, n)),
  i1: (b, n) => new Int8Array(b, 0, n),
  u1: (b, n) => new Uint8Array(b, 0, n),
  b1: (b, n) => new Uint8Array(b, 0, n),
  i2: (b, n) => new Int16Array(b, 0, n),
  u2: (b, n) => new Uint16Array(b, 0, n),
  i4: (b, n) => new Int32Array(b, 0, n),
  u4: (b, n) => new Uint32Array(b, 0, n),
  i8: (b, n) => new BigInt64Array(b, 0, n),
  u8: (b, n) => new BigUint64Array(b, 0, n),
};

/** Converts IEEE half floats to float32. */
export function float16ToFloat32(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const v = h[i]!;
    const s = v & 0x8000 ? -1 : 1;
    const e = (v >> 10) & 0x1f;
    const m = v & 0x3ff;
    out[i] = e === 0 ? s * 2 ** -14 * (m / 1024) : e === 31 ? (m ? NaN : s * Infinity) : s * 2 ** (e - 15) * (1 + m / 1024);
  }
  return out;
}

class PickledDtype {
  descr: string;
  order = '<';
  constructor(descr: unknown) {
    this.descr = String(descr);
  }
  __setstate__(state: unknown[]): void {
    if (Array.isArray(state) && typeof state[1] === 'string') this.order = state[1];
  }
  get code(): string {
    const m = /^[<>|=]?([a-z])(\d+)$/i.exec(this.descr);
    if (m) return `${m[1]!.toLowerCase()}${m[2]}`;
    const named: Record<string, string> = {
      float32: 'f4',
      float64: 'f8',
      float16: 'f2',
      int8: 'i1',
      uint8: 'u1',
      bool: 'b1',
      int16: 'i2',
      uint16: 'u2',
      int32: 'i4',
      uint32: 'u4',
      int64: 'i8',
      uint64: 'u8',
    };
    return named[this.descr] ?? this.descr;
  }
}

function toBytes(raw: unknown): Uint8Array {
  if (raw instanceof Uint8Array) return raw;
  if (ArrayBuffer.isView(raw)) return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  if (typeof raw === 'string') return Uint8Array.from(raw, (ch) => ch.charCodeAt(0) & 255);
  throw new UnsupportedError(`Unsupported pickled array payload (${typeof raw}).`);
}

/** Reverses the axes of a C-ordered array (turns Fortran-ordered data into C order). */
function reverseAxes(data: NdArray['data'], shape: number[]): NdArray['data'] {
  if (shape.length < 2) return data;
  const src = data as ArrayLike<unknown> & { constructor: new (n: number) => unknown };
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new src.constructor(n) as unknown[] & ArrayLike<unknown>;
  const rev = [...shape].reverse(); // data is C-order over rev
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    // idx is the C index over `shape`; source index is C-order over rev with reversed idx
    let s = 0;
    for (let k = 0; k < rev.length; k++) s = s * rev[k]! + idx[shape.length - 1 - k]!;
    (out as unknown[])[i] = src[s];
    for (let k = shape.length - 1; k >= 0; k--) {
      if (++idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return out as unknown as NdArray['data'];
}

class PickledNdArray implements NdArray {
  data: NdArray['data'] = new Float32Array(0);
  shape: number[] = [];
  dtype = '';
  __setstate__(state: unknown[]): void {
    const s = state.length === 5 ? state.slice(1) : state; // (version, shape, dtype, fortran, data)
    const [shape, dtype, fortran, raw] = s as [unknown[], PickledDtype, boolean, unknown];
    this.shape = shape.map((x) => Number(x));
    const count = this.shape.reduce((a, b) => a * b, 1);
    this.dtype = `${dtype.order}${dtype.code}`;
    if (Array.isArray(raw)) {
      this.data = raw;
    } else {
      const make = NUMPY_CODES[dtype.code];
      if (!make) throw new UnsupportedError(`Unsupported numpy dtype "${dtype.descr}" in a pickle.`);
      if (dtype.order === '>' && !['i1', 'u1', 'b1'].includes(dtype.code))
        throw new UnsupportedError('Big-endian numpy arrays in pickles are not supported.');
      const bytes = toBytes(raw);
      const size = Number(/\d+$/.exec(dtype.code)![0]);
      if (bytes.length < count * size)
        throw new FileFormatError(`Pickled array of shape [${this.shape.join(', ')}] has ${bytes.length} bytes, needs ${count * size}.`);
      const buf = new ArrayBuffer(count * size);
      new Uint8Array(buf).set(bytes.subarray(0, count * size));
      this.data = make(buf, count);
    }
    if (fortran) this.data = reverseAxes(this.data, this.shape);
  }
}

function numpyScalar(dtype: PickledDtype, raw: unknown): number | bigint {
  const make = NUMPY_CODES[dtype.code];
  if (!make) throw new UnsupportedError(`Unsupported numpy scalar dtype "${dtype.descr}".`);
  const bytes = toBytes(raw);
  const buf = new ArrayBuffer(bytes.length);
  new Uint8Array(buf).set(bytes);
  const v = (make(buf, 1) as ArrayLike<number | bigint>)[0]!;
  return typeof v === 'bigint' ? Number(v) : v;
}

function makeRegistry(): NameRegistry {
  const reg = new NameRegistry();
  const reconstruct = () => new PickledNdArray();
  const dtype = function (this: unknown, descr: unknown) {
    return new PickledDtype(descr);
  } as unknown as new (
    ...args: unknown[]
  ) => unknown;
  for (const mod of ['numpy.core.multiarray', 'numpy._core.multiarray']) {
    reg.register(mod, '_reconstruct', reconstruct);
    reg.register(mod, 'scalar', (d: PickledDtype, raw: unknown) => numpyScalar(d, raw));
  }
  reg.register('numpy', 'dtype', dtype);
  reg.register('numpy', 'ndarray', reconstruct);
  reg.register('_codecs', 'encode', (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0) & 255));
  return reg;
}

/**
 * Unpickles Python data with numpy arrays (pickle protocols 0–5, numpy 1.x and 2.x names): arrays become
 * {@link NdArray}s (C order), numpy scalars numbers, dicts plain objects, tuples and lists arrays.
 */
export function unpickle(bytes: Uint8Array, source = 'pickle'): unknown {
  try {
    return new Parser({ nameResolver: makeRegistry(), unpicklingTypeOfDictionary: 'object' }).parse(bytes);
  } catch (error) {
    if (error instanceof UnsupportedError || error instanceof FileFormatError) throw error;
    throw new FileFormatError(`${source}: cannot unpickle (${error instanceof Error ? error.message : String(error)}).`, { cause: error });
  }
}
