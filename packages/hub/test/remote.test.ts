import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOpenRetinaError } from '@openretina/contracts';
import { OPENRETINA_FIXTURES, ref, relativeError } from '@openretina/test-utils/fixtures';
import { ResponseModelEnsemble } from '@openretina/models';
import {
  PUBLISHED_MODELS,
  downloadPublishedModel,
  findInHuggingFaceCache,
  loadCoreReadout,
  loadEnsemble,
  loadResponseModel,
  publishedModelUrl,
} from '../src/node.js';
import { refVideo } from './helpers.js';

const CKPT = readFileSync(join(OPENRETINA_FIXTURES, 'model.ckpt'));
const SHA = createHash('sha256').update(CKPT).digest('hex');
const NAME = 'hoefling_2024_low_res';
const REPO_PATH = `model_checkpoints/${PUBLISHED_MODELS[NAME]}`;

interface ServerState {
  requests: string[];
  reportedSize: number;
  cutFirstResponseAt: number | undefined;
}

function startServer(state: ServerState): Promise<Server> {
  const server = createServer((req, res) => {
    state.requests.push(`${req.method} ${req.url} ${req.headers.range ?? ''}`.trim());
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === `/api/datasets/open-retina/open-retina/tree/main/${REPO_PATH}`) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify([{ type: 'file', path: REPO_PATH, size: state.reportedSize, lfs: { oid: SHA, size: state.reportedSize } }]));
      return;
    }
    if (url.pathname === `/datasets/open-retina/open-retina/resolve/main/${REPO_PATH}`) {
      const range = /bytes=(\d+)-/.exec(req.headers.range ?? '');
      const start = range ? Number(range[1]) : 0;
      const body = CKPT.subarray(start);
      res.writeHead(range ? 206 : 200, {
        'content-length': body.length,
        ...(range ? { 'content-range': `bytes ${start}-${CKPT.length - 1}/${CKPT.length}` } : {}),
      });
      if (state.cutFirstResponseAt !== undefined) {
        const cut = state.cutFirstResponseAt;
        state.cutFirstResponseAt = undefined;
        res.write(body.subarray(0, cut), () => res.destroy());
        return;
      }
      res.end(body);
      return;
    }
    res.statusCode = 404;
    res.end('not found');
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

function expectFixture(model: { forward: (x: tf.Tensor5D, o?: { session?: string }) => tf.Tensor3D }): void {
  const x = refVideo('input/x');
  const y = model.forward(x, { session: 'session_2' });
  expect(relativeError(y.dataSync(), ref('eval/out/session_2').data as Float32Array)).toBeLessThan(1e-5);
  tf.dispose([x, y]);
}

