import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StateTensor } from '@openretina/contracts';
import { OPENRETINA_FIXTURES, readRawSafetensors } from '@openretina/test-utils/fixtures';
import { readSafetensors, writeSafetensors } from '../src/index.js';

/** safetensors bytes of a raw header and data (for dtypes we do not write). */
function rawFile(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors', () => {
  it('round-trips every state-dict dtype in order, with metadata and an 8-byte aligned data section', () => {
    const tensors = new Map<string, StateTensor>([
      ['w', { shape: [2, 2], dtype: 'float32', data: Float32Array.from([1, -2, 3.5, 0]) }],
      ['d', { shape: [1], dtype: 'float64', data: Float64Array.from([Math.PI]) }],
      ['i', { shape: [3], dtype: 'int32', data: Int32Array.from([-1, 0, 7]) }],
      ['n', { shape: [], dtype: 'int64', data: BigInt64Array.from([-(2n ** 40n)]) }],
      ['b', { shape: [2], dtype: 'bool', data: Uint8Array.from([1, 0]) }],
    ]);
    const bytes = writeSafetensors(tensors, { format: 'pt' });
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLen) % 8).toBe(0);
    const back = readSafetensors(bytes);
    expect(back.metadata).toEqual({ format: 'pt' });
    expect([...back.tensors.keys()]).toEqual([...tensors.keys()]);
    for (const [k, t] of tensors) expect(back.tensors.get(k), k).toEqual(t);
  });

  it('reads F16, BF16 and small integer dtypes widened like the other readers', () => {
    const data = Uint8Array.from([0x00, 0x3c, 0x00, 0xc0, 0x80, 0x3f, 0xff, 0x05, 0xfe]);
    const bytes = rawFile(
      {
        h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
        bf: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] },
        u8: { dtype: 'U8', shape: [1], data_offsets: [6, 7] },
        i8: { dtype: 'I8', shape: [2], data_offsets: [7, 9] },
      },
      data,
    );
    const { tensors } = readSafetensors(bytes);
    expect(tensors.get('h')).toEqual({ shape: [2], dtype: 'float32', data: Float32Array.from([1, -2]) });
    expect(tensors.get('bf')).toEqual({ shape: [1], dtype: 'float32', data: Float32Array.from([1]) });
    expect(tensors.get('u8')).toEqual({ shape: [1], dtype: 'int32', data: Int32Array.from([255]) });
    expect(tensors.get('i8')).toEqual({ shape: [2], dtype: 'int32', data: Int32Array.from([5, -2]) });
  });

  it('reads a file written by the Python safetensors package like an independent reader does', () => {
    const path = join(OPENRETINA_FIXTURES, 'state_dict.safetensors');
    const ours = readSafetensors(new Uint8Array(readFileSync(path))).tensors;
    const reference = readRawSafetensors(path);
    expect([...ours.keys()].sort()).toEqual([...reference.keys()].sort());
    for (const [k, r] of reference) {
      expect([...ours.get(k)!.shape], k).toEqual(r.shape);
      expect(Array.from(ours.get(k)!.data as ArrayLike<number | bigint>), k).toEqual(Array.from(r.data as ArrayLike<number | bigint>));
    }
  });

  it('names what is wrong with truncated, foreign and inconsistent files', () => {
    const good = writeSafetensors(new Map([['w', { shape: [4], dtype: 'float32', data: new Float32Array(4) }]]));
    expect(() => readSafetensors(good.subarray(0, 5), 'x.safetensors')).toThrow(/x\.safetensors: too short/);
    expect(() => readSafetensors(good.subarray(0, good.length - 4), 'x.safetensors')).toThrow(
      /"w" ends at data byte 16, but the file holds 12 data bytes: the file is truncated/,
    );
    // an edited header (the shape says 5 floats, the offsets 4): not called a truncation
    const edited = rawFile({ w: { dtype: 'F32', shape: [5], data_offsets: [0, 16] } }, new Uint8Array(16));
    expect(() => readSafetensors(edited, 'e.safetensors')).toThrow(
      /"w" \[5\] F32 needs 20 bytes, but its header gives offsets \[0, 16\] \(16 bytes\): the header's shape, dtype and offsets disagree/,
    );
    expect(() => readSafetensors(edited)).not.toThrow(/truncated/);
    expect(() => readSafetensors(rawFile({ w: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)))).toThrow(
      /unsupported dtype C64/,
    );
    const notJson = Uint8Array.from([4, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7b, 0x7b, 0x7b]);
    expect(() => readSafetensors(notJson)).toThrow(/not valid JSON/);
  });
});
