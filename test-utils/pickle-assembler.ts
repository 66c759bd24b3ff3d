// A tiny pickle assembler (protocol 2 opcodes as latin1 text) for hand-made payloads in tests: hostile pickles for
// the safe reader, and torch archives with chosen tensor views.
import { isOpenRetinaError } from '@openretina/contracts';
import { expect } from 'vitest';

/** The bytes of a latin1 string (each character one byte). */
export const latin1 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

export const P = {
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

/** Asserts that `fn` throws an OpenRetinaError whose message matches `pattern`. */
export function expectFileFormatError(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(isOpenRetinaError(e), String(e)).toBe(true);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected an error');
}
