import { ConfigError } from '@openretina/contracts';
import { describe, expect, it } from 'vitest';
import {
  PyBytes,
  PyDict,
  PyFloat,
  PyGlobal,
  PyObject,
  PyPersistentId,
  PyTuple,
  pickleOrderedDict,
  readPickle,
  serializePickle,
  toPlain,
  unpickle,
} from '../src/index.js';

const roundTrip = (value: unknown, persistentLoad?: (pid: unknown) => unknown): unknown =>
  unpickle(serializePickle(value), persistentLoad ? { persistentLoad } : {});

describe('serializePickle (plain data, protocol 2)', () => {
  it('plain values come back as the reader gives them', () => {
    const value = {
      none: null,
      flags: [true, false],
      ints: [0, 255, 256, 65535, 65536, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, -(2 ** 40)],
      big: 12345678901234567890n,
      floats: [1.5, -0.25, -0, Number.POSITIVE_INFINITY],
      integral_float: new PyFloat(3),
      text: 'ünïcode ✓',
      tuple: new PyTuple([1, 'two', new PyTuple([])]),
      bytes: new PyBytes(Uint8Array.from([0, 200, 255])),
    };
    const back = roundTrip(value) as PyDict;
    expect(back).toBeInstanceOf(PyDict);
    const plain = toPlain(back) as Record<string, unknown>;
    expect(plain.none).toBeNull();
    expect(plain.flags).toEqual([true, false]);
    expect(plain.ints).toEqual(value.ints);
    expect(plain.big).toBe(12345678901234567890n);
    expect(Object.is((plain.floats as number[])[2], -0)).toBe(true);
    expect(plain.floats).toEqual([1.5, -0.25, -0, Number.POSITIVE_INFINITY]);
    expect(plain.integral_float).toBe(3);
    expect(plain.text).toBe('ünïcode ✓');
    expect(plain.tuple).toEqual([1, 'two', []]);
    // bytes are a `_codecs.encode` call (protocol 2 has no bytes opcode), which the data reader turns back into bytes
    expect((back.map.get('bytes') as PyObject).className).toBe('_codecs.encode');
    const data = readPickle(serializePickle(value.bytes)) as PyBytes;
    expect(data.bytes).toEqual(Uint8Array.from([0, 200, 255]));
  });

  it('a PyFloat is written as a float even when integral, a number as an int', () => {
    const bytes = serializePickle([new PyFloat(2), 2]);
    expect(bytes.includes(0x47)).toBe(true); // BINFLOAT
    expect(roundTrip([new PyFloat(2), 2])).toEqual([2, 2]);
  });

  it('OrderedDicts keep their order, persistent ids reach the loader, shared values are written once', () => {
    const shared = [1, 2, 3];
    const od = pickleOrderedDict([
      ['z', shared],
      ['a', new PyPersistentId(new PyTuple(['storage', 'k0']))],
      ['again', shared],
    ]);
    const seen: unknown[] = [];
    const back = roundTrip(od, (pid) => {
      seen.push(pid);
      return 'loaded';
    }) as PyObject;
    expect(back.className).toBe('collections.OrderedDict');
    expect([...back.dictItems.keys()]).toEqual(['z', 'a', 'again']);
    expect(back.dictItems.get('a')).toBe('loaded');
    expect(back.dictItems.get('z')).toBe(back.dictItems.get('again'));
    expect(seen.map((p) => (p as PyTuple).items)).toEqual([['storage', 'k0']]);
  });

  it('more items than one APPENDS/SETITEMS batch', () => {
    const list = Array.from({ length: 2500 }, (_, i) => i);
    const dict = new Map(list.map((i) => [`k${i}`, i] as const));
    expect(roundTrip(list)).toEqual(list);
    expect([...(roundTrip(dict) as PyDict).map.values()]).toEqual(list);
  });

  it('calls of globals are written as records (the writer never looks inside other objects)', () => {
    const call = new PyObject(new PyGlobal('torch._utils', '_rebuild_tensor_v2'), [1, new PyTuple([2])], 'reduce');
    const back = roundTrip(call) as PyObject;
    expect(back.className).toBe('torch._utils._rebuild_tensor_v2');
    expect(back.args).toEqual([1, new PyTuple([2])]);
  });

  it('the convert hook writes the caller’s types', () => {
    class Tensor {
      constructor(readonly n: number) {}
    }
    const bytes = serializePickle(
      { t: new Tensor(4) },
      { convert: (v) => (v instanceof Tensor ? new PyTuple(['tensor', v.n]) : undefined) },
    );
    expect(toPlain(unpickle(bytes))).toEqual({ t: ['tensor', 4] });
  });

  it('refuses what is not plain data, with the path', () => {
    class Thing {}
    expect(() => serializePickle({ a: [new Thing()] })).toThrow(ConfigError);
    expect(() => serializePickle({ a: [new Thing()] }, { source: 'ckpt' })).toThrow(/ckpt at \/a\[0\]: cannot write a Thing/);
    expect(() => serializePickle({ f: () => 1 })).toThrow(/cannot write a function/);
    expect(() => serializePickle(undefined)).toThrow(/cannot write a undefined/);
    const t = new PyTuple([]);
    (t.items as unknown[]).push(t);
    expect(() => serializePickle(t)).toThrow(/contains itself through a tuple/);
  });

  it('a list that contains itself terminates (memo reference)', () => {
    const list: unknown[] = [1];
    list.push(list);
    const back = roundTrip(list) as unknown[];
    expect(back[1]).toBe(back);
  });
});
