// Node tests of the demo's model-side logic (the browser is covered by e2e.test.ts): the bundled checkpoint (our
// trainer's model on the bundled dataset) loads and reproduces what our CLI's `predict` gives for it, uploads are
// recognised or refused with clear messages, tuning and stimuli are right.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ncdhwToNdhwc, OPENRETINA_FIXTURES, ref, relativeError } from '@openretina/test-utils/fixtures';
import { directionTuning } from '@openretina/insilico';
import { BUNDLED_MODEL } from '../src/bundled-model.js';
import { DemoLoadError, loadFromFiles, loadOurs, type LoadedModel } from '../src/model-loader.js';
import { parseNpy, toFloat32 } from '@openretina/formats';
import { makeStimulus, naturalLikeMovie, naturalMovieFor } from '../src/stimuli.js';

const publicDir = join(__dirname, '..', 'public');
const folder = join(publicDir, BUNDLED_MODEL.folder);
const weights = () => new Uint8Array(readFileSync(join(folder, 'model.safetensors')));
const card = () => readFileSync(join(folder, 'model.json'), 'utf8');

async function expectLoadError(p: Promise<unknown>, kind: DemoLoadError['kind'], text: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DemoLoadError);
  expect((err as DemoLoadError).kind).toBe(kind);
  expect((err as DemoLoadError).message).toMatch(text);
}

