import { describe, expect, it } from 'vitest';
import type { DownloadProgress } from '@openretina/data-io/node';
import { downloadProgressRenderer } from '../src/download-progress.js';

const events = (total: number | undefined): DownloadProgress[] => {
  const base = { url: 'http://127.0.0.1/f/p.bin', path: '/cache/lab/p.bin', total, attempt: 0 };
  return [
    { ...base, phase: 'start', received: 0 },
    ...[5_000, 25_000, 50_000, 100_000].map((received) => ({ ...base, phase: 'data' as const, received })),
    { ...base, phase: 'done', received: 100_000 },
  ];
};

function render(display: 'auto' | 'bar' | 'lines' | 'none', isTTY: boolean, input: DownloadProgress[]): string[] {
  const writes: string[] = [];
  let t = 0;
  const onProgress = downloadProgressRenderer(display, { write: (s: string) => writes.push(s), isTTY }, () => (t += 1000));
  for (const e of input) onProgress(e);
  return writes;
}

describe('download progress in the CLI', () => {
  it('draws a bar in place on a terminal and ends it with a newline', () => {
    const writes = render('auto', true, events(100_000));
    expect(writes.slice(0, -1).every((w) => w.startsWith('\rp.bin ['))).toBe(true);
    expect(writes.at(-2)).toBe(`\rp.bin [${'#'.repeat(30)}] 100% 0.1/0.1 MB`);
    expect(writes.at(-1)).toBe('\n');
  });

  it('writes a line every 10 % when asked, and nothing off a terminal in auto mode or with none', () => {
    expect(render('lines', false, events(100_000))).toEqual([
      'p.bin: 20% (0.0/0.1 MB)\n',
      'p.bin: 50% (0.1/0.1 MB)\n',
      'p.bin: 100% (0.1/0.1 MB)\n',
    ]);
    expect(render('auto', false, events(100_000))).toEqual([]);
    expect(render('none', true, events(100_000))).toEqual([]);
  });

  it('shows bytes without a total, and says when it retries', () => {
    const retry: DownloadProgress = { url: 'u', path: '/c/p.bin', phase: 'retry', received: 25_000, total: undefined, attempt: 1 };
    const writes = render('bar', false, [...events(undefined).slice(0, 3), retry]);
    expect(writes).toEqual(['\rp.bin 0.0 MB', '\rp.bin 0.0 MB', '\n', 'p.bin: retrying (attempt 2), resuming at 0.0 MB\n']);
  });
});
