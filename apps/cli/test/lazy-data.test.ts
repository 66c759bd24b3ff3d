// `openretina train` on a generic HDF5 dataset read per clip on demand (+data_io.lazy_threshold_bytes=0) against the
// same run read whole: the same losses, epoch by epoch, and the same error for a non-finite response.
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCleanFailure, runCaptured, tinyTrainArgs, writeTinyDataset } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'openretina-lazy-'));
const data = join(root, 'lab');
const infData = join(root, 'lab-inf');
const LAZY = '+data_io.lazy_threshold_bytes=0';

beforeAll(async () => {
  await writeTinyDataset(data);
  await writeTinyDataset(infData, 'session', (s) => {
    const r = Object.values(s.sessions.session_1!.responses)[0]!;
    (r.data as Float32Array)[5] = Number.POSITIVE_INFINITY;
  });
});

/** Files under `dir` this process holds open (Linux's /proc/self/fd; empty where there is none). */
function openFilesUnder(dir: string): string[] {
  if (!existsSync('/proc/self/fd')) return [];
  const links = readdirSync('/proc/self/fd').map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return ''; // closed between the listing and the read
    }
  });
  return links.filter((l) => l.startsWith(`${dir}/`));
}

/** metrics.csv without its timing columns. */
function losses(run: string): string[][] {
  const [header, ...rows] = readFileSync(join(run, 'metrics.csv'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  const keep = header!.map((h, i) => (/time|seconds|_ms$|timestamp/.test(h) ? -1 : i)).filter((i) => i >= 0);
  return [header!, ...rows].map((r) => keep.map((i) => r[i]!));
}

describe('lazy data in the CLI', () => {
  it('trains to the same losses as the eager reader', async () => {
    const eager = await runCaptured(tinyTrainArgs(data, join(root, 'eager')));
    expect(eager.code, eager.errors.join('\n')).toBe(0);
    const lazy = await runCaptured(tinyTrainArgs(data, join(root, 'lazy'), [LAZY]));
    expect(lazy.code, lazy.errors.join('\n')).toBe(0);
    // the files read on demand are closed when the run ends (the run is in this process)
    expect(openFilesUnder(data)).toEqual([]);
    expect(lazy.lines.join('\n')).toMatch(/is read per clip on demand/);
    expect(eager.lines.join('\n')).not.toMatch(/is read per clip on demand/);
    const [e, l] = [losses(join(root, 'eager')), losses(join(root, 'lazy'))];
    expect(e[0]).toContain('val_evaluation_loss');
    expect(e.length).toBe(3); // header + 2 epochs
    expect(l).toEqual(e);
    const test = (run: string) => (JSON.parse(readFileSync(join(root, run, 'metrics.json'), 'utf8')) as { test: unknown }).test;
    expect(test('lazy')).toEqual(test('eager'));
  }, 240_000);

  it('refuses a non-finite response read on demand with the eager message', async () => {
    const eager = await runCaptured(tinyTrainArgs(infData, join(root, 'inf-eager')));
    const lazy = await runCaptured(tinyTrainArgs(infData, join(root, 'inf-lazy'), [LAZY]));
    expectCleanFailure(eager, 'eager', /OPENRETINA_DATA.*non-finite value: Infinity at index/);
    expectCleanFailure(lazy, 'lazy', /OPENRETINA_DATA.*non-finite value: Infinity at index/);
    expect(openFilesUnder(infData)).toEqual([]); // closed on failure too
    const line = (r: { errors: string[] }) => r.errors.find((x) => x.startsWith('error ['))!.replaceAll(/inf-(eager|lazy)/g, '');
    expect(line(lazy)).toBe(line(eager));
  }, 120_000);
});
