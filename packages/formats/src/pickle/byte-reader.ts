import { FileFormatError } from '@openretina/contracts';

/*
 * The bounded reader under the unpickler: every read checks that the bytes are there, so a truncated or lying pickle
 * fails with the byte offset instead of reading past the end. Kept apart from the opcode loop so that the loop only
 * says what each opcode means.
 */

const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Bytes as Latin-1 text (Python 2 `str` and the text opcodes), in chunks so that large strings do not overflow the stack. */
export function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

/** Reads the little-endian fields, byte strings and text lines of a pickle, failing with the offset. */
export class PickleByteReader {
  /** Offset of the next byte to read. */
  pos = 0;
  private readonly view: DataView;

  constructor(
    private readonly data: Uint8Array,
    /** Name of the data, for error messages. */
    readonly source: string,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  /** Throws the format error for the data at byte `at`. */
  fail(msg: string, at: number): never {
    throw new FileFormatError(`${this.source}: ${msg} (at byte ${at}).`, { details: { offset: at } });
  }

  /** Claims the next `n` bytes and returns their offset. */
  need(n: number): number {
    if (!Number.isSafeInteger(n) || n < 0 || this.pos + n > this.data.length)
      this.fail(`truncated: needs ${n} more bytes, ${this.data.length - this.pos} left`, this.pos);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(): number {
    return this.data[this.need(1)]!;
  }
  u16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  i32(): number {
    return this.view.getInt32(this.need(4), true);
  }
  /** An 8-byte length; refused when it is beyond what a number holds exactly. */
  u64(): number {
    const v = this.view.getBigUint64(this.need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`length ${v} is too large`, this.pos - 8);
    return Number(v);
  }
  /** BINFLOAT's big-endian double. */
  f64BigEndian(): number {
    return this.view.getFloat64(this.need(8), false);
  }
  /** The next `n` bytes (a view into the data, not a copy). */
  bytes(n: number): Uint8Array {
    const at = this.need(n);
    return this.data.subarray(at, at + n);
  }
  /** A newline-terminated text argument (protocol 0 opcodes), without the newline. */
  line(): string {
    const end = this.data.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('truncated: unterminated text line', this.pos);
    const s = latin1(this.data.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
  /** Strict UTF-8 decoding of a string argument read at `at`. */
  utf8(b: Uint8Array, at: number): string {
    try {
      return textDecoder.decode(b);
    } catch {
      return this.fail('invalid UTF-8 in a string', at);
    }
  }
}
