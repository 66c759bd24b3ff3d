// Same data, same bytes: the HDF5 session files we write carry no object times (h5wasm cannot switch them off, so
// they are zeroed after writing and the header checksums recomputed).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lookup3, zeroHdf5ObjectTimes } from '../src/hdf5-object-times.js';
import { loadH5IntoDict, writeHdf5Session } from '../src/node.js';
import { codedResponses } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'dataio-h5-times-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const session = { responses: { a: codedResponses(3, 2) }, sessionInfo: { unit_ids: [4, 5], kind: ['on', 'off'] } };

/** The offsets of the version-2 object headers ("OHDR" + version 2) of a file image. */
function headerOffsets(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let at = Buffer.from(bytes).indexOf('OHDR'); at >= 0; at = Buffer.from(bytes).indexOf('OHDR', at + 1))
    if (bytes[at + 4] === 2) out.push(at);
  return out;
}

describe('HDF5 object times', () => {
  it('lookup3 is Bob Jenkins’ hashlittle (his published test values)', () => {
    expect(lookup3(new Uint8Array(0))).toBe(0xdeadbeef);
    expect(lookup3(new TextEncoder().encode('Four score and seven years ago'))).toBe(0x17770551);
  });

  it('writeHdf5Session: two writes a second apart give the same bytes, every header’s times are 0, h5wasm reads it back', async () => {
    await writeHdf5Session(join(tmp, 'a.h5'), session);
    await new Promise((r) => setTimeout(r, 1100)); // HDF5 times have one-second resolution
    await writeHdf5Session(join(tmp, 'b.h5'), session);
    const a = readFileSync(join(tmp, 'a.h5'));
    expect(readFileSync(join(tmp, 'b.h5')).equals(a)).toBe(true);
    const headers = headerOffsets(a);
    expect(headers.length).toBeGreaterThanOrEqual(4); // root, the responses, session_info and its datasets
    for (const at of headers) {
      expect(a[at + 5]! & 0x20, `header at ${at} stores times`).toBe(0x20);
      expect(
        [...a.subarray(at + 6, at + 22)].every((b) => b === 0),
        `header at ${at}`,
      ).toBe(true);
    }
    // HDF5 verifies each header's checksum as it reads: a wrong one would fail here
    const dict = await loadH5IntoDict(join(tmp, 'a.h5'));
    expect(Object.keys(dict).sort()).toEqual(['responses_a', 'session_info']);
    expect(zeroHdf5ObjectTimes(new Uint8Array(a))).toBe(headers.length); // zeroing again changes nothing but counts them
  });

  it('leaves a byte run alone that only looks like a header (its checksum does not hold)', () => {
    const fake = new Uint8Array([0x4f, 0x48, 0x44, 0x52, 2, 0x20, ...new Array(16).fill(7), 1, 0, 0, 0, 0, 0]);
    const copy = fake.slice();
    expect(zeroHdf5ObjectTimes(fake)).toBe(0);
    expect(fake).toEqual(copy);
  });
});
