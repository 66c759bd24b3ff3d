import { describe, expect, it } from 'vitest';
import { isOpenRetinaError } from '@openretina/contracts';
import {
  ELEMENT_TYPES,
  bfloat16BitsToNumber,
  bfloat16ToFloat32,
  decodeElements,
  elementType,
  float16BitsToNumber,
  float16ToFloat32,
  numpyDtype,
  roundToFloat16,
  safetensorsElementType,
  stateElementType,
  toStateArray,
  torchStorageElementType,
} from '../src/index.js';

const type = (name: string) => elementType(name)!;

describe('float16 and bfloat16 decoding', () => {
  it('decodes binary16 edge values: signed zeros, subnormals, the largest finite, infinities and NaN', () => {
    const cases: [number, number][] = [
      [0x0000, 0],
      [0x0001, 2 ** -24], // smallest subnormal
      [0x03ff, 1023 * 2 ** -24], // largest subnormal
      [0x0400, 2 ** -14], // smallest normal
      [0x3c00, 1],
      [0x3555, 0.333251953125],
      [0xc000, -2],
      [0x7bff, 65504], // largest finite
      [0x7c00, Number.POSITIVE_INFINITY],
      [0xfc00, Number.NEGATIVE_INFINITY],
    ];
    for (const [bits, value] of cases) expect(float16BitsToNumber(bits), bits.toString(16)).toBe(value);
    expect(Object.is(float16BitsToNumber(0x8000), -0)).toBe(true);
    expect(Object.is(float16BitsToNumber(0x8001), -(2 ** -24))).toBe(true);
    for (const nan of [0x7c01, 0x7e00, 0xfe00, 0x7fff]) expect(float16BitsToNumber(nan)).toBeNaN();
    const bits = Uint16Array.from(cases.map(([b]) => b));
    expect(Array.from(float16ToFloat32(bits))).toEqual(cases.map(([, v]) => v));
  });

  it('decodes bfloat16 as the upper half of a float32, subnormals and non-finite values included', () => {
    const cases: [number, number][] = [
      [0x3f80, 1],
      [0xc000, -2],
      [0x4049, 3.140625],
      [0x0001, 2 ** -133], // smallest subnormal
      [0x0080, 2 ** -126], // smallest normal
      [0x7f7f, 3.3895313892515355e38], // largest finite
      [0x7f80, Number.POSITIVE_INFINITY],
      [0xff80, Number.NEGATIVE_INFINITY],
    ];
    for (const [bits, value] of cases) expect(bfloat16BitsToNumber(bits), bits.toString(16)).toBe(value);
    expect(Object.is(bfloat16BitsToNumber(0x8000), -0)).toBe(true);
    expect(bfloat16BitsToNumber(0x7fc0)).toBeNaN();
    expect(Array.from(bfloat16ToFloat32(Uint16Array.from(cases.map(([b]) => b))))).toEqual(cases.map(([, v]) => v));
  });

  it('rounds to the nearest binary16 (ties to even, overflow to infinity), and every binary16 value is kept', () => {
    expect(roundToFloat16(65504)).toBe(65504);
    expect(roundToFloat16(65519)).toBe(65504);
    expect(roundToFloat16(65520)).toBe(Number.POSITIVE_INFINITY);
    expect(roundToFloat16(-1e6)).toBe(Number.NEGATIVE_INFINITY);
    expect(roundToFloat16(1 + 2 ** -11)).toBe(1); // tie: down to the even significand
    expect(roundToFloat16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9); // tie: up to the even significand
    expect(roundToFloat16(2 ** -25)).toBe(0); // half the smallest subnormal: to even (zero)
    expect(roundToFloat16(3 * 2 ** -25)).toBe(2 ** -23);
    expect(roundToFloat16(Number.NaN)).toBeNaN();
    for (let bits = 0; bits < 0x10000; bits++) {
      const v = float16BitsToNumber(bits);
      if (!Number.isNaN(v) && !Object.is(roundToFloat16(v), v)) throw new Error(`0x${bits.toString(16)}: ${v} → ${roundToFloat16(v)}`);
    }
  });
});

