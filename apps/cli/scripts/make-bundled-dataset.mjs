#!/usr/bin/env node
// Writes the bundled training dataset (apps/cli/data/natural_2x18x16) in OpenRetina's generic HDF5 format.
// Deterministic: the same files on every machine for the same seed (own PRNG and FFT, no Math.random). Run after
// `pnpm build`:
//   node apps/cli/scripts/make-bundled-dataset.mjs [OUT_DIR] [--seed N]      (default seed 2024)
//
// Stimulus: natural-like movies, 2 colour channels (green, UV) at 18×16 pixels, 30 Hz. A few (SCENES) large scenes
// with a 1/f² power spectrum (random-phase Gaussian fields), each with a horizon: the UV channel is correlated with
// green (ρ ≈ 0.7) and brighter above the horizon (the sky), the green one a little darker there, as in mouse natural
// scenes. An 18×16 "eye" views them along a trajectory of fixations (0.25–1 s) with slow drift and jitter
// (sub-pixel, bilinear), saccade-like jumps between fixations, and now and then a jump to another scene. Values are
// contrast in units of the scenes' RMS/CONTRAST_UNITS, rounded to integers and stored as int8 .npy (1 byte per value;
// both readers convert to float32 and the configs normalise with mean 0 / std 1, so the model sees exactly these
// numbers: RMS contrast ≈ 1.5 per channel, levels −6…6).
//
// Responses: a hidden ground-truth population of linear–nonlinear–Poisson neurons of six types shared by both
// sessions (ON and OFF sustained, ON and OFF transient, UV-dominated OFF, ON–OFF transient). Each neuron has a
// difference-of-Gaussians receptive field at a random position with per-channel weights, a biphasic temporal filter
// over 24 frames (the type sets how transient), a rectifying softplus (the ON–OFF type rectifies both signs) and
// Poisson spikes. The drive is scaled to unit standard deviation over the training movies before the nonlinearity.
// Train movies: one Poisson trial. Test movie ("test_movie", 750 frames, other fixations of the same scenes): the mean
// of 10 Poisson trials, as OpenRetina's generic format stores trial-averaged test responses; the noise-free rates and
// the single trials go to truth/ (for ceilings; not read by the training code).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHdf5Session, writeNpyFile } from '@openretina/data-io/node';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const seedAt = args.indexOf('--seed');
const SEED = seedAt >= 0 ? Number(args.splice(seedAt, 2)[1]) : 2024;
if (!Number.isInteger(SEED)) throw new Error('--seed needs an integer');
const OUT = resolve(args[0] ?? join(here, '..', 'data', 'natural_2x18x16'));

const C = 2; // 0: green, 1: UV
const H = 18;
const W = 16;
const FPS = 30;
const SCENES = 5;
const SCENE_SIZE = 64; // power of two (FFT)
const CONTRAST_UNITS = 1.5; // RMS contrast of a channel, in stored integer units
const CLIP = 6; // stored values lie in [−CLIP, CLIP]
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
  return { next, normal, poisson, uniform: (lo, hi) => lo + (hi - lo) * next(), int: (n) => Math.floor(next() * n) };
}

/** In-place radix-2 complex FFT (inverse when `inv`), length a power of two. */
function fft(re, im, inv) {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = ((inv ? 2 : -2) * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k);
        const wi = Math.sin(ang * k);
        const ar = re[i + k + len / 2];
        const ai = im[i + k + len / 2];
        const xr = ar * wr - ai * wi;
        const xi = ar * wi + ai * wr;
        re[i + k + len / 2] = re[i + k] - xr;
        im[i + k + len / 2] = im[i + k] - xi;
        re[i + k] += xr;
        im[i + k] += xi;
      }
    }
  }
}

