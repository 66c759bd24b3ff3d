// Fault injection: a process saving checkpoints is SIGKILLed again and again, at random points and inside the swap of
// the folders; every time, loading gives one whole checkpoint (the old or the new), and no leftover survives.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoreReadout } from '@openretina/models';
import { OPENRETINA_FIXTURES } from '@openretina/test-utils/fixtures';
import { coreReadoutFromCheckpointBytes, loadCheckpoint, saveCheckpoint } from '../src/node.js';

const SAVE_LOOP = fileURLToPath(new URL('./checkpoint-save-loop.mjs', import.meta.url));
const KILLS = 30;
const root = mkdtempSync(join(tmpdir(), 'hub-ckpt-kill-'));
const target = join(root, 'run', 'last');
const FILES = ['model.json', 'model.safetensors'] as const;
/** The two versions the saving process alternates between: their files' bytes, by card name. */
const versions = new Map<string, Record<string, Buffer>>();
let modelA: CoreReadout;

function readVersion(dir: string): Record<string, Buffer> {
  return Object.fromEntries(FILES.map((f) => [f, readFileSync(join(dir, f))]));
}

function nameOf(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { name: string }).name;
}

const leftovers = () => readdirSync(join(root, 'run')).filter((e) => e !== 'last');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the saving process (its first save writes `first`) and resolves once it has saved once. */
function startSaving(first: string, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const order = [first, ...[...versions.keys()].filter((v) => v !== first)].map((v) => join(root, v));
  const child = spawn(process.execPath, [SAVE_LOOP, target, ...order], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`the saving process exited (${code}) before saving: ${stderr}`)));
  });
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

beforeAll(async () => {
  modelA = coreReadoutFromCheckpointBytes(new Uint8Array(readFileSync(join(OPENRETINA_FIXTURES, 'model.ckpt'))));
  const modelB = coreReadoutFromCheckpointBytes(new Uint8Array(readFileSync(join(OPENRETINA_FIXTURES, 'model.ckpt'))));
  const [, w] = [...modelB.namedParameters()][0]!;
  tf.tidy(() => w.assign(tf.mul(w, 2))); // B's weights differ from A's, so a torn folder would show
  await saveCheckpoint(modelA, join(root, 'A'), { name: 'A' });
  await saveCheckpoint(modelB, join(root, 'B'), { name: 'B' });
  modelB.dispose();
  for (const v of ['A', 'B']) versions.set(v, readVersion(join(root, v)));
  await saveCheckpoint(modelA, target, { name: 'A' });
}, 60_000);

afterAll(() => {
  modelA.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('checkpoint saves under kill -9', () => {
  it(`${KILLS} kills: loading always gives a whole checkpoint, the old one when the kill cut the swap; the next save leaves no leftover`, async () => {
    let cutInsideSwap = 0;
    for (let i = 0; i < KILLS; i++) {
      const before = nameOf(target);
      const next = before === 'A' ? 'B' : 'A';
      const insideSwap = i % 2 === 1;
      // odd rounds: the swap pauses between its renames (test hook) and the kill lands there, seen on disk;
      // even rounds: the kill lands wherever a random delay after the first save puts it
      const child = await startSaving(next, insideSwap ? { OPENRETINA_TEST_SWAP_PAUSE_MS: '200' } : {});
      if (insideSwap) {
        while (existsSync(target)) await sleep(1);
      } else {
        await sleep(Math.random() * 40);
      }
      await kill(child);
      let replaced: string | undefined; // the version the cut swap had moved aside
      if (insideSwap) {
        expect(existsSync(target), `round ${i}: killed between the renames`).toBe(false);
        const aside = leftovers().find((e) => e.endsWith('.tmp.old'));
        expect(aside).toBeDefined();
        replaced = nameOf(join(root, 'run', aside!));
        cutInsideSwap++;
      }

      const saveFirst = i % 4 >= 2; // half the rounds repair on the next save, half on load
      if (saveFirst) {
        await saveCheckpoint(modelA, target, { name: 'A' });
        expect(leftovers(), `round ${i}: after the next save`).toEqual([]);
        expect(nameOf(target)).toBe('A');
        expect(readFileSync(join(target, 'model.safetensors'))).toEqual(versions.get('A')!['model.safetensors']);
        continue;
      }
      const { model, card } = await loadCheckpoint(target);
      model.dispose();
      const name = nameOf(target);
      expect(card.name).toBe(name);
      expect(readVersion(target), `round ${i}: the files of one version, whole`).toEqual(versions.get(name));
      // a cut swap gives back the checkpoint it was replacing
      if (insideSwap) expect(name).toBe(replaced);
      expect(leftovers(), `round ${i}: after loading`).toEqual([]);
    }
    expect(cutInsideSwap).toBe(KILLS / 2);
  }, 240_000);
});
