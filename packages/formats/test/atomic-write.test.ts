import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  produceFileAtomic,
  replaceDirectoryAtomic,
  replaceDirectoryAtomicSync,
  tempPathFor,
  writeFileAtomic,
  writeFileAtomicSync,
  writeJsonAtomic,
  writeJsonAtomicSync,
} from '../src/node.js';

const root = mkdtempSync(join(tmpdir(), 'formats-atomic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  return d;
};

describe('atomic writes', () => {
  it('write files and JSON (creating folders), replacing old content and leaving no temporary behind', async () => {
    const dir = freshDir();
    const file = join(dir, 'sub', 'a.bin');
    await writeFileAtomic(file, Uint8Array.from([1, 2, 3]));
    expect([...readFileSync(file)]).toEqual([1, 2, 3]);
    await writeFileAtomic(file, 'text', { fsync: false });
    expect(readFileSync(file, 'utf8')).toBe('text');
    writeFileAtomicSync(join(dir, 'b.txt'), 'sync');
    await writeJsonAtomic(join(dir, 'c.json'), { a: [1, 2] });
    expect(readFileSync(join(dir, 'c.json'), 'utf8')).toBe('{\n  "a": [\n    1,\n    2\n  ]\n}\n');
    writeJsonAtomicSync(join(dir, 'd.json'), { b: 1 }, { space: 0 });
    expect(readFileSync(join(dir, 'd.json'), 'utf8')).toBe('{"b":1}\n');
    expect(readdirSync(dir).sort()).toEqual(['b.txt', 'c.json', 'd.json', 'sub']);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['a.bin']);
    expect(tempPathFor(file)).toMatch(/sub[/\\]\.a\.bin\.\d+\.[0-9a-f]{8}\.tmp$/);
  });

  it('a write that throws midway leaves the old file intact and no temporary file', async () => {
    const dir = freshDir();
    const file = join(dir, 'data.bin');
    writeFileSync(file, 'old');
    await expect(
      produceFileAtomic(file, (tmp) => {
        writeFileSync(tmp, 'half of the new cont');
        throw new Error('disk on fire');
      }),
    ).rejects.toThrow('disk on fire');
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['data.bin']);
  });

  it('a failed rename (the destination is a folder) removes the written temporary, async and sync', async () => {
    const dir = freshDir();
    const blocked = join(dir, 'blocked');
    mkdirSync(blocked);
    writeFileSync(join(blocked, 'keep.txt'), 'kept');
    await expect(writeFileAtomic(blocked, 'new')).rejects.toThrow();
    expect(() => writeFileAtomicSync(blocked, 'new')).toThrow();
    expect(readdirSync(dir)).toEqual(['blocked']);
    expect(readFileSync(join(blocked, 'keep.txt'), 'utf8')).toBe('kept');
  });

  // the async swap and its synchronous twin, the latter wrapped so that its throws become rejections
  const swaps = {
    async: replaceDirectoryAtomic,
    sync: async (dir: string, fill: (staging: string) => void) => replaceDirectoryAtomicSync(dir, fill),
  };
  it.each(Object.keys(swaps) as (keyof typeof swaps)[])(
    '%s: replaces a folder as a whole; a fill that throws midway leaves the old folder and no staging folder',
    async (kind) => {
      const swap = swaps[kind];
      const dir = freshDir();
      const target = join(dir, 'ckpt');
      await swap(target, (staging) => {
        writeFileSync(join(staging, 'one'), '1');
      });
      expect(readdirSync(target)).toEqual(['one']);
      await swap(target, (staging) => {
        mkdirSync(join(staging, 'nested'));
        writeFileSync(join(staging, 'nested', 'two'), '2');
      });
      expect(readdirSync(target)).toEqual(['nested']);
      await expect(
        swap(target, (staging) => {
          writeFileSync(join(staging, 'partial'), 'x');
          throw new Error('interrupted');
        }),
      ).rejects.toThrow('interrupted');
      expect(readdirSync(dir)).toEqual(['ckpt']);
      expect(readFileSync(join(target, 'nested', 'two'), 'utf8')).toBe('2');
      expect(existsSync(join(target, 'partial'))).toBe(false);
      // a file where the folder should go is not replaced
      const file = join(dir, 'model.ckpt');
      writeFileSync(file, 'not ours');
      await expect(swap(file, () => {})).rejects.toThrow(/model\.ckpt exists and is not a folder/);
      expect(readFileSync(file, 'utf8')).toBe('not ours');
      expect(readdirSync(dir).sort()).toEqual(['ckpt', 'model.ckpt']);
    },
  );
});
