import { FileFormatError, type StateArray, type StateDtype } from '@openretina/contracts';
import { decodeElements, type ElementType, toStateArray } from './dtypes.js';

/**
 * A tensor or numpy array read from a pickle: dense, row-major, with its PyTorch/numpy shape. Element types without
 * a state-dict dtype are widened (float16/bfloat16 → float32, int8/int16/uint8/uint16 → int32, uint32/uint64 → int64).
 */
export class ArrayValue {
  constructor(
    readonly kind: 'tensor' | 'ndarray',
    readonly dtype: StateDtype,
    readonly shape: readonly number[],
    readonly data: StateArray,
    /** The element type in the file (`float32`, `float16`, `uint8`, ...). */
    readonly sourceDtype: string,
  ) {}
}

/** Limits applied while reading (absurd sizes are refused before anything is allocated). */
export interface ReadLimits {
  /** Maximum elements of one array (default 2^31 − 1). */
  maxElements?: number;
}

/** Where a strided view of stored elements lies: `offset`, `shape` and `strides` in elements. */
export interface StridedView {
  offset: number;
  shape: readonly number[];
  strides: readonly number[];
}

/** Row-major strides of `shape` (`fortran`: column-major). */
export function contiguousStrides(shape: readonly number[], fortran = false): number[] {
  const strides = new Array<number>(shape.length);
  let acc = 1;
  const order = shape.map((_, i) => i);
  if (!fortran) order.reverse();
  for (const i of order) {
    strides[i] = acc;
    acc *= shape[i]!;
  }
  return strides;
}

/**
 * Copies the strided view of `bytes` (elements of `type`, `available` of them) into a dense {@link ArrayValue},
 * after checking that every index lies inside the stored elements. `what` names the array in errors.
 */
export function arrayValueFromStrided(
  kind: ArrayValue['kind'],
  bytes: Uint8Array,
  type: ElementType,
  available: number,
  view: StridedView,
  limits: ReadLimits,
  what: string,
  littleEndian = true,
): ArrayValue {
  const { offset, shape, strides } = view;
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
  const b = type.bytes;
  let contiguous = true;
  let expect = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i]! !== 1 && strides[i]! !== expect) contiguous = false;
    expect *= shape[i]!;
  }
  let dense: Uint8Array;
  if (contiguous) dense = bytes.subarray(offset * b, (offset + numel) * b);
  else {
    dense = new Uint8Array(numel * b);
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
  }
  const { dtype, data } = toStateArray(decodeElements(dense, type, numel, littleEndian), type);
  return new ArrayValue(kind, dtype, shape, data, type.name);
}
