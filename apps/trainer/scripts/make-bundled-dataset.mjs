#!/usr/bin/env node
// Writes the bundled training dataset (apps/trainer/data/lnp_2x18x16) in OpenRetina's generic HDF5 format.
// Deterministic: the same files on every machine (own PRNG, no Math.random). Run after `pnpm build`:
//   node apps/trainer/scripts/make-bundled-dataset.mjs [OUT_DIR]
//
// Stimulus: binary (±1) checkerboard noise, 2 colour channels, 18×16 pixels in 2×2-pixel blocks, a new frame every
// frame (30 Hz), stored as int8 .npy (1 byte per value; the readers convert to float32, norm 0/1 leaves ±1).
// Responses: a hidden ground-truth population of linear-nonlinear-Poisson neurons (difference-of-Gaussians
// spatial receptive field, per-colour weights, biphasic temporal filter over 24 frames, softplus, Poisson spikes).
// Train movies: one Poisson trial. Test movie ("test_movie", 750 frames): the mean of 10 Poisson trials, as
// OpenRetina's generic format stores trial-averaged test responses; the noise-free rates and the single trials go to
// truth/ (for ceilings; not read by the training code).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHdf5Session, writeNpyFile } from '@openretina/data-io/node';

const here = dirname(fileURLToPath(import.meta.url));
const OUT = resolve(process.argv[2] ?? join(here, '..', 'data', 'lnp_2x18x16'));

const C = 2;
const H = 18;
const W = 16;
const BLOCK = 2;
const TRAIN_MOVIES = 4;
const TRAIN_FRAMES = 1200; // 4 × 1200 = 4800 frames = 32 clips of 150 (10 go to validation)
const TEST_FRAMES = 750;
const TEST_TRIALS = 10;
const KERNEL = 24;
const SESSIONS = { session_1: 24, session_2: 32 };

// mulberry32: a small, well-mixed 32-bit PRNG
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => {
    const u = Math.max(next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  };
  const poisson = (lambda) => {
    if (lambda <= 0) return 0;
    if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal()));
    const l = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= next();
    } while (p > l);
    return k - 1;
  };
  return { next, normal, poisson, uniform: (lo, hi) => lo + (hi - lo) * next() };
}

/** Binary block noise as int8 (C, T, H, W). */
function binaryNoise(frames, seed) {
  const r = rng(seed);
  const bh = H / BLOCK;
  const bw = W / BLOCK;
  const out = new Int8Array(C * frames * H * W);
  for (let c = 0; c < C; c++) {
    for (let t = 0; t < frames; t++) {
      const blocks = Array.from({ length: bh * bw }, () => (r.next() < 0.5 ? -1 : 1));
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          out[((c * frames + t) * H + y) * W + x] = blocks[Math.floor(y / BLOCK) * bw + Math.floor(x / BLOCK)];
        }
      }
    }
  }
  return out;
}

function writeByteNpy(path, data, shape, descr = '|i1') {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const bytes = new Uint8Array(10 + header.length + data.length);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), 10);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.length), 10 + header.length);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

/** One LN neuron: a separable filter (spatial DoG × colour weights) ⊗ a biphasic temporal kernel. */
function makeNeuron(r) {
  const cy = r.uniform(4, H - 5);
  const cx = r.uniform(4, W - 5);
  const sc = r.uniform(1.2, 2.2);
  const ss = sc * r.uniform(2, 3);
  const surround = r.uniform(0.2, 0.6);
  const polarity = r.next() < 0.5 ? -1 : 1;
  const green = r.uniform(0.2, 1);
  const colour = [green, 1 - green + 0.2];
  const spatial = new Float64Array(C * H * W);
  let norm = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const d2 = (y - cy) ** 2 + (x - cx) ** 2;
      const v = Math.exp(-d2 / (2 * sc * sc)) - surround * (sc / ss) ** 2 * Math.exp(-d2 / (2 * ss * ss));
      for (let c = 0; c < C; c++) {
        spatial[(c * H + y) * W + x] = v * colour[c];
        norm += (v * colour[c]) ** 2;
      }
    }
  }
  const tau1 = r.uniform(2.5, 4);
  const tau2 = tau1 * r.uniform(1.6, 2.2);
  const biphase = r.uniform(0.3, 0.8);
  const temporal = new Float64Array(KERNEL);
  let tn = 0;
  for (let k = 0; k < KERNEL; k++) {
    const t = k + 1;
    temporal[k] = (t / tau1) * Math.exp(1 - t / tau1) - biphase * (t / tau2) * Math.exp(1 - t / tau2);
    tn += temporal[k] ** 2;
  }
  const gain = r.uniform(1.2, 2.0) / Math.sqrt(norm * tn * (BLOCK * BLOCK));
  return { spatial, temporal, polarity, gain, offset: r.uniform(-1.2, -0.2), scale: r.uniform(0.6, 1.5) };
}

