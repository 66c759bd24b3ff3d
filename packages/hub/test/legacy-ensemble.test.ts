import * as tf from '@tensorflow/tfjs-core';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOpenRetinaError, type StateDict } from '@openretina/contracts';
import { CoreReadout, LegacyEncoder } from '@openretina/models';
import { REPO_ROOT, ncdhwToNdhwc, readRawSafetensors, relativeError, type RawTensor } from '@openretina/test-utils/fixtures';
import {
  LEGACY_ENSEMBLE_MODEL_PATH,
  centerReadouts,
  isLegacyEnsembleSource,
  legacyEnsembleFromFiles,
  loadCoreReadout,
  loadLegacyHoeflingEnsemble,
  loadLegacyHoeflingMember,
  loadResponseModel,
  loadStateDictFlexible,
  parseLegacyConfig,
  readLegacyStateDict,
} from '../src/node.js';
import { findPrefix } from '../src/legacy/flexible-load.js';

const LEGACY = join(REPO_ROOT, 'fixtures', 'hub', 'legacy');
const DIR = join(LEGACY, 'ensemble');
const META = JSON.parse(readFileSync(join(LEGACY, 'reference.json'), 'utf8')) as {
  sessions: string[];
  neurons: Record<string, number>;
  members: { seed: number; state: [string, number[]][] }[];
};
let refs: Map<string, RawTensor> | undefined;
const ref = (name: string): RawTensor => {
  refs ??= readRawSafetensors(join(LEGACY, 'reference.safetensors'));
  const t = refs.get(name);
  if (!t) throw new Error(`no reference ${name}`);
  return t;
};
const refData = (name: string) => ref(name).data as Float32Array;
function input(): tf.Tensor5D {
  const { data, shape } = ncdhwToNdhwc(ref('input/x'));
  return tf.tensor5d(data, shape);
}
const TOL = 1e-5;

function expectOutputs(model: { forward(x: tf.Tensor5D, o?: { session?: string }): tf.Tensor3D }, prefix: string): void {
  const x = input();
  for (const s of META.sessions) {
    const y = model.forward(x, { session: s });
    // OpenRetina's test: (1, T − 30, N) for a (1, 2, T, 18, 16) stimulus.
    expect(y.shape).toEqual([1, x.shape[1] - 30, META.neurons[s]]);
    expect(relativeError(y.dataSync(), refData(`${prefix}/out/${s}`))).toBeLessThan(TOL);
    y.dispose();
  }
  x.dispose();
}

function tempCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'legacy-ens-'));
  cpSync(DIR, dir, { recursive: true });
  return dir;
}

