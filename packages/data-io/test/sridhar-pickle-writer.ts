/** A tiny pickle (protocol 3) writer for tests: dicts, int lists, ints, strings and float32 numpy arrays. */
export type PickleValue = number | string | number[] | { data: Float32Array; shape: number[] } | Map<string | number, PickleValue>;

export function writePickle(value: PickleValue): Uint8Array {
  const out: number[] = [0x80, 3];
  const bytes = (s: string) => out.push(...Array.from(s, (c) => c.charCodeAt(0)));
  const u32 = (n: number) => out.push(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255);
  const int = (n: number) => {
    if (n >= 0 && n < 256) out.push(0x4b, n);
    else {
      out.push(0x4a);
      u32(n >>> 0);
    }
  };
  const str = (s: string) => {
    const b = new TextEncoder().encode(s);
    out.push(0x58);
    u32(b.length);
    out.push(...b);
  };
  const emit = (v: PickleValue): void => {
    if (typeof v === 'number') int(v);
    else if (typeof v === 'string') str(v);
    else if (Array.isArray(v)) {
      out.push(0x5d, 0x28); // EMPTY_LIST MARK
      v.forEach(int);
      out.push(0x65); // APPENDS
    } else if (v instanceof Map) {
      out.push(0x7d, 0x28); // EMPTY_DICT MARK
      for (const [k, x] of v) {
        emit(k);
        emit(x);
      }
      out.push(0x75); // SETITEMS
    } else {
      bytes('cnumpy.core.multiarray\n_reconstruct\n');
      bytes('cnumpy\nndarray\n');
      out.push(0x4b, 0, 0x85, 0x43, 1, 0x62, 0x87, 0x52); // (0,), b'b', TUPLE3, REDUCE
      out.push(0x28, 0x4b, 1, 0x28); // MARK 1 MARK
      v.shape.forEach(int);
      out.push(0x74); // TUPLE (shape)
      bytes('cnumpy\ndtype\n');
      str('f4');
      out.push(0x89, 0x88, 0x87, 0x52, 0x28, 0x4b, 3); // False True TUPLE3 REDUCE MARK 3
      str('<');
      out.push(0x4e, 0x4e, 0x4e);
      int(-1);
      int(-1);
      int(0);
      out.push(0x74, 0x62, 0x89, 0x42); // TUPLE BUILD (dtype) False BINBYTES
      u32(v.data.byteLength);
      out.push(...new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength));
      out.push(0x74, 0x62); // TUPLE BUILD (array)
    }
  };
  emit(value);
  out.push(0x2e);
  return Uint8Array.from(out);
}
