import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { isOpenRetinaError } from '@openretina/contracts';
import { REPO_ROOT } from '@openretina/test-utils/fixtures';
import { ArrayValue, PyObject, readOpenRetinaCheckpoint, readPickle, readTorchArchive, toPlain, unpickle, PyDict } from '../src/index.js';

const HUB_FIXTURES = join(REPO_ROOT, 'fixtures', 'hub');
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

/** A tiny pickle assembler (protocol 2 opcodes) for hand-made hostile payloads. */
const P = {
  proto: '\x80\x02',
  global: (m: string, n: string) => `c${m}\n${n}\n`,
  str: (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const n = Buffer.alloc(4);
    n.writeUInt32LE(b.length);
    return `X${n.toString('latin1')}${b.toString('latin1')}`;
  },
  int: (v: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    return `J${b.toString('latin1')}`;
  },
  tuple: (...items: string[]) => `(${items.join('')}t`,
  emptyDict: '}',
  stop: '.',
};

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

function expectFileFormatError(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(isOpenRetinaError(e), String(e)).toBe(true);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected an error');
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

describe('hostile pickles are inert or a clear error', () => {
  const markerGlobal = globalThis as Record<string, unknown>;

  it('REDUCE of os.system is an inert record (nothing runs)', () => {
    const v = unpickle(bytes(`${P.proto}${P.global('os', 'system')}${P.tuple(P.str('touch /tmp/openretina-pwned'))}R.`));
    expect(v).toBeInstanceOf(PyObject);
    expect((v as PyObject).className).toBe('os.system');
    expect(toPlain(v)).toEqual({ __python__: 'os.system', args: ['touch /tmp/openretina-pwned'] });
    expectFileFormatError(
      () => unpickle(bytes(`${P.proto}${P.global('os', 'system')}${P.tuple(P.str('id'))}R.`), { unknownGlobals: 'error' }),
      /refusing global os\.system/,
    );
  });

  it('INST / OBJ / NEWOBJ of subprocess.Popen and builtins.eval stay inert', () => {
    const inst = unpickle(bytes(`(S'ls'\nisubprocess\nPopen\n.`)) as PyObject;
    expect([inst.className, inst.how, inst.args]).toEqual(['subprocess.Popen', 'inst', ['ls']]);
    const obj = unpickle(bytes(`(${P.global('subprocess', 'Popen')}S'ls'\no.`)) as PyObject;
    expect([obj.className, obj.how]).toEqual(['subprocess.Popen', 'obj']);
    const newobj = unpickle(bytes(`${P.proto}${P.global('subprocess', 'Popen')}${P.tuple(P.str('ls'))}\x81.`)) as PyObject;
    expect([newobj.className, newobj.how]).toEqual(['subprocess.Popen', 'newobj']);
    const ev = unpickle(bytes(`${P.proto}${P.global('builtins', 'eval')}${P.tuple(P.str('globalThis.pwned = 1'))}R.`));
    expect((ev as PyObject).className).toBe('builtins.eval');
    expect(markerGlobal.pwned).toBeUndefined();
  });

  it('BUILD never calls __setstate__ and cannot pollute prototypes', () => {
    // object with state {"__setstate__": <eval>, "__proto__": {"polluted": 1}}
    const state = `}(${P.str('__setstate__')}${P.global('builtins', 'eval')}${P.str('__proto__')}}(${P.str('polluted')}${P.int(1)}uu`;
    const v = unpickle(bytes(`${P.proto}${P.global('evil', 'Thing')})\x81${state}b.`)) as PyObject;
    expect(v.state).toBeInstanceOf(PyDict);
    const plain = toPlain(v) as { state: Record<string, unknown> };
    expect(Object.getPrototypeOf(plain.state)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(plain.state, '__proto__')).toBe(true);
    // a dict whose key is "__proto__" converted to plain data
    const d = toPlain(unpickle(bytes(`${P.proto}}${P.str('__proto__')}}${P.str('isAdmin')}\x88ss.`))) as Record<string, unknown>;
    expect((d as { isAdmin?: boolean }).isAdmin).toBeUndefined();
    expect(({} as { isAdmin?: boolean }).isAdmin).toBeUndefined();
  });

  it('malformed streams are FileFormatErrors (truncation, stack underflow, bad memo, unknown opcode)', () => {
    expectFileFormatError(() => unpickle(bytes(`${P.proto}X\xff\xff\xff\x7fabc`)), /truncated/);
    expectFileFormatError(() => unpickle(bytes(`${P.proto}R.`)), /stack underflow/);
    expectFileFormatError(() => unpickle(bytes(`${P.proto}h\x05.`)), /memo entry 5 is missing/);
    expectFileFormatError(() => unpickle(bytes(`${P.proto}\xff`)), /unknown opcode 0xff/);
    expectFileFormatError(() => unpickle(bytes(`${P.proto}N`)), /truncated/);
    expectFileFormatError(() => unpickle(bytes(`${P.proto}NQ.`)), /persistent id without a resolver/);
  });

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
    expect(readPickle(bytes(`${P.proto}N.`))).toBeNull();
  });
});