describe('legacy Höfling 2024 (nnfabrik) ensemble', () => {
  it('loads a folder as OpenRetina does and reproduces the PyTorch ensemble within 1e-5', async () => {
    const before = tf.memory().numTensors;
    const { dataInfo, rawDataInfo, ensemble, seeds } = await loadLegacyHoeflingEnsemble(DIR);
    expect(seeds).toEqual([0, 1000]);
    expect(Object.keys(dataInfo)).toEqual(META.sessions); // the pickle's order
    const s0 = META.sessions[0]!;
    expect(dataInfo[s0]!.inputDimensions).toEqual([32, 2, 150, 18, 16]);
    expect(dataInfo[s0]!.outputDimension).toBe(META.neurons[s0]);
    expect(dataInfo[s0]!.roiCoords!.length).toBe(2 * META.neurons[s0]!);
    expect(Object.keys(rawDataInfo)).toEqual(META.sessions);
    expect(ensemble.training).toBe(false);
    expect(ensemble.framesCut).toBe(30);
    expect(ensemble.sessions).toEqual([...META.sessions].sort());
    expectOutputs(ensemble, 'ensemble');
    // Member state dicts: PyTorch's keys, shapes and order, under members.<i>. as OpenRetina's EnsembleModel.
    const keys = [...ensemble.stateDict()].map(([k, v]) => [k, [...v.shape]]);
    const expected = META.members.flatMap((m, i) => m.state.map(([k, s]) => [`members.${i}.${k}`, s]));
    expect(keys).toEqual(expected);
    // predict() and no-session forward (all sessions, sorted, concatenated).
    const x = input();
    const y = await ensemble.predict(x);
    expect(y.shape).toEqual([1, 10, Object.values(META.neurons).reduce((a, b) => a + b, 0)]);
    tf.dispose([x, y]);
    ensemble.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('forward and gradient leak no tensors', async () => {
    const { ensemble } = await loadLegacyHoeflingEnsemble(DIR);
    const x = input();
    const before = tf.memory().numTensors;
    ensemble.forward(x, { session: META.sessions[0]! }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    const g = tf.grad((v: tf.Tensor) => tf.sum(ensemble.forward(v as tf.Tensor5D, { session: META.sessions[1]! })))(x);
    expect(g.shape).toEqual(x.shape);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    ensemble.dispose();
  });

  it('centres the readouts like Center(target_mean=(0, 0))', async () => {
    const { ensemble } = await loadLegacyHoeflingEnsemble(DIR, { center: true });
    expectOutputs(ensemble, 'centered');
    for (const [k, v] of ensemble.stateDict())
      if (k.endsWith('mask_mean')) expect(Math.max(...Array.from(v.data as Float32Array, Math.abs))).toBe(0);
    const changed = centerReadouts(ensemble, { targetMean: [0.1, -0.2] });
    expect(changed).toHaveLength(4);
    const mm = ensemble.stateDict().get(`members.1.readout.${META.sessions[0]}.mask_mean`)!;
    expect(
      Array.from(mm.data as Float32Array)
        .slice(0, 2)
        .map((v) => +v.toFixed(5)),
    ).toEqual([0.1, -0.2]);
    expect(() => centerReadouts(ensemble, { meanKey: 'nothing_like_this' })).toThrow(/nothing_like_this/);
    ensemble.dispose();
  });

  it('round-trips the ensemble state dict into a freshly loaded ensemble', async () => {
    const a = await loadLegacyHoeflingEnsemble(DIR, { center: true });
    const b = await loadLegacyHoeflingEnsemble(DIR);
    b.ensemble.loadStateDict(a.ensemble.stateDict());
    expectOutputs(b.ensemble, 'centered');
    a.ensemble.dispose();
    b.ensemble.dispose();
  });

  it('gives one member as a core-readout (loadCoreReadout, OpenRetina visualize’s members[model_id])', async () => {
    const first = await loadCoreReadout(DIR);
    expect(first).toBeInstanceOf(CoreReadout);
    expect(first).toBeInstanceOf(LegacyEncoder);
    expectOutputs(first, 'member0');
    first.dispose();
    const last = await loadLegacyHoeflingMember(DIR, { member: -1 });
    expectOutputs(last, 'member1');
    last.dispose();
    await expect(loadLegacyHoeflingMember(DIR, { member: 2 })).rejects.toThrow(/out of range/);
    const whole = await loadResponseModel(DIR);
    expect(whole.sessions).toEqual([...META.sessions].sort());
    expectOutputs(whole as unknown as Parameters<typeof expectOutputs>[0], 'ensemble');
    whole.dispose();
    expect(await isLegacyEnsembleSource(DIR)).toBe(true);
    expect(await isLegacyEnsembleSource(LEGACY)).toBe(false);
    expect(await isLegacyEnsembleSource('hoefling_2024_ensemble')).toBe(true);
  });

  it('names missing files and refuses mismatched state dicts, unused keys and Python YAML tags', async () => {
    const dir = tempCopy();
    try {
      rmSync(join(dir, 'data_info_01000.pkl'));
      const missing = await loadLegacyHoeflingEnsemble(dir).catch((e: unknown) => e);
      expect(isOpenRetinaError(missing, 'OPENRETINA_DATA')).toBe(true);
      expect(String((missing as Error).message)).toContain(join(dir, 'data_info_01000.pkl'));
      await expect(loadLegacyHoeflingEnsemble(dir, { seeds: [0] })).resolves.toBeDefined();

      const cfg = readFileSync(join(dir, 'config_00000.yaml'), 'utf8');
      // Wrong architecture: a shape mismatch is an error naming the key and both shapes.
      writeFileSync(
        join(dir, 'config_00000.yaml'),
        cfg.replace(/hidden_channels: !!python\/tuple\n {2}- 4/, 'hidden_channels: !!python/tuple\n  - 5'),
      );
      const mismatch = await loadLegacyHoeflingEnsemble(dir, { seeds: [0] }).catch((e: unknown) => e);
      expect(isOpenRetinaError(mismatch, 'OPENRETINA_STATE_DICT')).toBe(true);
      expect(String((mismatch as Error).message)).toMatch(
        /state_dict_00000\.pth\.tar.*shape mismatch for key core\.features\.layer0\.conv\.sin_weights.*\[5, 2, 7\].*\[4, 2, 7\]/s,
      );
      // Entries the model does not have (no readout bias) are an error without `transfer`, ignored with it.
      writeFileSync(join(dir, 'config_00000.yaml'), cfg.replace('readout_bias: true', 'readout_bias: false'));
      await expect(loadLegacyHoeflingEnsemble(dir, { seeds: [0] })).rejects.toThrow(/unused keys.*readout\.2_ventral1_20201021\.bias/s);
      writeFileSync(
        join(dir, 'config_00000.yaml'),
        cfg.replace('readout_bias: true', 'readout_bias: false').replace('model_config:', 'model_config:\n  transfer: true'),
      );
      const logs: string[] = [];
      const ok = await loadLegacyHoeflingEnsemble(dir, { seeds: [0], log: (m) => logs.push(m) });
      expect(logs.join('\n')).toMatch(/Ignored unnecessary keys/);
      ok.ensemble.dispose();
      // Missing entries keep their initial values (strict=False), as OpenRetina.
      writeFileSync(join(dir, 'config_00000.yaml'), cfg.replace('readout_scale: false', 'readout_scale: true'));
      const extra = await loadLegacyHoeflingEnsemble(dir, { seeds: [0], log: (m) => logs.push(m) });
      expect(logs.at(-1)).toMatch(/Ignored missing keys: .*\.scale/);
      extra.ensemble.dispose();
      // Python object tags are refused, never run.
      writeFileSync(join(dir, 'config_00000.yaml'), `${cfg}evil: !!python/object/apply:os.system ["echo pwned"]\n`);
      await expect(loadLegacyHoeflingEnsemble(dir, { seeds: [0] })).rejects.toThrow(/unsupported YAML tag/);
      expect(() => parseLegacyConfig('model_fn: some_repo.a.b.SFB3d_core_SxF3d_readout\n')).toThrow(/unsupported repository/);
      expect(() => parseLegacyConfig('model_fn: nnfabrik_euler.a.b.Other\n')).toThrow(/not supported/);
      expect(() => parseLegacyConfig('model_fn: nnfabrik_euler.models.SFB3d_core_SxF3d_readout\n')).toThrow(/four dotted parts/);
      expect(
        parseLegacyConfig('model_fn: openretina.hoefling_2024.models.SFB3d_core_SxF3d_readout\nmodel_config:\n  layers: 2\n').openRetinaFn,
      ).toBe('openretina.legacy.models.SFB3d_core_SxF3d_readout');
      // A truncated state dict is a clear file-format error.
      const sd = readFileSync(join(DIR, 'state_dict_00000.pth.tar'));
      writeFileSync(join(dir, 'config_00000.yaml'), cfg);
      writeFileSync(join(dir, 'state_dict_00000.pth.tar'), sd.subarray(0, sd.length >> 1));
      await expect(loadLegacyHoeflingEnsemble(dir, { seeds: [0] })).rejects.toThrow(/state_dict_00000\.pth\.tar/);
      await expect(loadLegacyHoeflingEnsemble(join(dir, 'nope'))).rejects.toThrow(/not a folder/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('matches key prefixes like nnfabrik (find_prefix, transfer loading)', () => {
    // Values checked against OpenRetina's find_prefix.
    expect(findPrefix(['model.core.a', 'model.core.b', 'model.readout.c'])).toEqual(['model.core', 2]);
    expect(findPrefix(['model.core.a', 'model.core.b', 'model.readout.c', 'model.readout.d'])).toEqual(['model', 1]);
    expect(findPrefix(['x.a.b', 'y.a.b'], 0.5)).toEqual(['x.a', 2]);
    expect(findPrefix(['model.core.a', 'model.core.b', 'model.core.c'])).toEqual(['model.core', 2]);
    expect(findPrefix(['a', 'b'])).toEqual(['', 0]);
    const member = legacyEnsembleFromFiles([
      {
        seed: 0,
        config: readFileSync(join(DIR, 'config_00000.yaml'), 'utf8'),
        dataInfo: new Uint8Array(readFileSync(join(DIR, 'data_info_00000.pkl'))),
        stateDict: new Uint8Array(readFileSync(join(DIR, 'state_dict_00000.pth.tar'))),
      },
    ]).ensemble.members.at(0);
    const original = readLegacyStateDict(new Uint8Array(readFileSync(join(DIR, 'state_dict_00000.pth.tar'))));
    const prefixed: StateDict = new Map([...original].map(([k, v]) => [`model.${k}`, v]));
    expect(() => loadStateDictFlexible(member, prefixed, { ignoreMissing: true })).toThrow(/unused keys/);
    const r = loadStateDictFlexible(member, prefixed, {
      ignoreMissing: true,
      matchNames: true,
      ignoreUnused: true,
      ignoreDimMismatch: true,
    });
    expect(r.loadedKeys.length).toBe(original.size);
    expect(r.unusedKeys).toEqual([]);
    expectOutputs(member, 'member0');
    member.dispose();
  });
});

describe('legacy ensemble from a remote (local HTTP server, data-io cache)', () => {
  const cache = mkdtempSync(join(tmpdir(), 'legacy-cache-'));
  const requests: string[] = [];
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
      const prefix = `/${LEGACY_ENSEMBLE_MODEL_PATH}/`;
      const file = path.startsWith(prefix) ? path.slice(prefix.length) : '';
      if (file && !file.includes('/') && existsSync(join(DIR, file))) {
        const body = readFileSync(join(DIR, file));
        res.writeHead(200, { 'content-length': body.length });
        res.end(body);
        return;
      }
      res.statusCode = 404;
      res.end('not found');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(cache, { recursive: true, force: true });
  });

  it('downloads the members (urljoin(remote_url, model_path/file), cached under the last two components) and reproduces PyTorch', async () => {
    const options = { remoteUrl: base, seeds: [0, 1000], cacheDir: cache, retries: 0 };
    const { ensemble } = await loadLegacyHoeflingEnsemble('hoefling_2024_ensemble', options);
    expectOutputs(ensemble, 'ensemble');
    ensemble.dispose();
    const hash = LEGACY_ENSEMBLE_MODEL_PATH.split('/').pop()!;
    expect(readdirSync(join(cache, hash)).sort()).toEqual(readdirSync(DIR).sort());
    expect(requests).toHaveLength(6);
    // Cached: no further requests, also through loadResponseModel with the folder URL.
    const again = await loadResponseModel(`${base}${LEGACY_ENSEMBLE_MODEL_PATH}`, { seeds: [0, 1000], cacheDir: cache });
    expectOutputs(again as unknown as Parameters<typeof expectOutputs>[0], 'ensemble');
    again.dispose();
    expect(requests).toHaveLength(6);
  });

  it('fails with a download error naming the URL and the cache path for a missing member', async () => {
    const error = await loadLegacyHoeflingEnsemble(undefined, {
      remoteUrl: base,
      seeds: [2000],
      cacheDir: cache,
      retries: 0,
    }).catch((e: unknown) => e);
    expect(isOpenRetinaError(error, 'OPENRETINA_DOWNLOAD')).toBe(true);
    const message = String((error as Error).message);
    expect(message).toContain(`${base}${LEGACY_ENSEMBLE_MODEL_PATH}/config_02000.yaml`);
    expect(message).toContain(join(cache, LEGACY_ENSEMBLE_MODEL_PATH.split('/').pop()!, 'config_02000.yaml'));
  });
});
