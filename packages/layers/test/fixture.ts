import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { StateDict } from '@openretina/contracts';

interface Entry {
  shape: number[];
  data: number[];
}

const FILE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'fixtures', 'layers', 'layers.json');
let cache: Record<string, Entry> | undefined;

/** A tensor of fixtures/layers/layers.json (made by make_layers_fixtures.py with the real OpenRetina). */
export function fx(name: string): Entry {
  cache ??= JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, Entry>;
  const e = cache[name];
  if (!e) throw new Error(`no fixture "${name}"`);
  return e;
}

export function fxTensor(name: string): tf.Tensor {
  const e = fx(name);
  return tf.tensor(e.data, e.shape);
}

export function fxScalar(name: string): number {
  return fx(name).data[0]!;
}

/** A PyTorch-layout (B, C, T, H, W) fixture video as a channels-last tensor. */
export function fxVideo(name: string): tf.Tensor5D {
  return tf.tidy(() => tf.transpose(fxTensor(name), [0, 2, 3, 4, 1]) as tf.Tensor5D);
}

/** The entries `<prefix>/state/<key>` as a state dict, in file order. */
export function fxState(prefix: string): StateDict {
  cache ??= JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, Entry>;
  const out: StateDict = new Map();
  const p = `${prefix}/state/`;
  for (const [k, v] of Object.entries(cache)) {
    if (k.startsWith(p)) out.set(k.slice(p.length), { shape: v.shape, dtype: 'float32', data: Float32Array.from(v.data) });
  }
  return out;
}

/** Channels-last `[B, T, H, W, C]` data as a PyTorch-layout flat array. */
export function toTorchLayout(t: tf.Tensor): Float32Array {
  return tf.tidy(() => tf.transpose(t, [0, 4, 1, 2, 3]).dataSync() as Float32Array);
}