/** A zero-mean, unit-variance random field (S×S) with a 1/f² power spectrum (amplitude 1/f, random phases). */
function pinkField(r, s) {
  const re = new Float64Array(s * s);
  const im = new Float64Array(s * s);
  for (let y = 0; y < s; y++) {
    const fy = y <= s / 2 ? y : y - s;
    for (let x = 0; x < s; x++) {
      const fx = x <= s / 2 ? x : x - s;
      const f = Math.hypot(fx, fy);
      const a = f === 0 ? 0 : 1 / Math.max(f, 1);
      re[y * s + x] = a * r.normal();
      im[y * s + x] = a * r.normal();
    }
  }
  const rowR = new Float64Array(s);
  const rowI = new Float64Array(s);
  for (let pass = 0; pass < 2; pass++) {
    for (let a = 0; a < s; a++) {
      for (let b = 0; b < s; b++) {
        const i = pass === 0 ? a * s + b : b * s + a;
        rowR[b] = re[i];
        rowI[b] = im[i];
      }
      fft(rowR, rowI, true);
      for (let b = 0; b < s; b++) {
        const i = pass === 0 ? a * s + b : b * s + a;
        re[i] = rowR[b];
        im[i] = rowI[b];
      }
    }
  }
  let m = 0;
  for (const v of re) m += v;
  m /= re.length;
  let v2 = 0;
  for (const v of re) v2 += (v - m) ** 2;
  const sd = Math.sqrt(v2 / re.length);
  return Float64Array.from(re, (v) => (v - m) / sd);
}

/** Scenes: per scene a green and a UV plane (S×S), zero-mean and unit RMS per channel over all scenes. */
function makeScenes(r) {
  const s = SCENE_SIZE;
  const scenes = [];
  for (let k = 0; k < SCENES; k++) {
    const g = pinkField(r, s);
    const u = pinkField(r, s);
    const horizon = r.uniform(0.3, 0.6) * s; // rows above are sky
    const tilt = r.uniform(-0.15, 0.15);
    const rho = r.uniform(0.6, 0.8);
    const green = new Float64Array(s * s);
    const uv = new Float64Array(s * s);
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        const i = y * s + x;
        const sky = 1 / (1 + Math.exp((y - horizon - tilt * (x - s / 2)) / 1.5)); // ≈1 above the horizon
        green[i] = g[i] * (1 - 0.4 * sky) + 0.4 * sky;
        uv[i] = (rho * g[i] + Math.sqrt(1 - rho * rho) * u[i]) * (1 - 0.3 * sky) + 1.2 * sky;
      }
    }
    scenes.push([green, uv]);
  }
  for (let c = 0; c < C; c++) {
    let m = 0;
    let n = 0;
    for (const sc of scenes) {
      for (const v of sc[c]) m += v;
      n += sc[c].length;
    }
    m /= n;
    let v2 = 0;
    for (const sc of scenes) for (const v of sc[c]) v2 += (v - m) ** 2;
    const sd = Math.sqrt(v2 / n);
    for (const sc of scenes) for (let i = 0; i < sc[c].length; i++) sc[c][i] = (sc[c][i] - m) / sd;
  }
  return scenes;
}

/**
 * A movie (int8, C T H W) of the scenes seen along fixations with drift and jitter, saccades between them and
 * occasional scene changes. Also returns the trajectory (scene, top-left y/x per frame) for documentation.
 */
function viewMovie(scenes, frames, seed) {
  const r = rng(seed);
  const s = SCENE_SIZE;
  const out = new Int8Array(C * frames * H * W);
  let scene = r.int(SCENES);
  let y = r.uniform(0, s - H - 1);
  let x = r.uniform(0, s - W - 1);
  let vy = 0;
  let vx = 0;
  let fixationEnd = 0;
  const clampY = (v) => Math.min(s - H - 1.001, Math.max(0, v));
  const clampX = (v) => Math.min(s - W - 1.001, Math.max(0, v));
  for (let t = 0; t < frames; t++) {
    if (t >= fixationEnd) {
      // saccade: a jump of 6–40 px in a random direction (or to another scene), then a new fixation
      if (t > 0 && r.next() < 0.15) {
        scene = (scene + 1 + r.int(SCENES - 1)) % SCENES;
        y = r.uniform(0, s - H - 1);
        x = r.uniform(0, s - W - 1);
      } else if (t > 0) {
        const amp = r.uniform(6, 40);
        const dir = r.uniform(0, 2 * Math.PI);
        y = clampY(y + amp * Math.sin(dir));
        x = clampX(x + amp * Math.cos(dir));
      }
      const speed = r.uniform(0.02, 0.25); // px per frame of slow drift
      const dir = r.uniform(0, 2 * Math.PI);
      vy = speed * Math.sin(dir);
      vx = speed * Math.cos(dir);
      fixationEnd = t + Math.round(r.uniform(0.25, 1) * FPS);
    } else {
      y = clampY(y + vy + 0.12 * r.normal());
      x = clampX(x + vx + 0.12 * r.normal());
    }
    const y0 = Math.floor(y);
    const x0 = Math.floor(x);
    const dy = y - y0;
    const dx = x - x0;
    for (let c = 0; c < C; c++) {
      const img = scenes[scene][c];
      for (let i = 0; i < H; i++) {
        for (let j = 0; j < W; j++) {
          const p = (y0 + i) * s + x0 + j;
          const v = (1 - dy) * ((1 - dx) * img[p] + dx * img[p + 1]) + dy * ((1 - dx) * img[p + s] + dx * img[p + s + 1]);
          out[((c * frames + t) * H + i) * W + j] = Math.max(-CLIP, Math.min(CLIP, Math.round(v * CONTRAST_UNITS)));
        }
      }
    }
  }
  return out;
}

