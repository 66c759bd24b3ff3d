import { DataError } from '@openretina/contracts';
import { type NdArray, isNdArray } from '../../ndarray.js';

// A "field" is one recording field of the Höfling responses HDF5: a group of per-neuron arrays (traces, trigger times,
// quality indices, cell types) plus attributes such as `eye` and `scan_sequence_idx`.

/** One field of the responses file, as `loadH5IntoDict` reads it. */
export type Field = Record<string, unknown>;

/** The array `key` of a field, or a {@link DataError} naming the field. */
export function fieldArray(field: Field, key: string, where: string): NdArray {
  const v = field[key];
  if (!isNdArray(v)) throw new DataError(`${where}: missing array "${key}".`);
  return v;
}

/** A scalar attribute or the first element of an array (bigints as numbers). */
export function fieldScalar(v: unknown): unknown {
  if (isNdArray(v)) {
    const d = v.data as ArrayLike<unknown>;
    const x = d[0];
    return typeof x === 'bigint' ? Number(x) : x;
  }
  return typeof v === 'bigint' ? Number(v) : v;
}

/** Applies a neuron mask to every array of a field that has N entries along its first (or else second) axis. */
export function maskField(field: Field, mask: readonly boolean[]): Field {
  const n = mask.length;
  const out: Field = {};
  for (const [k, v] of Object.entries(field)) {
    if (!isNdArray(v) || k === 'roi_mask' || k === 'roi_coords' || v.shape.length === 0 || v.shape.length > 2) {
      out[k] = v;
      continue;
    }
    const data = v.data as ArrayLike<unknown>;
    if (v.shape[0] === n) {
      const cols = v.shape.length === 2 ? v.shape[1]! : 1;
      const keep: unknown[] = [];
      for (let i = 0; i < n; i++) if (mask[i]) for (let j = 0; j < cols; j++) keep.push(data[i * cols + j]);
      out[k] = { data: keep, shape: v.shape.length === 2 ? [keep.length / cols, cols] : [keep.length], dtype: v.dtype };
    } else if (v.shape.length === 2 && v.shape[1] === n) {
      const rows = v.shape[0]!;
      const keep: unknown[] = [];
      for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) if (mask[i]) keep.push(data[r * n + i]);
      out[k] = { data: keep, shape: [rows, keep.length / rows], dtype: v.dtype };
    } else {
      out[k] = v;
    }
  }
  return out;
}

/** Neurons of a field (the length of `group_assignment`). */
export function fieldNeurons(field: Field): number {
  const g = field.group_assignment;
  return isNdArray(g) ? (g.shape[0] ?? 0) : 0;
}
