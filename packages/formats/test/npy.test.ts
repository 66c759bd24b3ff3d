import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNpy, parseNpz, serializeNpy } from '../src/index.js';
import { REPO_ROOT } from '@openretina/test-utils/fixtures';

const NPY = join(REPO_ROOT, 'fixtures', 'data-io', 'npy');
const load = (name: string) => parseNpy(new Uint8Array(readFileSync(join(NPY, name))), name);

describe('.npy', () => {
  it('reads numpy-written f4, f8, i8, u1 and bool arrays', () => {
    expect(load('f4.npy')).toMatchObject({ shape: [2, 3], dtype: '<f4' });
    expect(Array.from(load('f4.npy').data as Float32Array)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    expect(Array.from(load('f8.npy').data as Float64Array)).toEqual([0, 0.125, 0.25, 0.375, 0.5, 0.625]);
    expect(Array.from(load('i8.npy').data as BigInt64Array, Number)).toEqual([-2, -1, 0, 1, 2, 3]);
    expect(Array.from(load('u1.npy').data as Uint8Array)).toEqual([0, 40, 80, 120, 160, 200]);
    expect(load('bool.npy').dtype).toBe('|b1');
    expect(Array.from(load('bool.npy').data as Uint8Array)).toEqual([1, 0, 1, 0, 1, 0]);
    expect(load('scalar.npy')).toMatchObject({ shape: [] });
    expect(load('scalar.npy').data[0]).toBe(2.5);
  });
  it('refuses Fortran order, bad magic and truncated data with clear errors', () => {
    expect(() => load('fortran.npy')).toThrow(/Fortran-ordered/);
    expect(() => parseNpy(new Uint8Array(20), 'x.npy')).toThrow(/x.npy: not an .npy file/);
    const bytes = new Uint8Array(readFileSync(join(NPY, 'f4.npy')));
    expect(() => parseNpy(bytes.subarray(0, bytes.length - 3), 'cut.npy')).toThrow(
      /cut.npy: truncated .npy data: shape \[2, 3\] of "<f4" needs 24 bytes, found 21/,
    );
  });
  it('writes v1.0 <f4 files with 64-byte aligned headers that round-trip', () => {
    const data = Float32Array.from([1.5, -2, 3, 4, 5, 6]);
    const bytes = serializeNpy(data, [1, 2, 3]);
    const headerLen = bytes[8]! + bytes[9]! * 256;
    expect((10 + headerLen) % 64).toBe(0);
    expect(new TextDecoder().decode(bytes.subarray(10, 10 + headerLen))).toMatch(
      /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(1, 2, 3\), \} *\n$/,
    );
    const back = parseNpy(bytes);
    expect(back.shape).toEqual([1, 2, 3]);
    expect(Array.from(back.data as Float32Array)).toEqual(Array.from(data));
    expect(parseNpy(serializeNpy(Float32Array.from([7]), [1])).shape).toEqual([1]);
    // byte-identical to numpy's own writer for the same array
    expect(Buffer.from(serializeNpy(Float32Array.from([0, 0.25, 0.5, 0.75, 1, 1.25]), [2, 3]))).toEqual(readFileSync(join(NPY, 'f4.npy')));
  });
  it('writes every integer and float width byte-identical to np.save, and 0/1 bytes as bool', () => {
    const same = (bytes: Uint8Array, file: string) => expect(Buffer.from(bytes)).toEqual(readFileSync(join(NPY, file)));
    same(
      serializeNpy(
        Float64Array.from([0, 1, 2, 3, 4, 5], (v) => v / 8),
        [2, 3],
      ),
      'f8.npy',
    );
    same(serializeNpy(BigInt64Array.from([-2n, -1n, 0n, 1n, 2n, 3n]), [2, 3]), 'i8.npy');
    same(serializeNpy(Uint8Array.from([0, 40, 80, 120, 160, 200]), [2, 3]), 'u1.npy');
    same(serializeNpy(Uint8Array.from([1, 0, 1, 0, 1, 0]), [2, 3], '|b1'), 'bool.npy');
    const strings = serializeNpy(new TextEncoder().encode('abcd'), [2], '|S2');
    expect(new TextDecoder().decode(strings.subarray(10, 70))).toContain("'descr': '|S2'");
    for (const data of [
      new Int16Array([-3, 4]),
      new Int32Array([5, -6]),
      new Uint16Array([7, 8]),
      new Uint32Array([9, 10]),
      new Int8Array([-1, 2]),
    ]) {
      const back = parseNpy(serializeNpy(data, [2]));
      expect(Array.from(back.data as ArrayLike<number>)).toEqual(Array.from(data));
    }
    expect(() => serializeNpy(new Float64Array(3), [2])).toThrow(/shape \[2\] of <f8 needs 2 values \(16 bytes\), got 3 \(24 bytes\)/);
  });
  it('reads .npz archives', () => {
    const z = parseNpz(new Uint8Array(readFileSync(join(NPY, 'pair.npz'))));
    expect(Object.keys(z).sort()).toEqual(['a', 'b']);
    expect(z.a!.shape).toEqual([2, 3]);
    expect(Array.from(z.b!.data as BigInt64Array, Number)).toEqual([0, 1, 2]);
  });
});

/** `.npy` bytes (format 1.0) of a header dict and a body. */
function npyFile(descr: string, shape: string, body: Uint8Array): Uint8Array {
  const header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }\n`;
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 255, header.length >> 8]);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(body, 10 + header.length);
  return out;
}

describe('.npy dtypes through the shared table', () => {
  it('reads float16 (as float32) and big-endian data; refuses strings and objects', () => {
    const half = parseNpy(npyFile('<f2', '(3,)', Uint8Array.from([0x00, 0x3c, 0x01, 0x00, 0x00, 0xfc])));
    expect(half.data).toBeInstanceOf(Float32Array);
    expect(Array.from(half.data as Float32Array)).toEqual([1, 2 ** -24, Number.NEGATIVE_INFINITY]);
    expect(half.dtype).toBe('<f2');
    const big = parseNpy(npyFile('>i4', '(2,)', Uint8Array.from([0, 0, 1, 0, 0xff, 0xff, 0xff, 0xfe])));
    expect(Array.from(big.data as Int32Array)).toEqual([256, -2]);
    expect(() => parseNpy(npyFile('<U3', '(1,)', new Uint8Array(12)), 's.npy')).toThrow(/s\.npy: unsupported \.npy dtype "<U3"/);
    expect(() => parseNpy(npyFile('|O', '(1,)', new Uint8Array(8)), 'o.npy')).toThrow(/unsupported \.npy dtype "\|O"/);
  });
});