function writeByteNpy(path, data, shape, descr = '|i1') {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += `${' '.repeat((64 - (total % 64)) % 64)}\n`;
  const bytes = new Uint8Array(10 + header.length + data.length);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), 10);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.length), 10 + header.length);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

// Cell types: centre size (px), surround width ratio and strength, green weight (UV = 1 − green, both ≥ 0),
// temporal time constants (frames) and biphasic index (0 sustained … 1 transient), polarity, ON–OFF.
const TYPES = [
  { name: 'ON sustained', sc: [1.2, 1.8], ss: [2.2, 3], sw: [0.3, 0.5], green: [0.5, 0.8], tau: [3, 4.5], bi: [0.2, 0.45], pol: 1 },
  { name: 'OFF sustained', sc: [1.2, 1.8], ss: [2.2, 3], sw: [0.3, 0.5], green: [0.4, 0.7], tau: [3, 4.5], bi: [0.2, 0.45], pol: -1 },
  { name: 'ON transient', sc: [1.6, 2.4], ss: [2, 2.8], sw: [0.4, 0.7], green: [0.5, 0.8], tau: [2, 3], bi: [0.75, 0.95], pol: 1 },
  { name: 'OFF transient', sc: [1.6, 2.4], ss: [2, 2.8], sw: [0.4, 0.7], green: [0.4, 0.7], tau: [2, 3], bi: [0.75, 0.95], pol: -1 },
  { name: 'UV OFF', sc: [1.4, 2], ss: [2.2, 3], sw: [0.2, 0.4], green: [0.05, 0.25], tau: [3, 4], bi: [0.4, 0.6], pol: -1 },
  { name: 'ON-OFF transient', sc: [1.4, 2.2], ss: [2, 2.8], sw: [0.3, 0.6], green: [0.4, 0.6], tau: [2, 3], bi: [0.8, 1], pol: 0 },
];

/** One neuron: a separable filter (spatial DoG × colour weights) ⊗ a biphasic temporal kernel, and its nonlinearity. */
function makeNeuron(r, typeIndex) {
  const ty = TYPES[typeIndex];
  const u = ([lo, hi]) => r.uniform(lo, hi);
  const cy = r.uniform(3.5, H - 4.5);
  const cx = r.uniform(3.5, W - 4.5);
  const sc = u(ty.sc);
  const ss = sc * u(ty.ss);
  const surround = u(ty.sw);
  const green = u(ty.green);
  const colour = [green, 1 - green];
  const spatial = new Float64Array(C * H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const d2 = (y - cy) ** 2 + (x - cx) ** 2;
      const v = Math.exp(-d2 / (2 * sc * sc)) / (sc * sc) - (surround * Math.exp(-d2 / (2 * ss * ss))) / (ss * ss);
      for (let c = 0; c < C; c++) spatial[(c * H + y) * W + x] = v * colour[c];
    }
  }
  const tau1 = u(ty.tau);
  const tau2 = tau1 * r.uniform(1.6, 2.2);
  const biphase = u(ty.bi);
  const temporal = new Float64Array(KERNEL);
  for (let k = 0; k < KERNEL; k++) {
    const t = k + 1;
    temporal[k] = (t / tau1) * Math.exp(1 - t / tau1) - biphase * (t / tau2) * Math.exp(1 - t / tau2);
  }
  return {
    type: typeIndex,
    spatial,
    temporal,
    polarity: ty.pol,
    gain: r.uniform(1.1, 1.6),
    offset: ty.pol === 0 ? r.uniform(-1.6, -1) : r.uniform(-1.2, -0.4),
    scale: r.uniform(0.6, 1.4),
  };
}

