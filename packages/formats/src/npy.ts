import { FileFormatError, UnsupportedError, formatShape } from '@openretina/contracts';
import { unzipSync } from 'fflate';
import {
  HOST_LITTLE_ENDIAN,
  type ElementType,
  type NumericArray,
  decodeElements,
  isLittleEndianOrder,
  numpyDtype,
  swapByteOrder,
} from './dtypes.js';

/** Typed arrays an `.npy` file is read into (float16 as float32, bool as 0/1 bytes). */
export type NpyData = NumericArray;

/** A parsed `.npy` array: row-major data, its shape and its numpy dtype string (e.g. `'<f4'`). */
export interface NpyArray {
  data: NpyData;
  shape: number[];
  dtype: string;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function parseHeaderDict(header: string, source: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new FileFormatError(`${source}: malformed .npy header ${JSON.stringify(header.trim())}.`);
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const v = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(v) || v < 0) throw new FileFormatError(`${source}: bad shape entry "${s}" in .npy header.`);
      return v;
    });
  return { descr, fortran: fortran === 'True', shape };
}

/** The header of an `.npy` file: where its C-ordered data starts and how to decode it. */
export interface NpyHeader {
  /** numpy dtype string, e.g. `'<f4'`. */
  dtype: string;
  shape: number[];
  /** Byte offset of the first element. */
  dataOffset: number;
  /** Element type of the data. */
  type: ElementType;
  littleEndian: boolean;
}

/**
 * Parses the header of an `.npy` file from its first bytes (enough to hold the header; the data may be absent), as
 * {@link parseNpy} does: lets a reader decode parts of a large array at byte offsets instead of reading it whole.
 */
export function parseNpyHeader(bytes: Uint8Array, source = '.npy'): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new FileFormatError(`${source}: not an .npy file (missing the \\x93NUMPY magic).`);
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let offset: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    offset = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new FileFormatError(`${source}: truncated .npy header.`);
    headerLen = view.getUint32(8, true);
    offset = 12;
  } else {
    throw new FileFormatError(`${source}: unsupported .npy format version ${major}.`);
  }
  if (offset + headerLen > bytes.length) throw new FileFormatError(`${source}: truncated .npy header.`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(offset, offset + headerLen));
  const { descr, fortran, shape } = parseHeaderDict(header, source);
  const parsed = numpyDtype(descr);
  if (!parsed) throw new UnsupportedError(`${source}: unsupported .npy dtype "${descr}".`);
  if (fortran && shape.length > 1) {
    throw new UnsupportedError(`${source}: Fortran-ordered .npy arrays are not supported (shape ${formatShape(shape)}).`);
  }
  return { dtype: descr, shape, dataOffset: offset + headerLen, type: parsed.type, littleEndian: isLittleEndianOrder(parsed.byteOrder) };
}

/**
 * Parses an `.npy` file (format versions 1–3): every numeric and bool dtype of the shared table (`f2 f4 f8 i1 i2 i4 i8
 * u1 u2 u4 u8 b1`, either byte order) in C order, float16 decoded to float32. Fortran order, strings and object
 * arrays are refused with a clear error.
 */
export function parseNpy(bytes: Uint8Array, source = '.npy'): NpyArray {
  const { dtype, shape, dataOffset, type, littleEndian } = parseNpyHeader(bytes, source);
  const count = shape.reduce((a, b) => a * b, 1);
  const nbytes = count * type.bytes;
  if (bytes.length - dataOffset < nbytes) {
    throw new FileFormatError(
      `${source}: truncated .npy data: shape ${formatShape(shape)} of "${dtype}" needs ${nbytes} bytes, found ${bytes.length - dataOffset}.`,
    );
  }
  const data = decodeElements(bytes.subarray(dataOffset), type, count, littleEndian);
  return { data, shape, dtype };
}

/** Arrays {@link serializeNpy} writes, one numpy dtype each (`<f4 <f8 |i1 <i2 <i4 <i8 |u1 <u2 <u4 <u8`). */
export type NpyWritable =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

function writableDescr(data: NpyWritable): string {
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Float64Array) return '<f8';
  if (data instanceof Int8Array) return '|i1';
  if (data instanceof Int16Array) return '<i2';
  if (data instanceof Int32Array) return '<i4';
  if (data instanceof BigInt64Array) return '<i8';
  if (data instanceof Uint8Array) return '|u1';
  if (data instanceof Uint16Array) return '<u2';
  if (data instanceof Uint32Array) return '<u4';
  if (data instanceof BigUint64Array) return '<u8';
  throw new UnsupportedError(`serializeNpy: no .npy dtype for ${Object.prototype.toString.call(data)}.`);
}

/**
 * Serialises a C-order array as an `.npy` file (format 1.0), byte-identical to `np.save`: the dtype follows the
 * typed array (`Float32Array` → `<f4`, `BigInt64Array` → `<i8`, `Uint8Array` → `|u1`, …). `descr` overrides it for
 * other layouts of the same bytes, e.g. `|b1` for 0/1 bytes or `|S4` for fixed-length byte strings (`Uint8Array`
 * data, 4 bytes per element); `shape` counts elements of that dtype.
 */
export function serializeNpy(data: NpyWritable, shape: readonly number[], descr?: string): Uint8Array {
  const dtype = descr ?? writableDescr(data);
  const code = /^[<>|=]?([a-zA-Z])(\d+)$/.exec(dtype);
  // unicode strings (`<U4`) count characters of 4 bytes; every other dtype counts bytes
  const itemBytes = code ? Number(code[2]) * (code[1] === 'U' ? 4 : 1) : Number.NaN;
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isInteger(itemBytes) || count * itemBytes !== data.byteLength) {
    throw new FileFormatError(
      `serializeNpy: shape ${formatShape(shape)} of ${dtype} needs ${count} values (${count * (itemBytes || 0)} bytes), got ${data.length} (${data.byteLength} bytes).`,
    );
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // pad with spaces so that magic + version + length + header (ending in \n) is a multiple of 64
  const total = 10 + header.length + 1;
  header += `${' '.repeat((64 - (total % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  out.set(body, 10 + header.length);
  // the body is little-endian: swap multi-byte elements on a big-endian host (strings are bytes already)
  if (!HOST_LITTLE_ENDIAN && data.BYTES_PER_ELEMENT > 1) swapByteOrder(out.subarray(10 + header.length), data.BYTES_PER_ELEMENT);
  return out;
}

/** Parses an `.npz` archive (a zip of `.npy` files, stored or deflated) into named arrays. */
export function parseNpz(bytes: Uint8Array, source = '.npz'): Record<string, NpyArray> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (error) {
    throw new FileFormatError(`${source}: not a valid .npz (zip) archive.`, { cause: error });
  }
  const out: Record<string, NpyArray> = {};
  for (const [name, content] of Object.entries(files)) {
    if (!name.endsWith('.npy')) continue;
    out[name.slice(0, -4)] = parseNpy(content, `${source}:${name}`);
  }
  return out;
}
