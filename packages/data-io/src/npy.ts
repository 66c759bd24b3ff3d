import { FileFormatError, UnsupportedError, formatShape } from '@openretina/contracts';
import { unzipSync } from 'fflate';

/** Typed arrays an `.npy` file can be read into. */
export type NpyData =
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

/** A parsed `.npy` array: row-major data, its shape and its numpy dtype string (e.g. `'<f4'`). */
export interface NpyArray {
  data: NpyData;
  shape: number[];
  dtype: string;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DTYPES: Record<string, { size: number; make: (buf: ArrayBuffer, n: number) => NpyData; bool?: boolean }> = {
  f4: { size: 4, make: (b, n) => new Float32Array(b, 0, n) },
  f8: { size: 8, make: (b, n) => new Float64Array(b, 0, n) },
  i1: { size: 1, make: (b, n) => new Int8Array(b, 0, n) },
  u1: { size: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  b1: { size: 1, make: (b, n) => new Uint8Array(b, 0, n), bool: true },
  i2: { size: 2, make: (b, n) => new Int16Array(b, 0, n) },
  u2: { size: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  i4: { size: 4, make: (b, n) => new Int32Array(b, 0, n) },
  u4: { size: 4, make: (b, n) => new Uint32Array(b, 0, n) },
  i8: { size: 8, make: (b, n) => new BigInt64Array(b, 0, n) },
  u8: { size: 8, make: (b, n) => new BigUint64Array(b, 0, n) },
};

function littleEndianHost(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

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

/**
 * Parses an `.npy` file (format versions 1–3). Reads little-endian or byte-order-free `f4 f8 i1 u1 b1 i2 u2 i4 u4 i8 u8`
 * in C order; Fortran order, big-endian and object arrays are refused with a clear error.
 */
export function parseNpy(bytes: Uint8Array, source = '.npy'): NpyArray {
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
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  const key = m ? `${m[2]}${m[3]}` : descr;
  const spec = DTYPES[key];
  if (!m || !spec) throw new UnsupportedError(`${source}: unsupported .npy dtype "${descr}".`);
  const order = m[1];
  if (order === '>' && spec.size > 1) throw new UnsupportedError(`${source}: big-endian .npy data ("${descr}") is not supported.`);
  if ((order === '=' || order === '') && spec.size > 1 && !littleEndianHost()) {
    throw new UnsupportedError(`${source}: native-order data on a big-endian host is not supported.`);
  }
  if (fortran && shape.length > 1) {
    throw new UnsupportedError(`${source}: Fortran-ordered .npy arrays are not supported (shape ${formatShape(shape)}).`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = offset + headerLen;
  const nbytes = count * spec.size;
  if (bytes.length - dataStart < nbytes) {
    throw new FileFormatError(
      `${source}: truncated .npy data: shape ${formatShape(shape)} of "${descr}" needs ${nbytes} bytes, found ${bytes.length - dataStart}.`,
    );
  }
  // copy into an aligned buffer of our own
  const buf = new ArrayBuffer(nbytes);
  new Uint8Array(buf).set(bytes.subarray(dataStart, dataStart + nbytes));
  const data = spec.make(buf, count);
  if (spec.bool) for (let i = 0; i < data.length; i++) (data as Uint8Array)[i] = (data as Uint8Array)[i] ? 1 : 0;
  return { data, shape, dtype: descr };
}

/** Serialises a float32 array as an `.npy` (format 1.0, `'<f4'`, C order) file. */
export function serializeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new FileFormatError(`serializeNpy: shape ${formatShape(shape)} needs ${count} values, got ${data.length}.`);
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
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
  if (littleEndianHost()) out.set(body, 10 + header.length);
  else {
    const dv = new DataView(out.buffer, 10 + header.length);
    for (let i = 0; i < data.length; i++) dv.setFloat32(i * 4, data[i]!, true);
  }
  return out;
}

/** Converts any parsed numeric data to Float32Array (a copy unless it already is one). */
export function toFloat32(data: NpyData | ArrayLike<number>): Float32Array {
  if (data instanceof Float32Array) return data;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Float32Array.from(data, (v) => Number(v));
  return Float32Array.from(data as ArrayLike<number>);
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
