// The bin's relaunch with huge pages for malloc (src/huge-pages.ts): when it applies, what it sets, and that a real
// relaunch keeps the process, its arguments and its other settings.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hugePageTunables, isHeavyCommand, transparentHugePageMode } from '../src/huge-pages.js';

const MODULE = fileURLToPath(new URL('../dist/huge-pages.js', import.meta.url));

describe('hugePageTunables', () => {
  it('adds glibc.malloc.hugetlb=1 on Linux with transparent huge pages, keeping other tunables', () => {
    expect(hugePageTunables({}, 'linux', 'madvise')).toBe('glibc.malloc.hugetlb=1');
    expect(hugePageTunables({}, 'linux', 'always')).toBe('glibc.malloc.hugetlb=1');
    expect(hugePageTunables({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, 'linux', 'madvise')).toBe(
      'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1',
    );
  });

  it('changes nothing elsewhere, without huge pages, when turned off, or when the user set hugetlb', () => {
    expect(hugePageTunables({}, 'darwin', 'madvise')).toBeUndefined();
    expect(hugePageTunables({}, 'linux', 'never')).toBeUndefined();
    expect(hugePageTunables({}, 'linux', undefined)).toBeUndefined();
    expect(hugePageTunables({ OPENRETINA_HUGE_PAGES: '0' }, 'linux', 'madvise')).toBeUndefined();
    expect(hugePageTunables({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }, 'linux', 'madvise')).toBeUndefined();
    expect(hugePageTunables({ GLIBC_TUNABLES: 'glibc.malloc.tcache_count=0:glibc.malloc.hugetlb=2' }, 'linux', 'always')).toBeUndefined();
  });
});

describe('isHeavyCommand', () => {
  it('is the commands that train, predict or compute MEIs, not help, version or downloads', () => {
    expect(isHeavyCommand(['train', '--config', 'x'])).toBe(true);
    expect(isHeavyCommand(['--debug', 'mei', 'run'])).toBe(true);
    expect(isHeavyCommand(['sweep'])).toBe(true);
    expect(isHeavyCommand(['train', '--help'])).toBe(false);
    expect(isHeavyCommand(['--help'])).toBe(false);
    expect(isHeavyCommand(['--version'])).toBe(false);
    expect(isHeavyCommand(['download', 'hoefling_2024_base_low_res'])).toBe(false);
    expect(isHeavyCommand([])).toBe(false);
  });
});

describe('relaunchWithHugePages', () => {
  const canRelaunch =
    process.platform === 'linux' &&
    typeof (process as { execve?: unknown }).execve === 'function' &&
    ['always', 'madvise'].includes(transparentHugePageMode() ?? '');

  function run(env: Record<string, string | undefined>) {
    const dir = mkdtempSync(join(tmpdir(), 'orhuge-'));
    const script = join(dir, 'relaunch.mjs');
    // prints once per start: a relaunch shows two lines, the second with the tunable
    writeFileSync(
      script,
      `console.log(JSON.stringify({ pid: process.pid, tunables: process.env.GLIBC_TUNABLES ?? null, argv: process.argv.slice(2), marker: process.env.OR_MARKER ?? null }));
const { relaunchWithHugePages } = await import(${JSON.stringify(pathToFileURL(MODULE).href)});
relaunchWithHugePages(process.argv.slice(2));
console.log('done');`,
    );
    const childEnv: Record<string, string | undefined> = { ...process.env, OR_MARKER: 'kept' };
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete childEnv[k];
      else childEnv[k] = v;
    }
    const r = spawnSync(process.execPath, [script, 'train', '--config', 'a b'], { encoding: 'utf8', env: childEnv });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('done');
    return lines.slice(0, -1).map((l) => JSON.parse(l) as { pid: number; tunables: string | null; argv: string[]; marker: string | null });
  }

  it.runIf(canRelaunch)('starts the process again, same id and arguments, with glibc.malloc.hugetlb=1 added', () => {
    const starts = run({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=4', OPENRETINA_HUGE_PAGES: undefined });
    expect(starts).toHaveLength(2);
    expect(starts[0]!.tunables).toBe('glibc.malloc.arena_max=4');
    expect(starts[1]).toEqual({
      pid: starts[0]!.pid,
      tunables: 'glibc.malloc.arena_max=4:glibc.malloc.hugetlb=1',
      argv: ['train', '--config', 'a b'],
      marker: 'kept',
    });
  });

  it('starts only once when turned off or already set', () => {
    expect(run({ OPENRETINA_HUGE_PAGES: '0', GLIBC_TUNABLES: undefined })).toHaveLength(1);
    expect(run({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' })).toHaveLength(1);
  });
});