/** Linear drive (T) of a neuron to a movie (int8, C T H W); the first KERNEL−1 frames see zero padding. */
function drive(nr, movie, frames) {
  const proj = new Float64Array(frames);
  for (let t = 0; t < frames; t++) {
    let s = 0;
    for (let c = 0; c < C; c++) {
      const base = (c * frames + t) * H * W;
      const sb = c * H * W;
      for (let p = 0; p < H * W; p++) s += movie[base + p] * nr.spatial[sb + p];
    }
    proj[t] = s;
  }
  const out = new Float64Array(frames);
  for (let t = 0; t < frames; t++) {
    let d = 0;
    for (let k = 0; k < KERNEL && k <= t; k++) d += nr.temporal[k] * proj[t - k];
    out[t] = d;
  }
  return out;
}

const softplus2 = (g) => (g > 20 ? 2 * g : Math.log1p(Math.exp(2 * g))); // softplus with slope 2

/** Rate of a neuron from its drive normalised to unit SD. */
function rateOf(nr, z) {
  if (nr.polarity === 0) return nr.scale * 0.5 * (softplus2(nr.gain * z + nr.offset) + softplus2(-nr.gain * z + nr.offset));
  return nr.scale * softplus2(nr.polarity * nr.gain * z + nr.offset);
}

const master = rng(SEED);
const scenes = makeScenes(rng(master.int(2 ** 31)));
const stimuli = {};
for (let i = 0; i < TRAIN_MOVIES; i++)
  stimuli[`train_natural_${i}`] = { data: viewMovie(scenes, TRAIN_FRAMES, master.int(2 ** 31)), frames: TRAIN_FRAMES };
stimuli.test_movie = { data: viewMovie(scenes, TEST_FRAMES, master.int(2 ** 31)), frames: TEST_FRAMES };
for (const [name, s] of Object.entries(stimuli)) writeByteNpy(join(OUT, 'stimuli', `${name}.npy`), s.data, [C, s.frames, H, W]);
const trainNames = Object.keys(stimuli).filter((n) => n !== 'test_movie');

const summary = { seed: SEED, sessions: {} };
for (const [session, n] of Object.entries(SESSIONS)) {
  const r = rng(master.int(2 ** 31));
  const neurons = Array.from({ length: n }, (_, j) => makeNeuron(r, j % TYPES.length));
  // drives, normalised by their SD over the training movies
  const drives = neurons.map((nr) => Object.fromEntries(Object.entries(stimuli).map(([name, s]) => [name, drive(nr, s.data, s.frames)])));
  for (const d of drives) {
    let m = 0;
    let cnt = 0;
    for (const name of trainNames) {
      for (const v of d[name]) m += v;
      cnt += d[name].length;
    }
    m /= cnt;
    let v2 = 0;
    for (const name of trainNames) for (const v of d[name]) v2 += (v - m) ** 2;
    const sd = Math.sqrt(v2 / cnt);
    for (const name of Object.keys(d)) d[name] = d[name].map((v) => v / sd);
  }
  const responses = {};
  let trainRate = 0;
  let trainCount = 0;
  for (const [name, s] of Object.entries(stimuli)) {
    const rate = new Float32Array(s.frames * n);
    for (let j = 0; j < n; j++) for (let t = 0; t < s.frames; t++) rate[t * n + j] = rateOf(neurons[j], drives[j][name][t]);
    if (name === 'test_movie') {
      const trials = new Uint8Array(TEST_TRIALS * rate.length);
      const mean = new Float32Array(rate.length);
      for (let k = 0; k < TEST_TRIALS; k++) {
        for (let i = 0; i < rate.length; i++) {
          const v = Math.min(255, r.poisson(rate[i]));
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
    } else {
      for (const v of rate) trainRate += v;
      trainCount += rate.length;
      responses[name] = { data: Float32Array.from(rate, (v) => r.poisson(v)), shape: [s.frames, n] };
    }
  }
  summary.sessions[session] = { neurons: n, meanTrainRate: +(trainRate / trainCount).toFixed(3) };
  await writeHdf5Session(join(OUT, `${session}.h5`), {
    responses,
    sessionInfo: {
      cell_type: neurons.map((x) => x.type),
      polarity: neurons.map((x) => (x.polarity > 0 ? 1 : x.polarity < 0 ? -1 : 0)),
    },
  });
}
console.log(`wrote ${OUT}: ${JSON.stringify(summary)}`);
