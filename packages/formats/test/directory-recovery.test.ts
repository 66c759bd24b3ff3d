// Crash recovery of folder swaps, and the fault hooks the fault-injection tests use (a full disk, a paused swap).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { recoverDirectory, replaceDirectoryAtomic, writeFileAtomic, writeFileAtomicSync } from '../src/node.js';

const root = mkdtempSync(join(tmpdir(), 'formats-recovery-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  delete process.env.OPENRETINA_TEST_ENOSPC;
  delete process.env.OPENRETINA_TEST_SWAP_PAUSE_MS;
});
let n = 0;
const freshDir = () => {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  return d;
};

/** The pid of a process that has exited (whose leftovers recovery may clean). */
const deadPid = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);

/** A folder `path` holding one file `x` with `text`. */
function folder(path: string, text: string): string {
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'x'), text);
  return path;
}

describe('recoverDirectory', () => {
  it('puts the old folder back when a writer died between its two renames, and removes its staging folder', () => {
    const dir = freshDir();
    folder(join(dir, `.last.${deadPid}.0a1b2c3d.tmp.old`), 'old');
    folder(join(dir, `.last.${deadPid}.0a1b2c3d.tmp`), 'new');
    const r = recoverDirectory(join(dir, 'last'));
    expect(readFileSync(join(dir, 'last', 'x'), 'utf8')).toBe('old');
    expect(r.restored).toBe(join(dir, `.last.${deadPid}.0a1b2c3d.tmp.old`));
    expect(readdirSync(dir)).toEqual(['last']);
  });

  it('removes a dead writer’s aside next to a complete folder, and its staging folders and temp files', () => {
    const dir = freshDir();
    folder(join(dir, 'last'), 'new');
    folder(join(dir, `.last.${deadPid}.00000001.tmp.old`), 'old');
    folder(join(dir, `.last.${deadPid}.00000002.tmp`), 'half');
    writeFileSync(join(dir, `.last.${deadPid}.00000003.tmp`), 'a temp file');
    const r = recoverDirectory(join(dir, 'last'));
    expect(r.restored).toBeUndefined();
    expect(r.removed).toHaveLength(3);
    expect(readdirSync(dir)).toEqual(['last']);
    expect(readFileSync(join(dir, 'last', 'x'), 'utf8')).toBe('new');
  });

  it('leaves live writers’ work and other names alone', () => {
    const dir = freshDir();
    const live = [
      `.last.${process.pid}.00000001.tmp`,
      `.last.${process.pid}.00000001.tmp.old`,
      `.best.${deadPid}.00000001.tmp`,
      'last-notes',
    ];
    for (const name of live) folder(join(dir, name), name);
    expect(recoverDirectory(join(dir, 'last'))).toEqual({ removed: [] });
    expect(readdirSync(dir).sort()).toEqual([...live].sort());
    expect(recoverDirectory(join(dir, 'no-parent', 'last'))).toEqual({ removed: [] });
  });

  it('runs before every swap: the next save leaves no leftover', async () => {
    const dir = freshDir();
    folder(join(dir, `.ckpt.${deadPid}.00000001.tmp.old`), 'old');
    folder(join(dir, `.ckpt.${deadPid}.00000002.tmp`), 'half');
    await replaceDirectoryAtomic(join(dir, 'ckpt'), (s) => writeFileSync(join(s, 'x'), 'newest'));
    expect(readdirSync(dir)).toEqual(['ckpt']);
    expect(readFileSync(join(dir, 'ckpt', 'x'), 'utf8')).toBe('newest');
  });
});

describe('fault hooks (test only)', () => {
  it('OPENRETINA_TEST_ENOSPC: a full disk in a folder swap keeps the old folder and names the path', async () => {
    const dir = freshDir();
    const target = folder(join(dir, 'ckpt'), 'old');
    process.env.OPENRETINA_TEST_ENOSPC = 'ckpt';
    const error = await replaceDirectoryAtomic(target, (s) => writeFileSync(join(s, 'x'), 'new')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENOSPC', syscall: 'write', path: target });
    expect(readdirSync(dir)).toEqual(['ckpt']);
    expect(readFileSync(join(target, 'x'), 'utf8')).toBe('old');
  });

  it('OPENRETINA_TEST_ENOSPC=<text>@<n>: the n-th matching file write fails, the file keeps its old bytes, no temp file stays', async () => {
    const dir = freshDir();
    const file = join(dir, 'metrics.csv');
    process.env.OPENRETINA_TEST_ENOSPC = 'metrics.csv@2';
    await writeFileAtomic(file, 'one');
    await expect(writeFileAtomic(file, 'two')).rejects.toMatchObject({ code: 'ENOSPC', path: file });
    expect(readFileSync(file, 'utf8')).toBe('one');
    process.env.OPENRETINA_TEST_ENOSPC = 'metrics.csv'; // a new setting counts again from the first write
    expect(() => writeFileAtomicSync(file, 'three')).toThrow(expect.objectContaining({ code: 'ENOSPC', path: file }));
    expect(readFileSync(file, 'utf8')).toBe('one');
    expect(readdirSync(dir)).toEqual(['metrics.csv']);
  });

  it('OPENRETINA_TEST_SWAP_PAUSE_MS: the target is missing while the swap waits, and complete after it', async () => {
    const dir = freshDir();
    const target = folder(join(dir, 'ckpt'), 'old');
    process.env.OPENRETINA_TEST_SWAP_PAUSE_MS = '200';
    let settled = false;
    const swap = replaceDirectoryAtomic(target, (s) => writeFileSync(join(s, 'x'), 'new')).finally(() => {
      settled = true;
    });
    // wait (by polling the folder) until the old folder is aside; the swap's own timer cannot fire before our polls
    while (!settled && !readdirSync(dir).some((e) => e.endsWith('.tmp.old'))) await new Promise((r) => setTimeout(r, 2));
    expect(settled).toBe(false);
    expect(existsSync(target)).toBe(false);
    expect(recoverDirectory(target)).toEqual({ removed: [] }); // a live writer's swap is not touched
    await swap;
    expect(readdirSync(dir)).toEqual(['ckpt']);
    expect(readFileSync(join(target, 'x'), 'utf8')).toBe('new');
  });
});
