import { describe, expect, it } from 'vitest';
import { P, latin1 as bytes, expectFileFormatError } from '@openretina/test-utils/pickle-assembler';
import { PyDict, PyObject, readPickle, toPlain, unpickle } from '../src/index.js';

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

  it('a plain pickle of None reads as null; garbage names its source', () => {
    expect(readPickle(bytes(`${P.proto}N.`))).toBeNull();
    expectFileFormatError(() => readPickle(new Uint8Array([1, 2, 3]), { source: 'x.pkl' }), /^x\.pkl: unknown opcode 0x01/);
  });
});
