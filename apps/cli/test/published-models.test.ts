import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNpy, serializeNpy } from '@openretina/formats';
import { relativeError } from '@openretina/test-utils/fixtures';
import {
  EXPORTED_FIXTURES,
  causalityOf,
  exportedCheckpoints,
  publishedOutput,
  publishedStandIns,
  publishedStimulus,
  standInPath,
  unchangedOutputFrames,
} from '@openretina/test-utils/published-models';
import { runCli } from '../src/index.js';
import { capture } from './helpers.js';

// The stand-ins of the nine published checkpoints (fixtures/hub/published: same class, hyper-parameter layout and
// architecture as the published files, Lightning 2 payload, torch 2 zip layout) and PyTorch's outputs on a stimulus
// whose second batch element changes after a few frames (the causality check).
const standIns = publishedStandIns();
const dir = mkdtempSync(join(tmpdir(), 'openretina-published-cli-'));
const readOut = (p: string) => parseNpy(new Uint8Array(readFileSync(p)));

function writeStimulus(name: string): string {
  const { data, shape } = publishedStimulus(standIns[name]!);
  const path = join(dir, `${name}-x.npy`);
  writeFileSync(path, serializeNpy(data, shape));
  return path;
}

/** `openretina predict --checkpoint <checkpoint>` with no other flags than the files; the prediction checked. */
async function predictMatches(name: string, checkpoint: string): Promise<void> {
  const out = join(dir, `${name}-y.npy`);
  const io = capture();
  expect(
    await runCli(['predict', '--checkpoint', checkpoint, '--input', writeStimulus(name), '--output', out], io),
    io.errors.join('\n'),
  ).toBe(0);
  const y = readOut(out);
  const entry = standIns[name]!;
  expect(y.shape).toEqual(entry.output_shape);
  const values = y.data as Float32Array;
  expect(relativeError(values, publishedOutput(name))).toBeLessThan(1e-4);
  expect(causalityOf(values, entry.output_shape, unchangedOutputFrames())).toEqual({ causal: true, reacts: true });
}

describe('openretina predict: every published model (stand-ins) loads with no extra flags, matches PyTorch, is causal', () => {
  for (const name of Object.keys(standIns)) {
    it(`${name} (${standIns[name]!.class})`, async () => {
      await predictMatches(name, standInPath(name));
    });
  }
});

describe('openretina export --format ckpt', () => {
  it('writes the very file OpenRetina loaded and predicted from (fixtures/hub/exported); ONNX-only flags are usage errors', async () => {
    const out = join(dir, 'exported.ckpt');
    const io = capture();
    expect(
      await runCli(['export', '--checkpoint', standInPath('hoefling_2024_base_low_res'), '--output', out], io),
      io.errors.join('\n'),
    ).toBe(0);
    expect(io.lines.at(-1)).toMatch(/UnifiedCoreReadout/);
    const committed = readFileSync(join(EXPORTED_FIXTURES, exportedCheckpoints().hoefling_2024_base_low_res!.file));
    expect(readFileSync(out).equals(committed)).toBe(true);
    const bad = capture();
    expect(await runCli(['export', '--checkpoint', out, '--output', join(dir, 'x.ckpt'), '--session', 's'], bad)).toBe(2);
    expect(bad.errors[0]).toMatch(/--session and --conv-form apply to ONNX exports/);
    const format = capture();
    expect(await runCli(['export', '--checkpoint', out, '--output', join(dir, 'x.bin'), '--format', 'pt'], format)).toBe(2);
    expect(format.errors[0]).toMatch(/--format must be onnx or ckpt, got "pt"/);
  });
});

describe('openretina download: the nine from a HuggingFace-layout server on 127.0.0.1, then predict by name', () => {
  const requests: string[] = [];
  let server: Server;
  const saved: Record<string, string | undefined> = {};
  const files = new Map(Object.values(standIns).map((e) => [e.file, e] as const));

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const listing = /^\/api\/datasets\/open-retina\/open-retina\/tree\/main\/(.+)$/.exec(url.pathname);
      const resolve = /^\/datasets\/open-retina\/open-retina\/resolve\/main\/(.+)$/.exec(url.pathname);
      const entry = files.get(decodeURIComponent((listing ?? resolve)?.[1] ?? ''));
      if (!entry) {
        res.statusCode = 404;
        res.end('not found');
        return;
      }
      if (listing) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify([{ type: 'file', path: entry.file, size: entry.bytes, lfs: { oid: entry.sha256, size: entry.bytes } }]));
        return;
      }
      const body = readFileSync(join(standInPath(Object.keys(standIns).find((n) => standIns[n] === entry)!)));
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    for (const k of ['HF_ENDPOINT', 'HF_HUB_CACHE', 'HF_HOME', 'OPENRETINA_CACHE_DIRECTORY']) saved[k] = process.env[k];
    process.env.HF_ENDPOINT = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.env.HF_HUB_CACHE = join(dir, 'empty-hf-cache');
    mkdirSync(process.env.HF_HUB_CACHE, { recursive: true });
    process.env.OPENRETINA_CACHE_DIRECTORY = join(dir, 'cache');
  });

  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('downloads each into <cache>/model_checkpoints/… (size and SHA-256 checked)', async () => {
    for (const [name, entry] of Object.entries(standIns)) {
      const io = capture();
      expect(await runCli(['download', name, '--progress', 'none'], io), io.errors.join('\n')).toBe(0);
      expect(io.lines.at(-1)).toBe(join(dir, 'cache', ...entry.file.split('/')));
      expect(
        createHash('sha256')
          .update(readFileSync(io.lines.at(-1)!))
          .digest('hex'),
      ).toBe(entry.sha256);
    }
    expect(requests.filter((r) => r.startsWith('GET /datasets/'))).toHaveLength(9);
  });

  it('predict --checkpoint <published name> loads the downloaded file (no further request)', async () => {
    const before = requests.length;
    for (const name of ['hoefling_2024_base_low_res', 'goldin_2022_mouse']) await predictMatches(name, name);
    expect(requests.length).toBe(before);
  });
});
