import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOpenRetinaError } from '@openretina/contracts';
import { OPENRETINA_FIXTURES, ref, relativeError } from '@openretina/test-utils/fixtures';
import { coreReadoutFromCheckpointBytes, loadCheckpoint, saveCheckpoint } from '../src/node.js';
import type { CoreReadout } from '@openretina/models';
import { sha256Hex } from '../src/model-card.js';
import { refVideo } from './helpers.js';

describe('our checkpoint format (model.safetensors + model.json)', () => {
  let model: CoreReadout;
  const dir = mkdtempSync(join(tmpdir(), 'hub-ckpt-'));
  beforeAll(async () => {
    // The backend comes from test-utils/backend-setup.ts (cpu, or wasm in the wasm project).
    model = coreReadoutFromCheckpointBytes(new Uint8Array(readFileSync(join(OPENRETINA_FIXTURES, 'model.ckpt'))));
  });
  afterAll(() => {
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips: save → load gives identical state dict, data info and outputs; the card follows the metadata standard', async () => {
    const path = join(dir, 'ckpt');
    const card = await saveCheckpoint(model, path, { name: 'fixture', species: 'mouse', stimulusRateHz: 30 });
    expect(readdirSync(path).sort()).toEqual(['model.json', 'model.safetensors']);
    expect(readdirSync(dir)).toEqual(['ckpt']); // no temp leftovers
    expect(card.metadata.neuronsPerSession).toEqual({ session_1: 20, session_2: 35, session_3: 50 });
    expect(card.metadata.inputShape).toEqual([2, 18, 16]);
    expect(card.metadata.normalization).toEqual({ mean: 0, std: 1 });
    expect(card.metadata.stimulusClass).toBe('natural');
    expect(card.metadata.species).toBe('mouse');
    expect(card.metadata.framesCut).toBe(30);
    expect(card.metadata.provenanceHash).toMatch(/^[0-9a-f]{64}$/);
    const { model: loaded, card: card2 } = await loadCheckpoint(path);
    expect(card2.metadata.provenanceHash).toBe(card.metadata.provenanceHash);
    const a = model.stateDict();
    const b = loaded.stateDict();
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) expect(Array.from(b.get(k)!.data as ArrayLike<number>), k).toEqual(Array.from(v.data as ArrayLike<number>));
    expect(Array.from(loaded.dataInfo!.meanActivityDict.session_2!)).toEqual(Array.from(model.dataInfo!.meanActivityDict.session_2!));
    const x = refVideo('input/x');
    const y1 = model.forward(x);
    const y2 = loaded.forward(x);
    expect(Array.from(y2.dataSync())).toEqual(Array.from(y1.dataSync()));
    expect(relativeError(y2.dataSync(), ref('eval/out/all_sessions_concat').data as Float32Array)).toBeLessThan(1e-5);
    tf.dispose([x, y1, y2]);
    // saving again replaces the checkpoint atomically
    await saveCheckpoint(loaded, path);
    expect(readdirSync(dir)).toEqual(['ckpt']);
    loaded.dispose();
  });

  it('a corrupted or truncated checkpoint is a clear error', async () => {
    const path = join(dir, 'bad');
    await saveCheckpoint(model, path);
    const weights = readFileSync(join(path, 'model.safetensors'));
    const expectError = async (pattern: RegExp) => {
      try {
        (await loadCheckpoint(path)).model.dispose();
      } catch (e) {
        expect(isOpenRetinaError(e), String(e)).toBe(true);
        expect((e as Error).message).toMatch(pattern);
        return;
      }
      throw new Error('expected an error');
    };
    writeFileSync(join(path, 'model.safetensors'), weights.subarray(0, weights.length - 10));
    await expectError(/expected \d+ bytes \(model card\), got \d+ \(truncated/);
    const flipped = Buffer.from(weights);
    flipped.writeUInt8(flipped[flipped.length - 5]! ^ 0xff, flipped.length - 5);
    writeFileSync(join(path, 'model.safetensors'), flipped);
    await expectError(/SHA-256 .* does not match/);
    writeFileSync(join(path, 'model.safetensors'), weights);
    const cardText = readFileSync(join(path, 'model.json'), 'utf8');
    writeFileSync(join(path, 'model.json'), cardText.slice(0, 100));
    await expectError(/not valid JSON/);
    // a card without checksum fields: the safetensors reader itself reports the truncation
    const card = JSON.parse(cardText) as { metadata: Record<string, unknown> };
    delete card.metadata.weightsSha256;
    delete card.metadata.weightsBytes;
    writeFileSync(join(path, 'model.json'), JSON.stringify(card));
    writeFileSync(join(path, 'model.safetensors'), weights.subarray(0, weights.length - 10));
    await expectError(/truncated/);
    await expect(loadCheckpoint(join(dir, 'missing'))).rejects.toThrow(/no model.json/);
  });

  it('a failed save leaves no partial folder', async () => {
    const sub = join(dir, 'fail');
    const target = join(sub, 'x');
    await saveCheckpoint(model, join(sub, 'ok'));
    writeFileSync(target, 'a file where the checkpoint folder should go');
    await expect(saveCheckpoint(model, target)).rejects.toBeDefined();
    expect(readFileSync(target, 'utf8')).toMatch(/^a file/);
    expect(readdirSync(sub).sort()).toEqual(['ok', 'x']); // no staging folders left
    expect(existsSync(join(sub, 'ok', 'model.json'))).toBe(true);
  });
});

describe('sha256Hex (model cards: weightsSha256, provenanceHash)', () => {
  // FIPS 180-2's "abc" vector, and 64 kB of bytes against Node's own hash of them
  const ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
  const bytes = Uint8Array.from({ length: 65536 }, (_, i) => (i * 31 + 7) & 255);
  const proc = process as { getBuiltinModule?: unknown };

  it('gives the same digests through Node crypto and, where a runtime has no node:crypto, Web Crypto', async () => {
    const expected = createHash('sha256').update(bytes).digest('hex');
    expect(await sha256Hex('abc')).toBe(ABC);
    expect(await sha256Hex(bytes)).toBe(expected);
    const builtin = proc.getBuiltinModule;
    proc.getBuiltinModule = undefined; // as in a browser
    try {
      expect(await sha256Hex('abc')).toBe(ABC);
      expect(await sha256Hex(bytes)).toBe(expected);
    } finally {
      proc.getBuiltinModule = builtin;
    }
  });
});
