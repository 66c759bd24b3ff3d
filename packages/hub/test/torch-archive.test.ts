import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { ArrayValue, type PyDict } from '@openretina/formats';
import { REPO_ROOT } from '@openretina/test-utils/fixtures';
import { P, latin1 as bytes, expectFileFormatError } from '@openretina/test-utils/pickle-assembler';
import { readOpenRetinaCheckpoint, readTorchArchive } from '../src/index.js';

const HUB_FIXTURES = join(REPO_ROOT, 'fixtures', 'hub');

/** A torch archive whose data.pkl is `pkl` and which has one float storage "0" of `n` floats. */
function archive(pkl: string, n = 4): Uint8Array {
  return zipSync({ 'evil/data.pkl': bytes(pkl), 'evil/data/0': new Uint8Array(4 * n) }, { level: 0 });
}
/** `_rebuild_tensor_v2(storage(0, n), offset, size, stride, False, OrderedDict())` */
function tensorPickle(offset: number, size: number[], stride: number[], n = 4): string {
  const storage = `${P.tuple(P.str('storage'), P.global('torch', 'FloatStorage'), P.str('0'), P.str('cpu'), P.int(n))}Q`;
  return (
    P.proto +
    P.global('collections', 'OrderedDict') +
    ')R' + // empty OrderedDict
    P.str('w') +
    P.global('torch._utils', '_rebuild_tensor_v2') +
    P.tuple(
      storage,
      P.int(offset),
      P.tuple(...size.map(P.int)),
      P.tuple(...stride.map(P.int)),
      '\x89',
      `${P.global('collections', 'OrderedDict')})R`,
    ) +
    'R' +
    's' + // SETITEM
    P.stop
  );
}

describe('torch archive reader: dtypes, views, numpy', () => {
  it('reads every storage dtype and honours strides and offsets', () => {
    const expected = JSON.parse(readFileSync(join(HUB_FIXTURES, 'dtypes.json'), 'utf8')) as Record<
      string,
      { shape: number[]; dtype: string; values: number[] }
    >;
    const raw = readTorchArchive(new Uint8Array(readFileSync(join(HUB_FIXTURES, 'dtypes.pt'))));
    const map = (raw as PyDict).map;
    expect([...map.keys()]).toEqual(Object.keys(expected));
    for (const [k, e] of Object.entries(expected)) {
      const v = map.get(k) as ArrayValue;
      expect(v, k).toBeInstanceOf(ArrayValue);
      expect([...v.shape], k).toEqual(e.shape);
      expect(v.sourceDtype, k).toBe(e.dtype);
      const got = Array.from(v.data as ArrayLike<number | bigint>, Number);
      if (e.dtype.startsWith('float') || e.dtype === 'bfloat16') {
        got.forEach((g, i) => expect(Math.abs(g - e.values[i]!), `${k}[${i}]`).toBeLessThanOrEqual(Math.abs(e.values[i]!) * 1e-7));
      } else expect(got, k).toEqual(e.values);
    }
    expect((map.get('i64') as ArrayValue).dtype).toBe('int64');
    expect((map.get('f16') as ArrayValue).dtype).toBe('float32');
    expect((map.get('b') as ArrayValue).dtype).toBe('bool');
  });

  it('reads numpy arrays and scalars, signed LONG1 integers and odd keys in hyper-parameters', () => {
    const ckpt = readOpenRetinaCheckpoint(new Uint8Array(readFileSync(join(HUB_FIXTURES, 'numpy_info.ckpt'))));
    const info = ckpt.hyperParameters.data_info as Record<string, unknown>;
    expect(info.big_negative).toBe(-(2 ** 40));
    expect(info.huge).toBe(2n ** 70n);
    expect(info.neg_huge).toBe(-(2n ** 70n) - 5n);
    const fortran = info.fortran as ArrayValue;
    expect([...fortran.shape]).toEqual([2, 3]);
    expect(Array.from(fortran.data as Float64Array)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from((info.big_endian as ArrayValue).data as Float32Array)).toEqual([1, -2]);
    expect(Array.from((info.uint16 as ArrayValue).data as Int32Array)).toEqual([1, 65535]);
    expect((info.flags as ArrayValue).dtype).toBe('bool');
    expect(info['(1, a)']).toBe('tuple key');
    expect(info['7']).toBe('int key');
    // a "__proto__" key is an own property, no prototype change and no pollution
    expect(Object.getPrototypeOf(info)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(info, '__proto__')?.value).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const di = ckpt.dataInfo!;
    expect(Array.from(di.meanActivityDict.s1!)).toEqual([0.5, 1.5, 2.5]);
    expect(Array.from(di.meanActivityDict.s2!)).toEqual([1, 2]);
    expect(di.stimMean).toBe(0.25);
    expect(di.stimStd).toBe(2);
    expect(di.inputShape).toEqual([2, 4, 5]);
    expect(di.sessionsKwargs!.s1!.roi_ids).toEqual([1, 2, 3]);
    expect(di.extra!.response_rate_hz).toBe(30);
    expect(ckpt.extra.epoch).toBe(3);
  });
});

describe('torch archives that are hostile or corrupt are a clear error', () => {
  it('tensors whose size, stride or offset leave their storage, or with absurd element counts, are refused', () => {
    expect((readTorchArchive(archive(tensorPickle(0, [2, 2], [2, 1]))) as PyDict).map.get('w')).toBeInstanceOf(ArrayValue);
    expectFileFormatError(() => readTorchArchive(archive(tensorPickle(0, [3, 2], [2, 1]))), /reach element 5, but the storage has 4/);
    expectFileFormatError(() => readTorchArchive(archive(tensorPickle(3, [2], [1]))), /reach element 4/);
    expectFileFormatError(() => readTorchArchive(archive(tensorPickle(0, [2, 2], [1, 5]))), /reach element 6/);
    expectFileFormatError(() => readTorchArchive(archive(tensorPickle(0, [100000, 100000], [0, 0]))), /more than 2147483647 elements/);
    expectFileFormatError(() => readTorchArchive(archive(tensorPickle(-1, [1], [1]))), /offset -1 is invalid/);
    expectFileFormatError(() => readTorchArchive(archive(tensorPickle(0, [2, -1], [1, 1]))), /non-negative integers/);
    // a storage key that tries to leave the archive root
    const sneaky = tensorPickle(0, [1], [1]).replace(P.str('0'), P.str('../../etc/passwd'));
    expectFileFormatError(() => readTorchArchive(archive(sneaky)), /invalid storage key/);
  });

  it('corrupt and non-archive inputs are clear errors', () => {
    expectFileFormatError(() => readTorchArchive(new Uint8Array([1, 2, 3, 4, 5])), /not a zip archive/);
    const good = new Uint8Array(readFileSync(join(HUB_FIXTURES, 'dtypes.pt')));
    expectFileFormatError(() => readTorchArchive(good.subarray(0, good.length - 100)), /corrupt or truncated|missing/);
    expectFileFormatError(() => readTorchArchive(bytes(`${P.proto}N.`)), /legacy/);
  });
});
