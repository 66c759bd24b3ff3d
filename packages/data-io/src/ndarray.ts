import { toFloat32 } from '@openretina/formats';

/** A numeric or string n-d array as read from a file: row-major data, shape and the file's dtype string. */
export interface NdArray {
  data: ArrayLike<number> | BigInt64Array | BigUint64Array | readonly string[] | readonly unknown[];
  shape: number[];
  dtype: string;
}

/** A nested record of arrays and attribute values (the result of reading an HDF5 file or a pickle). */
export interface NdTree {
  [key: string]: NdArray | NdTree | string | number | boolean | null | undefined | unknown;
}

/** True for an {@link NdArray}. */
export function isNdArray(x: unknown): x is NdArray {
  return typeof x === 'object' && x !== null && 'data' in x && 'shape' in x && Array.isArray((x as NdArray).shape);
}

/** Numeric data as plain numbers (bigints converted). */
export function toNumberArray(data: NdArray['data']): number[] {
  return Array.from(data as ArrayLike<unknown>, (v) => (typeof v === 'bigint' ? Number(v) : (v as number)));
}

/** The values of a numeric {@link NdArray} as float32, each divided by `divisor` (default 1: a plain conversion). */
export function floatValues(a: NdArray, divisor = 1): Float32Array {
  const values = toFloat32(a.data as ArrayLike<number>);
  return divisor === 1 ? values : values.map((v) => v / divisor);
}