function outputMatchesFixture(loaded: LoadedModel): number {
  const x = ncdhwToNdhwc(ref('input/x'));
  const expected = ref('eval/out/session_2');
  const y = tf.tidy(() => loaded.model.forward(tf.tensor5d(x.data, x.shape), { session: 'session_2' }));
  const err = relativeError(y.dataSync(), expected.data as Float32Array);
  y.dispose();
  return err;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The bundled natural movie `[T, H, W, C]` as float32. */
function naturalMovie(): { data: Float32Array; shape: [number, number, number, number] } {
  const npy = parseNpy(new Uint8Array(readFileSync(join(publicDir, BUNDLED_MODEL.naturalMovie!))));
  return { data: toFloat32(npy.data), shape: npy.shape as [number, number, number, number] };
}

describe('bundled model', () => {
  it("is our trainer's model on the bundled dataset (our checkpoint format)", async () => {
    const c = JSON.parse(card()) as { format: string; architecture: { in_shape: number[] }; metadata: { stimulusClass: string } };
    expect(c.format).toBe('openretina-ts/model-card');
    expect(c.architecture.in_shape).toEqual([2, 150, 18, 16]);
    expect(c.metadata.stimulusClass).toBe('natural_like_movie');
    const before = tf.memory().numTensors;
    const loaded = await loadOurs(weights(), card(), 'bundled', 'bundled');
    expect(loaded.model.neuronsPerSession).toEqual({ session_1: 24, session_2: 32 });
    expect(loaded.model.framesCut).toBe(30);
    expect(loaded.model.stimulus).toEqual(expect.objectContaining({ channels: 2, height: 18, width: 16 }));
    loaded.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reproduces `openretina predict` on the bundled natural movie (session_2)', async () => {
    // test/fixtures/natural-movie-predict-session_2.npy: written by scripts/make-bundled-model.mjs with our CLI
    // (openretina predict --checkpoint public/models/natural-core-readout --session session_2 --backend cpu).
    const movie = naturalMovie();
    expect(movie.shape).toEqual([300, 18, 16, 2]);
    const expected = parseNpy(new Uint8Array(readFileSync(join(__dirname, 'fixtures', 'natural-movie-predict-session_2.npy'))));
    expect(expected.shape).toEqual([1, 300 - 30, 32]);
    const loaded = await loadOurs(weights(), card(), 'bundled', 'bundled');
    const y = tf.tidy(() => loaded.model.forward(tf.tensor5d(movie.data, [1, ...movie.shape]), { session: 'session_2' }));
    expect(y.shape).toEqual([1, 270, 32]);
    expect(relativeError(y.dataSync(), toFloat32(expected.data))).toBeLessThan(1e-5);
    y.dispose();
    loaded.model.dispose();
  });
});

describe('uploads', () => {
  it('loads the OpenRetina fixture .ckpt', async () => {
    const before = tf.memory().numTensors;
    const loaded = await loadFromFiles([
      { name: 'model.ckpt', bytes: new Uint8Array(readFileSync(join(OPENRETINA_FIXTURES, 'model.ckpt'))) },
    ]);
    expect(loaded.source).toBe('openretina-ckpt');
    expect(outputMatchesFixture(loaded)).toBeLessThan(1e-4);
    loaded.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('loads our checkpoint from its two files', async () => {
    const loaded = await loadFromFiles([
      { name: 'model.json', bytes: new TextEncoder().encode(card()) },
      { name: 'model.safetensors', bytes: weights() },
    ]);
    expect(loaded.source).toBe('ours');
    loaded.model.dispose();
  });

  it('refuses a file that is not a checkpoint', async () => {
    await expectLoadError(
      loadFromFiles([{ name: 'photo.ckpt', bytes: new TextEncoder().encode('hello') }]),
      'not-a-checkpoint',
      /photo\.ckpt is not a checkpoint/,
    );
  });

  it('asks for both files of our format', async () => {
    await expectLoadError(
      loadFromFiles([{ name: 'model.json', bytes: new TextEncoder().encode(card()) }]),
      'incomplete',
      /model\.safetensors/,
    );
  });

  it('refuses a checkpoint whose input shape does not fit its weights', async () => {
    const c = JSON.parse(card()) as { architecture: { in_shape: number[] } };
    c.architecture.in_shape = [2, 150, 36, 32];
    const before = tf.memory().numTensors;
    await expectLoadError(loadOurs(weights(), JSON.stringify(c), 'wide.json', 'ours'), 'input-shape', /wide\.json/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a model whose input is larger than the demo can show', async () => {
    const c = JSON.parse(card()) as { architecture: { in_shape: number[] }; metadata: Record<string, unknown> };
    c.architecture.in_shape = [2, 150, 180, 160];
    delete c.metadata.inputShape;
    await expectLoadError(
      loadOurs(weights(), JSON.stringify(c), 'huge.json', 'ours'),
      'input-shape',
      /huge\.json: the model's input shape \[channels 2, height 180, width 160\] does not fit this demo/,
    );
  });
});

describe('analysis and stimuli', () => {
  it('direction tuning finds the preferred direction of a neuron that fires in one sweep', () => {
    const dirs = [0, 180, 45, 225, 90, 270, 135, 315];
    const sweep = 10,
      cut = 4,
      frames = dirs.length * sweep - cut,
      neurons = 2;
    const data = new Float32Array(frames * neurons);
    for (let i = 0; i < frames; i++) {
      const k = Math.floor((i + cut) / sweep);
      data[i * neurons] = k === 2 ? 1 : 0; // fires only while the bar moves at 45°
      data[i * neurons + 1] = 1; // untuned
    }
    const t = directionTuning({ data, frames, neurons }, cut, sweep, dirs);
    expect(t.preferred[0]).toBeCloseTo(45, 4);
    expect(t.dsi[0]).toBeCloseTo(1, 5);
    expect(t.dsi[1]).toBeLessThan(1e-6);
  });

  it('builds every stimulus at the model frame size', () => {
    const spec = { channels: 2, height: 18, width: 16 };
    for (const kind of ['chirp', 'moving-bar', 'grating', 'white-noise', 'natural'] as const) {
      const { movie } = makeStimulus({ kind }, spec);
      expect(movie.shape.slice(1), kind).toEqual([18, 16, 2]);
      expect(movie.data.length).toBe(movie.shape.reduce((a, b) => a * b, 1));
      expect(movie.data.every(Number.isFinite), kind).toBe(true);
    }
    const nat = naturalLikeMovie({ channels: 1, height: 9, width: 7 }, 1);
    expect(nat.shape).toEqual([30, 9, 7, 1]);
  });

  it('plays the bundled natural movie for models of its frame size, the synthetic one otherwise', () => {
    const movie = naturalMovie();
    const spec = { channels: 2, height: 18, width: 16 };
    const fits = naturalMovieFor(movie, spec);
    expect(fits).toBe(movie);
    const stim = makeStimulus({ kind: 'natural', naturalMovie: fits! }, spec);
    expect(stim.movie).toBe(movie);
    expect(stim.label).toMatch(/bundled dataset/);
    expect(stim.displayScale!).toBeGreaterThan(0);
    expect(stim.displayScale!).toBeLessThan(1); // the dataset's contrast exceeds ±1
    expect(naturalMovieFor(movie, { channels: 2, height: 36, width: 32 })).toBeUndefined();
    expect(makeStimulus({ kind: 'natural' }, { channels: 2, height: 36, width: 32 }).label).toMatch(/synthetic/);
  });
});