describe('published models: registry, HF cache lookup, download through the data-io cache', () => {
  const root = mkdtempSync(join(tmpdir(), 'hub-remote-'));
  const state: ServerState = { requests: [], reportedSize: CKPT.length, cutFirstResponseAt: undefined };
  let server: Server;
  let endpoint: string;
  beforeAll(async () => {
    // The backend comes from test-utils/backend-setup.ts (cpu, or wasm in the wasm project).
    server = await startServer(state);
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('knows the nine published names and their OpenRetina URLs', () => {
    expect(Object.keys(PUBLISHED_MODELS)).toHaveLength(9);
    expect(publishedModelUrl(NAME)).toBe(
      'https://huggingface.co/datasets/open-retina/open-retina/tree/main/model_checkpoints/2026-03-09/hoefling_2024_cnn_low_res.ckpt',
    );
  });

  it('uses a file already in the HuggingFace hub cache layout without any request', async () => {
    const hf = join(root, 'hf');
    const snap = join(hf, 'datasets--open-retina--open-retina', 'snapshots', 'abc123', ...REPO_PATH.split('/'));
    mkdirSync(join(snap, '..'), { recursive: true });
    copyFileSync(join(OPENRETINA_FIXTURES, 'model.ckpt'), snap);
    mkdirSync(join(hf, 'datasets--open-retina--open-retina', 'refs'), { recursive: true });
    writeFileSync(join(hf, 'datasets--open-retina--open-retina', 'refs', 'main'), 'abc123');
    expect(await findInHuggingFaceCache(REPO_PATH, { cacheDir: hf })).toBe(snap);
    const fetchSpy = () => Promise.reject(new Error('no network in this test'));
    const model = await loadCoreReadout(NAME, { huggingFaceCache: hf, cacheDir: join(root, 'unused'), fetch: fetchSpy as typeof fetch });
    expectFixture(model);
    model.dispose();
    expect(existsSync(join(root, 'unused'))).toBe(false);
  });

  it('cache miss downloads into <cache>/model_checkpoints/…; a cache hit makes no request', async () => {
    const cacheDir = join(root, 'cache-miss');
    state.requests.length = 0;
    const opts = { cacheDir, hfEndpoint: endpoint, huggingFaceCache: false as const };
    const path = await downloadPublishedModel(NAME, opts);
    expect(path).toBe(join(cacheDir, ...REPO_PATH.split('/')));
    expect(readFileSync(path).equals(CKPT)).toBe(true);
    expect(state.requests.some((r) => r.includes('/resolve/main/'))).toBe(true);
    state.requests.length = 0;
    const model = await loadCoreReadout(NAME, opts);
    expect(state.requests).toEqual([]);
    expectFixture(model);
    model.dispose();
  });

  it('an interrupted download is retried (resumed when bytes arrived) and completes intact', async () => {
    const cacheDir = join(root, 'cache-interrupted');
    state.requests.length = 0;
    state.cutFirstResponseAt = 5000;
    const path = await downloadPublishedModel(NAME, {
      cacheDir,
      hfEndpoint: endpoint,
      huggingFaceCache: false,
      retryDelayMs: 10,
    });
    expect(readFileSync(path).equals(CKPT)).toBe(true);
    expect(state.requests.filter((r) => r.includes('/resolve/main/')).length, state.requests.join('\n')).toBe(2);
  });

  it('a wrong size is a DownloadError and leaves nothing in the cache', async () => {
    const cacheDir = join(root, 'cache-wrong');
    state.reportedSize = CKPT.length + 1;
    try {
      await expect(downloadPublishedModel(NAME, { cacheDir, hfEndpoint: endpoint, huggingFaceCache: false, retries: 0 })).rejects.toThrow(
        /wrong size|ended after/,
      );
      expect(existsSync(join(cacheDir, ...REPO_PATH.split('/')))).toBe(false);
    } finally {
      state.reportedSize = CKPT.length;
    }
  });

  it('offline: a clear error naming the URL and the cache path', async () => {
    const cacheDir = join(root, 'cache-offline');
    const closed = await startServer(state);
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    try {
      await downloadPublishedModel(NAME, {
        cacheDir,
        hfEndpoint: `http://127.0.0.1:${port}`,
        huggingFaceCache: false,
        retries: 0,
      });
      throw new Error('expected an error');
    } catch (e) {
      expect(isOpenRetinaError(e, 'OPENRETINA_DOWNLOAD'), String(e)).toBe(true);
      expect((e as Error).message).toContain(`http://127.0.0.1:${port}`);
      expect((e as Error).message).toContain(join(cacheDir, ...REPO_PATH.split('/')));
    }
  });
});

describe('ensembles', () => {
  it('the prediction is the mean of the members', async () => {
    const ens = await loadEnsemble([join(OPENRETINA_FIXTURES, 'model.ckpt'), join(OPENRETINA_FIXTURES, 'model_plain.ckpt')]);
    expect(ens).toBeInstanceOf(ResponseModelEnsemble);
    expect(ens.sessions).toEqual(['session_1', 'session_2', 'session_3']);
    expectFixture(ens);
    // change one member: the ensemble output is the mean of both
    const [a, b] = ens.members as unknown as [
      { forward: (x: tf.Tensor5D, o: object) => tf.Tensor3D; readout: { readout: (s: string) => { bias: tf.Variable } } },
      (typeof ens.members)[0],
    ];
    void b;
    const bias = a.readout.readout('session_2').bias;
    bias.assign(tf.add(bias, 1));
    const x = refVideo('input/x');
    const ya = a.forward(x, { session: 'session_2' });
    const yb = (ens.members[1] as unknown as typeof a).forward(x, { session: 'session_2' });
    const y = await ens.predict(x, { session: 'session_2' });
    const mean = tf.div(tf.add(ya, yb), 2);
    expect(relativeError(y.dataSync(), mean.dataSync())).toBeLessThan(1e-6);
    tf.dispose([x, ya, yb, y, mean]);
    ens.dispose();
  });
});

describe('.onnx sources (hub has no ONNX runtime)', () => {
  it('are opened through the loadOnnx option, and refused with what to install without it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hub-onnx-'));
    const file = join(dir, 'model.onnx');
    writeFileSync(file, new Uint8Array([8, 1]));
    try {
      const error = await loadResponseModel(file).catch((e: unknown) => e);
      expect(isOpenRetinaError(error, 'OPENRETINA_UNSUPPORTED')).toBe(true);
      expect((error as Error).message).toMatch(/npm i @openretina\/onnx onnxruntime-node.*loadOnnxModel from '@openretina\/onnx\/node'/);
      const opened: string[] = [];
      const member = await loadCoreReadout(join(OPENRETINA_FIXTURES, 'model.ckpt'));
      const loaded = await loadResponseModel(file, {
        loadOnnx: async (path) => {
          opened.push(path);
          return member;
        },
      });
      expect(loaded).toBe(member);
      expect(opened).toEqual([file]);
      member.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
