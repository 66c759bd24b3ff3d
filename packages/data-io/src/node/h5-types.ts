// Element types of HDF5 datasets and attributes (h5wasm's metadata) under the names h5py gives them.

/** The parts of h5wasm's metadata that name an element type. */
export interface H5TypeMetadata {
  /** HDF5 type class: 0 integer, 1 float, 3 string, 8 enum, … */
  type: number;
  size: number;
  signed: boolean;
  littleEndian: boolean;
  vlen: boolean;
  enum_type?: { members?: Record<string, number> };
}

const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const H5T_STRING = 3;
const H5T_ENUM = 8;

/** True for h5py's booleans: an enum of FALSE = 0 and TRUE = 1. */
function isBool(meta: H5TypeMetadata): boolean {
  const m = meta.enum_type?.members ?? {};
  return meta.type === H5T_ENUM && Object.keys(m).length === 2 && m.FALSE === 0 && m.TRUE === 1;
}

/** numpy's name of the element type, as `str(dataset.dtype)` prints it in h5py (`float64`, `bool`, `|S5`, `object`). */
export function h5pyDtypeName(meta: H5TypeMetadata): string {
  const bits = meta.size * 8;
  if (meta.type === H5T_FLOAT || meta.type === H5T_INTEGER) {
    const kind = meta.type === H5T_FLOAT ? 'float' : meta.signed ? 'int' : 'uint';
    if (meta.littleEndian || meta.size === 1) return `${kind}${bits}`;
    return `>${meta.type === H5T_FLOAT ? 'f' : meta.signed ? 'i' : 'u'}${meta.size}`;
  }
  if (isBool(meta)) return 'bool';
  if (meta.type === H5T_STRING) return meta.vlen ? 'object' : `|S${meta.size}`;
  return 'unknown';
}

/**
 * The values of a numeric, boolean or string dataset as an `.npy` body: a typed array of the file's element type
 * (bool as 0/1 bytes with `|b1`) or, for strings, their UTF-8 bytes padded to the longest (`|S<n>`; OpenRetina's
 * variable-length strings come out of h5py as a pickled object array, which we do not write). Undefined for other
 * element types.
 */
export function npyBody(
  value: unknown,
  meta: H5TypeMetadata,
):
  | {
      data:
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
      descr?: string;
    }
  | undefined {
  const values = ArrayBuffer.isView(value) ? (value as unknown as ArrayLike<number | bigint>) : Array.isArray(value) ? value : [value];
  if (meta.type === H5T_FLOAT) {
    if (meta.size === 4) return { data: Float32Array.from(values as ArrayLike<number>) };
    if (meta.size === 8) return { data: Float64Array.from(values as ArrayLike<number>) };
    return undefined;
  }
  if (meta.type === H5T_INTEGER) {
    const big = (v: number | bigint) => BigInt(v);
    const num = (v: number | bigint) => Number(v);
    const list = Array.from(values as ArrayLike<number | bigint>);
    switch (`${meta.signed ? 'i' : 'u'}${meta.size}`) {
      case 'i1':
        return { data: Int8Array.from(list, num) };
      case 'i2':
        return { data: Int16Array.from(list, num) };
      case 'i4':
        return { data: Int32Array.from(list, num) };
      case 'i8':
        return { data: BigInt64Array.from(list, big) };
      case 'u1':
        return { data: Uint8Array.from(list, num) };
      case 'u2':
        return { data: Uint16Array.from(list, num) };
      case 'u4':
        return { data: Uint32Array.from(list, num) };
      case 'u8':
        return { data: BigUint64Array.from(list, big) };
      default:
        return undefined;
    }
  }
  if (isBool(meta)) return { data: Uint8Array.from(Array.from(values as ArrayLike<number>), (v) => (v ? 1 : 0)), descr: '|b1' };
  if (meta.type === H5T_STRING) {
    const encoded = Array.from(values as ArrayLike<unknown>, (v) => new TextEncoder().encode(String(v)));
    const width = Math.max(1, ...encoded.map((e) => e.length));
    const data = new Uint8Array(encoded.length * width);
    encoded.forEach((e, i) => data.set(e, i * width));
    return { data, descr: `|S${width}` };
  }
  return undefined;
}

/** A value as numpy's `tolist()` nests it: flat data regrouped by `shape` (a scalar for shape `[]`). */
export function nestByShape<T>(flat: readonly T[], shape: readonly number[]): unknown {
  if (shape.length === 0) return flat[0];
  if (shape.length === 1) return [...flat];
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0]! }, (_, i) => nestByShape(flat.slice(i * inner, (i + 1) * inner), shape.slice(1)));
}
