// Fault injection: a full disk (a write that fails with ENOSPC) during a checkpoint save, a metrics write and a
// download gives one `error [ENOSPC]:` line naming the path, keeps the files the user had, and leaves no temp file.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, publishedModelRepoPath } from '@openretina/hub/node';
import { LOCK_FILE } from '../src/run-lock.js';
import { readTrainingState } from '../src/run-state.js';
import { expectCleanFailure, runCaptured, tinyTrainArgs, writeTinyDataset } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'openretina-disk-full-'));
const data = join(root, 'lab');
const saved: Record<string, string | undefined> = {};
const ENV = ['OPENRETINA_TEST_ENOSPC', 'HF_ENDPOINT', 'HF_HUB_CACHE', 'OPENRETINA_CACHE_DIRECTORY'];

/** A two-epoch run into `out`. */
const train = (out: string) => runCaptured(tinyTrainArgs(data, out));

const tempFiles = (dir: string) => (readdirSync(dir, { recursive: true }) as string[]).filter((f) => /\.tmp/.test(f));

beforeAll(async () => {
  for (const k of ENV) saved[k] = process.env[k];
  await writeTinyDataset(data);
}, 60_000);

afterEach(() => {
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe('a full disk (ENOSPC)', () => {
  it('in the second save of checkpoints/last: the error names the folder, the first epoch’s last/ stays whole', async () => {
    const run = join(root, 'ckpt-full');
    const last = join(run, 'checkpoints', 'last');
    process.env.OPENRETINA_TEST_ENOSPC = `${last}@2`; // test hook of the atomic writes: the 2nd swap of last/ fails
    const r = await train(run);
    expectCleanFailure(r, 'checkpoint save', /^error \[ENOSPC\]: cannot write .*checkpoints\/last: no space left on the device\.$/);
    expect(readTrainingState(last).epoch).toBe(1);
    const { model } = await loadCheckpoint(last);
    model.dispose();
    expect(tempFiles(run)).toEqual([]);
    expect(existsSync(join(run, LOCK_FILE))).toBe(false);
  }, 240_000);

  it('in the second write of metrics.csv: the error names the file, which keeps the first epoch', async () => {
    const run = join(root, 'metrics-full');
    const csv = join(run, 'metrics.csv');
    process.env.OPENRETINA_TEST_ENOSPC = `${csv}@2`;
    const r = await train(run);
    expectCleanFailure(r, 'metrics write', /^error \[ENOSPC\]: cannot write .*metrics\.csv: no space left on the device\.$/);
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    expect(rows).toHaveLength(2); // the header and epoch 1
    expect(rows[1]).toMatch(/^0,/);
    expect(tempFiles(run)).toEqual([]);
  }, 240_000);

  describe('in a download', () => {
    let server: Server;
    const body = Buffer.alloc(64 * 1024, 7);
    beforeAll(async () => {
      server = createServer((req, res) => {
        const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
        if (path.startsWith('/api/datasets/open-retina/open-retina/tree/main/')) {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify([{ type: 'file', path: path.split('/tree/main/')[1], size: body.length }]));
        } else {
          res.writeHead(200, { 'content-length': body.length });
          res.end(body);
        }
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    });
    afterAll(() => {
      server.close();
    });

    // /dev/full: every write to it fails with the system's own ENOSPC error (Linux)
    it.skipIf(!existsSync('/dev/full'))(
      'the error names the partial file; the cached copy stays as it was',
      async () => {
        const cache = join(root, 'cache');
        const target = join(cache, ...publishedModelRepoPath('hoefling_2024_base_low_res').split('/'));
        mkdirSync(join(target, '..'), { recursive: true });
        writeFileSync(target, 'the copy downloaded before');
        symlinkSync('/dev/full', `${target}.part`); // the download's bytes go to a full disk
        process.env.HF_ENDPOINT = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        process.env.HF_HUB_CACHE = join(root, 'empty-hf-cache');
        process.env.OPENRETINA_CACHE_DIRECTORY = cache;
        const r = await runCaptured(['download', 'hoefling_2024_base_low_res', '--force', '--progress', 'none']);
        expectCleanFailure(
          r,
          'download',
          /^error \[ENOSPC\]: cannot write .*hoefling_2024_base_low_res\.ckpt\.part: no space left on the device\.$/,
        );
        expect(readFileSync(target, 'utf8')).toBe('the copy downloaded before');
        expect(tempFiles(cache)).toEqual([]);
      },
      60_000,
    );
  });
});