describe('the element-type table', () => {
  it('maps numpy codes, torch storages and safetensors dtypes of one type to one row', () => {
    for (const t of ELEMENT_TYPES) {
      if (t.numpy) expect(numpyDtype(`<${t.numpy}`)?.type, t.name).toBe(t);
      if (t.torchStorage) expect(torchStorageElementType(t.torchStorage), t.name).toBe(t);
      expect(safetensorsElementType(t.safetensors), t.name).toBe(t);
      expect(stateElementType(t.stateDtype).stateDtype).toBe(t.stateDtype);
    }
    expect(torchStorageElementType('UntypedStorage')).toBe(type('uint8'));
    expect(numpyDtype('float32')).toEqual({ type: type('float32'), byteOrder: '=' });
    expect(numpyDtype('?')).toEqual({ type: type('bool'), byteOrder: '|' });
    expect(numpyDtype('>i2')).toEqual({ type: type('int16'), byteOrder: '>' });
    for (const unknown of ['<U10', 'O', '<c8', '|S3', 'float128']) expect(numpyDtype(unknown), unknown).toBeUndefined();
  });

  it('decodes either byte order into aligned copies, bools as 0/1', () => {
    const big = Uint8Array.from([0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0]);
    expect(Array.from(decodeElements(big, type('float32'), 2, false) as ArrayLike<number>)).toEqual([1, -2]);
    expect(Array.from(decodeElements(Uint8Array.from([0, 0, 0x80, 0x3f]), type('float32'), 1) as ArrayLike<number>)).toEqual([1]);
    expect(Array.from(decodeElements(Uint8Array.from([0xff, 0xfe]), type('int16'), 1, false) as ArrayLike<number>)).toEqual([-2]);
    expect(Array.from(decodeElements(Uint8Array.from([0x00, 0x3c, 0x00, 0x7c]), type('float16'), 2) as ArrayLike<number>)).toEqual([
      1,
      Number.POSITIVE_INFINITY,
    ]);
    // an unaligned source (offset 1) is copied, not viewed
    const unaligned = new Uint8Array(9).subarray(1);
    new DataView(unaligned.buffer, 1).setFloat64(0, 2.5, true);
    expect(Array.from(decodeElements(unaligned, type('float64'), 1) as ArrayLike<number>)).toEqual([2.5]);
    expect(Array.from(decodeElements(Uint8Array.from([0, 2, 255]), type('bool'), 3) as ArrayLike<number>)).toEqual([0, 1, 1]);
    try {
      decodeElements(new Uint8Array(7), type('float64'), 1);
      expect.unreachable();
    } catch (e) {
      expect(isOpenRetinaError(e, 'OPENRETINA_FILE_FORMAT')).toBe(true);
      expect((e as Error).message).toMatch(/1 float64 elements need 8 bytes, the data has 7/);
    }
  });

  it('widens to state-dict dtypes, refusing uint64 values above the int64 range', () => {
    expect(toStateArray(Int8Array.from([-1, 2]), type('int8'))).toEqual({ dtype: 'int32', data: Int32Array.from([-1, 2]) });
    expect(toStateArray(Uint32Array.from([4294967295]), type('uint32'))).toEqual({
      dtype: 'int64',
      data: BigInt64Array.from([4294967295n]),
    });
    expect(toStateArray(BigUint64Array.from([7n]), type('uint64')).data).toEqual(BigInt64Array.from([7n]));
    const f = Float32Array.from([1.5]);
    expect(toStateArray(f, type('float32')).data).toBe(f); // no copy when nothing changes
    expect(() => toStateArray(BigUint64Array.from([2n ** 63n]), type('uint64'))).toThrow(/does not fit the int64/);
  });
});
