// The stand-ins for OpenRetina's nine published checkpoints (fixtures/hub/published, made by
// make_published_fixtures.py there): the manifest, PyTorch's outputs, the stimulus they were computed on, and a
// causality check. Plain data only, like fixtures.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, readRawSafetensors } from './fixtures.js';

export const PUBLISHED_FIXTURES = join(REPO_ROOT, 'fixtures', 'hub', 'published');

/** One stand-in as reference.json describes it. */
export interface PublishedStandIn {
  class: string;
  /** Path under fixtures/hub/published, equal to its path in OpenRetina's Hugging Face repository. */
  file: string;
  bytes: number;
  sha256: string;
  sessions: string[];
  neurons: number[];
  /** `[C, H, W]`. */
  input_shape: [number, number, number];
  frames_cut: number;
  /** Frames of the stimulus. */
  frames: number;
  /** First frame where batch element 1 differs from element 0. */
  change_at: number;
  stimulus_seed: number;
  output_shape: [number, number, number];
  max_abs_output: number;
}

interface Manifest {
  stimulus: { unchanged_output_frames: number };
  models: Record<string, PublishedStandIn>;
}

let manifest: Manifest | undefined;
function readManifest(): Manifest {
  manifest ??= JSON.parse(readFileSync(join(PUBLISHED_FIXTURES, 'reference.json'), 'utf8')) as Manifest;
  return manifest;
}

/** The stand-ins by published name, in the generator's order. */
export function publishedStandIns(): Record<string, PublishedStandIn> {
  return readManifest().models;
}

/** Output frames that the changed frames of batch element 1 must not touch (a causal model). */
export function unchangedOutputFrames(): number {
  return readManifest().stimulus.unchanged_output_frames;
}

/** The checkpoint file of a stand-in. */
export function standInPath(name: string): string {
  const entry = publishedStandIns()[name];
  if (!entry) throw new Error(`no published stand-in "${name}"`);
  return join(PUBLISHED_FIXTURES, entry.file);
}

let outputs: ReturnType<typeof readRawSafetensors> | undefined;
/** PyTorch's `model.forward(x)` (every session, sorted, concatenated): float32 `(2, T − frames_cut, N)`. */
export function publishedOutput(name: string): Float32Array {
  outputs ??= readRawSafetensors(join(PUBLISHED_FIXTURES, 'reference.safetensors'));
  const t = outputs.get(`${name}/output`);
  if (!t) throw new Error(`no reference output for "${name}"`);
  return t.data as Float32Array;
}

/**
 * `n` float32 values in [-1, 1): a 32-bit integer hash of the flat index (the generator's `hash_stimulus`; integer
 * arithmetic and a power-of-two scale, so both languages produce the same floats exactly).
 */
export function hashStimulus(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  const s = Math.imul(seed >>> 0, 0x85ebca77);
  for (let i = 0; i < n; i++) {
    let x = (Math.imul(i, 0x9e3779b1) + s) >>> 0;
    x = (x ^ (x >>> 15)) >>> 0;
    x = Math.imul(x, 0x2c1b3c6d) >>> 0;
    x = (x ^ (x >>> 12)) >>> 0;
    x = Math.imul(x, 0x297a2d39) >>> 0;
    x = (x ^ (x >>> 15)) >>> 0;
    out[i] = (x >>> 8) / 2 ** 23 - 1;
  }
  return out;
}

/**
 * The stimulus of a stand-in, `(2, C, T, H, W)` as OpenRetina lays it out: element 0 is `hashStimulus(seed)`,
 * element 1 the same before `change_at` and `hashStimulus(seed + 1)` from there on.
 */
export function publishedStimulus(entry: PublishedStandIn): { data: Float32Array; shape: [number, number, number, number, number] } {
  const [c, h, w] = entry.input_shape;
  const t = entry.frames;
  const n = c * t * h * w;
  const a = hashStimulus(n, entry.stimulus_seed);
  const b = hashStimulus(n, entry.stimulus_seed + 1);
  const data = new Float32Array(2 * n);
  data.set(a, 0);
  const changed = a.slice();
  const frame = h * w;
  for (let ci = 0; ci < c; ci++) {
    const from = ci * t * frame + entry.change_at * frame;
    const to = (ci + 1) * t * frame;
    changed.set(b.subarray(from, to), from);
  }
  data.set(changed, n);
  return { data, shape: [2, c, t, h, w] };
}

/**
 * Causality on a prediction of {@link publishedStimulus}, `(2, T_out, N)` flat: outputs before `unchanged` frames
 * must be identical for both batch elements (they saw the same frames), and the later ones must differ somewhere
 * (else the check could not fail). A test-local stand-in for OpenRetina's `is_model_causal`.
 */
export function causalityOf(y: ArrayLike<number>, shape: readonly number[], unchanged: number): { causal: boolean; reacts: boolean } {
  const [b, t, n] = shape as [number, number, number];
  if (b !== 2) throw new Error(`expected a batch of 2, got ${b}`);
  const second = t * n;
  let causal = true;
  let reacts = false;
  for (let i = 0; i < t * n; i++) {
    const same = y[i] === y[second + i];
    if (Math.floor(i / n) < unchanged) causal &&= same;
    else reacts ||= !same;
  }
  return { causal, reacts };
}

export const EXPORTED_FIXTURES = join(REPO_ROOT, 'fixtures', 'hub', 'exported');

/** One of our `export --format ckpt` files as fixtures/hub/exported/reference.json describes it. */
export interface ExportedCheckpoint {
  file: string;
  /** The stand-in it was exported from, relative to fixtures/hub. */
  exported_from: string;
  published_name: string;
  sha256: string;
  hyper_parameters: string[];
  output_shape: [number, number, number];
}

let exportedManifest: { models: Record<string, ExportedCheckpoint> } | undefined;
/** Our exported checkpoints that OpenRetina loaded (check_exported.py), by file stem. */
export function exportedCheckpoints(): Record<string, ExportedCheckpoint> {
  exportedManifest ??= JSON.parse(readFileSync(join(EXPORTED_FIXTURES, 'reference.json'), 'utf8')) as {
    models: Record<string, ExportedCheckpoint>;
  };
  return exportedManifest.models;
}

let exportedOutputs: ReturnType<typeof readRawSafetensors> | undefined;
/** PyTorch's prediction from OpenRetina's `load_core_readout_model` of our exported file, on the stand-in's stimulus. */
export function exportedOutput(stem: string): Float32Array {
  exportedOutputs ??= readRawSafetensors(join(EXPORTED_FIXTURES, 'reference.safetensors'));
  const t = exportedOutputs.get(`${stem}/output`);
  if (!t) throw new Error(`no reference output for exported "${stem}"`);
  return t.data as Float32Array;
}
