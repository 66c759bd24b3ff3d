import { FileFormatError, UnsupportedError, type StateArray, type StateDtype } from '@openretina/contracts';
import { bfloat16ToFloat32, float16ToFloat32 } from './float16.js';

/*
 * The one element-type table of every reader here: numpy type codes, torch storage classes and safetensors dtypes
 * of the same element type are one row, with the state-dict dtype it widens to.
 */

export type ElementTypeName =
  | 'float16'
  | 'bfloat16'
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool';

/** One element type and its names in numpy, torch and safetensors. */
export interface ElementType {
  readonly name: ElementTypeName;
  /** Bytes per element. */
  readonly bytes: number;
  /** numpy's type code (`f4`, `i8`, `b1`, …); bfloat16 has none. */
  readonly numpy: string | undefined;
  /** torch's typed storage class (`FloatStorage`, …). */
  readonly torchStorage: string | undefined;
  /** safetensors' dtype (`F32`, `BF16`, …). */
  readonly safetensors: string;
  /** The state-dict dtype it is read as (half floats become float32, small integers int32, uint32/uint64 int64). */
  readonly stateDtype: StateDtype;
}

const row = (
  name: ElementTypeName,
  bytes: number,
  numpy: string | undefined,
  torchStorage: string | undefined,
  safetensors: string,
  stateDtype: StateDtype,
): ElementType => ({ name, bytes, numpy, torchStorage, safetensors, stateDtype });

/** Every element type the readers know. */
export const ELEMENT_TYPES: readonly ElementType[] = [
  row('float32', 4, 'f4', 'FloatStorage', 'F32', 'float32'),
  row('float64', 8, 'f8', 'DoubleStorage', 'F64', 'float64'),
  row('float16', 2, 'f2', 'HalfStorage', 'F16', 'float32'),
  row('bfloat16', 2, undefined, 'BFloat16Storage', 'BF16', 'float32'),
  row('int8', 1, 'i1', 'CharStorage', 'I8', 'int32'),
  row('int16', 2, 'i2', 'ShortStorage', 'I16', 'int32'),
  row('int32', 4, 'i4', 'IntStorage', 'I32', 'int32'),
  row('int64', 8, 'i8', 'LongStorage', 'I64', 'int64'),
  row('uint8', 1, 'u1', 'ByteStorage', 'U8', 'int32'),
  row('uint16', 2, 'u2', 'UInt16Storage', 'U16', 'int32'),
  row('uint32', 4, 'u4', 'UInt32Storage', 'U32', 'int64'),
  row('uint64', 8, 'u8', 'UInt64Storage', 'U64', 'int64'),
  row('bool', 1, 'b1', 'BoolStorage', 'BOOL', 'bool'),
];

const BY_NAME = new Map(ELEMENT_TYPES.map((t) => [t.name, t]));
const BY_NUMPY_CODE = new Map(ELEMENT_TYPES.filter((t) => t.numpy).map((t) => [t.numpy!, t]));
const BY_TORCH_STORAGE = new Map(ELEMENT_TYPES.filter((t) => t.torchStorage).map((t) => [t.torchStorage!, t]));
const BY_SAFETENSORS = new Map(ELEMENT_TYPES.map((t) => [t.safetensors, t]));
// Untyped storages (torch ≥ 2) hold bytes; the tensor's own dtype is not recorded for them in the pickle.
BY_TORCH_STORAGE.set('UntypedStorage', BY_NAME.get('uint8')!);

/** The element type called `name` (`float32`, `bfloat16`, …), or undefined. */
export function elementType(name: string): ElementType | undefined {
  return BY_NAME.get(name as ElementTypeName);
}

/** The element type a state-dict dtype is stored as. */
export function stateElementType(dtype: StateDtype): ElementType {
  return BY_NAME.get(dtype)!;
}

/** The element type of a torch storage class name (`FloatStorage`, `UntypedStorage`, …), or undefined. */
export function torchStorageElementType(storageClass: string): ElementType | undefined {
  return BY_TORCH_STORAGE.get(storageClass);
}

/** The element type of a safetensors dtype (`F32`, `BF16`, …), or undefined. */
export function safetensorsElementType(code: string): ElementType | undefined {
  return BY_SAFETENSORS.get(code);
}

/** A numpy dtype: its element type and byte order (`<` little, `>` big, `|` not applicable, `=` native). */
export interface NumpyDtype {
  readonly type: ElementType;
  readonly byteOrder: '<' | '>' | '|' | '=';
}

/**
 * Parses a numpy dtype description: a type string (`'<f4'`, `'|b1'`, `'u1'`, `'?'`) or a name (`'float32'`,
 * `'bool'`). Undefined for anything else (strings, objects, structured or complex dtypes).
 */