/** Noise-free rates (T, N) of the neurons to a movie (int8, C T H W); the first KERNEL−1 frames see zero padding. */
function rates(neurons, movie, frames) {
  const n = neurons.length;
  const out = new Float32Array(frames * n);
  const proj = new Float64Array(frames);
  for (let j = 0; j < n; j++) {
    const nr = neurons[j];
    for (let t = 0; t < frames; t++) {
      let s = 0;
      for (let c = 0; c < C; c++) {
        const base = (c * frames + t) * H * W;
        const sb = c * H * W;
        for (let p = 0; p < H * W; p++) s += movie[base + p] * nr.spatial[sb + p];
      }
      proj[t] = s;
    }
    for (let t = 0; t < frames; t++) {
      let drive = 0;
      for (let k = 0; k < KERNEL && k <= t; k++) drive += nr.temporal[k] * proj[t - k];
      const g = nr.polarity * nr.gain * drive + nr.offset;
      out[t * n + j] = nr.scale * Math.log1p(Math.exp(2 * g)); // softplus with slope 2
    }
  }
  return out;
}

const stimuli = {};
for (let i = 0; i < TRAIN_MOVIES; i++) stimuli[`train_noise_${i}`] = { data: binaryNoise(TRAIN_FRAMES, 1000 + i), frames: TRAIN_FRAMES };
stimuli.test_movie = { data: binaryNoise(TEST_FRAMES, 2024), frames: TEST_FRAMES };
for (const [name, s] of Object.entries(stimuli)) writeByteNpy(join(OUT, 'stimuli', `${name}.npy`), s.data, [C, s.frames, H, W]);

let sessionSeed = 7;
const summary = {};
for (const [session, n] of Object.entries(SESSIONS)) {
  const r = rng(sessionSeed++);
  const neurons = Array.from({ length: n }, () => makeNeuron(r));
  const responses = {};
  for (const [name, s] of Object.entries(stimuli)) {
    const rate = rates(neurons, s.data, s.frames);
    if (name === 'test_movie') {
      const trials = new Uint8Array(TEST_TRIALS * rate.length);
      const mean = new Float32Array(rate.length);
      for (let k = 0; k < TEST_TRIALS; k++) {
        for (let i = 0; i < rate.length; i++) {
          const v = r.poisson(rate[i]);
          trials[k * rate.length + i] = v;
          mean[i] += v / TEST_TRIALS;
        }
      }
      responses[name] = { data: mean, shape: [s.frames, n] };
      // truth/: noise-free rates (N, T) as train_reference.py reads them, and the single trials (trials, T, N) as uint8
      const nt = new Float32Array(rate.length);
      for (let t = 0; t < s.frames; t++) for (let j = 0; j < n; j++) nt[j * s.frames + t] = rate[t * n + j];
      await writeNpyFile(join(OUT, 'truth', 'rates_test_movie', `${session}.npy`), nt, [n, s.frames]);
      writeByteNpy(join(OUT, 'truth', 'trials_test_movie', `${session}.npy`), trials, [TEST_TRIALS, s.frames, n], '|u1');
      summary[session] = { neurons: n, meanRate: rate.reduce((a, b) => a + b, 0) / rate.length };
    } else {
      responses[name] = { data: Float32Array.from(rate, (v) => r.poisson(v)), shape: [s.frames, n] };
    }
  }
  await writeHdf5Session(join(OUT, `${session}.h5`), {
    responses,
    sessionInfo: { polarity: neurons.map((x) => (x.polarity > 0 ? 1 : 0)) },
  });
}
console.log(`wrote ${OUT}: ${JSON.stringify(summary)}`);
