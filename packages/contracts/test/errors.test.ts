import { describe, expect, it } from 'vitest';
import {
  ErrorCodes,
  OpenRetinaError,
  ShapeError,
  StateDictError,
  UnknownSessionError,
  formatShape,
  isOpenRetinaError,
} from '../src/index.js';

describe('OpenRetinaError family', () => {
  it('carries a stable code and a class name', () => {
    const e = new ShapeError(`expected ${formatShape([2, 50, 18, 16, 2])}, got ${formatShape([2, 50, 18])}`);
    expect(e).toBeInstanceOf(OpenRetinaError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe(ErrorCodes.shape);
    expect(e.name).toBe('ShapeError');
    expect(e.message).toBe('expected [2, 50, 18, 16, 2], got [2, 50, 18]');
  });

  it('names the unknown session and the known ones', () => {
    const e = new UnknownSessionError('session_9', ['session_1', 'session_2']);
    expect(e.message).toContain('"session_9"');
    expect(e.message).toContain('"session_1", "session_2"');
    expect(e.details).toMatchObject({ session: 'session_9' });
    expect(isOpenRetinaError(e, ErrorCodes.session)).toBe(true);
    expect(isOpenRetinaError(e, ErrorCodes.shape)).toBe(false);
  });

  it('recognises errors structurally (works across duplicate package copies)', () => {
    expect(isOpenRetinaError({ code: 'OPENRETINA_STATE_DICT' })).toBe(true);
    expect(isOpenRetinaError(new Error('x'))).toBe(false);
    expect(isOpenRetinaError(null)).toBe(false);
    const cause = new Error('disk');
    expect(new StateDictError('bad', { cause }).cause).toBe(cause);
  });

  it('has unique codes', () => {
    const codes = Object.values(ErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
  });
});