export function numpyDtype(descr: string): NumpyDtype | undefined {
  const m = /^([<>|=]?)(.+)$/.exec(descr);
  if (!m) return undefined;
  const [, order, body] = m as unknown as [string, string, string];
  const code = body === '?' ? 'b1' : /^[a-z]\d+$/i.test(body) ? body.toLowerCase() : BY_NAME.get(body as ElementTypeName)?.numpy;
  const type = code === undefined ? undefined : BY_NUMPY_CODE.get(code);
  if (!type) return undefined;
  return { type, byteOrder: (order || (type.bytes === 1 ? '|' : '=')) as NumpyDtype['byteOrder'] };
}

/** True when data of this numpy byte order is little-endian (`=` is the machine's order; `|` does not matter). */
export function isLittleEndianOrder(byteOrder: NumpyDtype['byteOrder']): boolean {
  return byteOrder === '<' || (byteOrder !== '>' && HOST_LITTLE_ENDIAN);
}

/** The typed arrays elements are decoded into (half floats as float32, bools as 0/1 bytes). */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** True when this machine stores numbers little-endian (every current browser and Node platform). */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** True when data of this element type and byte order can be viewed without swapping bytes on this machine. */
export function isNativeOrder(type: ElementType, littleEndian: boolean): boolean {
  return type.bytes === 1 || littleEndian === HOST_LITTLE_ENDIAN;
}

/** Reverses the bytes of every `width`-byte element of `bytes`, in place; returns `bytes`. */
export function swapByteOrder(bytes: Uint8Array, width: number): Uint8Array {
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
  return bytes;
}

/**
 * Decodes `count` elements from the start of `bytes` into a typed array of their own (an aligned copy; bytes swapped
 * when the data's byte order is not the machine's). float16 and bfloat16 become float32; bools become 0/1.
 */
export function decodeElements(bytes: Uint8Array, type: ElementType, count: number, littleEndian = true): NumericArray {
  const n = count * type.bytes;
  if (!Number.isSafeInteger(n) || n < 0 || bytes.byteLength < n) {
    throw new FileFormatError(`${count} ${type.name} elements need ${n} bytes, the data has ${bytes.byteLength}.`);
  }
  // Uint8Array.prototype.slice copies (a Node Buffer's own slice would be a view) into a buffer aligned at 0.
  const copy = Uint8Array.prototype.slice.call(bytes, 0, n);
  if (!isNativeOrder(type, littleEndian)) swapByteOrder(copy, type.bytes);
  const buf = copy.buffer;
  switch (type.name) {
    case 'float32':
      return new Float32Array(buf);
    case 'float64':
      return new Float64Array(buf);
    case 'float16':
      return float16ToFloat32(new Uint16Array(buf));
    case 'bfloat16':
      return bfloat16ToFloat32(new Uint16Array(buf));
    case 'int8':
      return new Int8Array(buf);
    case 'int16':
      return new Int16Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'int64':
      return new BigInt64Array(buf);
    case 'uint8':
      return copy;
    case 'uint16':
      return new Uint16Array(buf);
    case 'uint32':
      return new Uint32Array(buf);
    case 'uint64':
      return new BigUint64Array(buf);
    case 'bool':
      for (let i = 0; i < n; i++) copy[i] = copy[i] ? 1 : 0;
      return copy;
  }
}

const INT64_MAX = 2n ** 63n - 1n;

/** Widens decoded elements of `type` to its state-dict dtype (a copy only where the array type changes). */
export function toStateArray(data: NumericArray, type: ElementType): { dtype: StateDtype; data: StateArray } {
  const dtype = type.stateDtype;
  switch (dtype) {
    case 'float32':
      return { dtype, data: data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>) };
    case 'float64':
      return { dtype, data: data instanceof Float64Array ? data : Float64Array.from(data as ArrayLike<number>) };
    case 'int32':
      return { dtype, data: data instanceof Int32Array ? data : Int32Array.from(data as ArrayLike<number>) };
    case 'bool':
      return { dtype, data: data instanceof Uint8Array ? data : Uint8Array.from(data as ArrayLike<number>, (v) => (v ? 1 : 0)) };
    case 'int64': {
      if (data instanceof BigInt64Array) return { dtype, data };
      if (data instanceof BigUint64Array) {
        for (const v of data) {
          if (v > INT64_MAX) throw new UnsupportedError(`uint64 value ${v} does not fit the int64 it is read as.`);
        }
        return { dtype, data: new BigInt64Array(data.buffer, data.byteOffset, data.length) };
      }
      return { dtype, data: BigInt64Array.from(data as ArrayLike<number>, (v) => BigInt(v)) };
    }
  }
}

/** Converts decoded numbers to float32 (a copy unless they already are float32; int64 through `Number`). */
export function toFloat32(data: NumericArray | ArrayLike<number>): Float32Array {
  if (data instanceof Float32Array) return data;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Float32Array.from(data, (v) => Number(v));
  // the constructor converts a typed array natively, about twice as fast as `from` (same values)
  return new Float32Array(data as ArrayLike<number>);
}
