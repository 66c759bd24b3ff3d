// A benchmark dataset at the dimensions of Höfling et al. 2024's natural-movie dataset, in OpenRetina's generic HDF5
// format (stimuli/<name>.npy (C, T, H, W) + one <session>.hdf5 per session with responses_<name> (N, T)), written
// into a gitignored folder (default bench/data/scale; hundreds of MB). Usage:
//   node bench/make-scale-dataset.mjs [--dir bench/data/scale] [--sessions 50] [--neurons 71] [--clips 108] [--seed 1]
// From OpenRetina's hoefling_2024 reader: 2 colour channels (green, UV), 18 × 16 pixels (the low-res stimulus),
// 108 training clips of 150 frames (NUM_CLIPS, CLIP_LENGTH) and a test movie of 5 clips × 150 frames. Neurons: the
// paper (Höfling et al. 2024, eLife 13:e86860, Fig. 2b) models N = 3527 RGCs; the number of recording fields
// (sessions) they come from is stated neither in OpenRetina's repository nor in the parts of the paper found here,
// so the defaults (50 sessions × 71 neurons = 3550) match the total with an assumed split, which sets the number of
// readouts (one per session). --clips scales the training movie (memory against clips). The training movie is one
// stimulus per 12 clips (`train_natural_NN.npy`), so lazy readers have several files, as in the bundled dataset.
// Responses: Poisson counts of a linear-nonlinear teacher per neuron (a random pixel, channel mix and temporal
// low-pass) so that training has something to fit; the movie is temporally smoothed Gaussian noise.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib.mjs';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: join(ROOT, 'bench', 'data', 'scale') },
    sessions: { type: 'string', default: '50' },
    neurons: { type: 'string', default: '71' },
    clips: { type: 'string', default: '108' },
    seed: { type: 'string', default: '1' },
  },
});
const dir = resolve(values.dir);
const [S, N, CLIPS, SEED] = ['sessions', 'neurons', 'clips', 'seed'].map((k) => Number(values[k]));
const [C, H, W, CLIP, TEST_CLIPS, CLIPS_PER_FILE] = [2, 18, 16, 150, 5, 12];
const dataIo = await import(join(ROOT, 'packages', 'data-io', 'dist', 'node.js'));

let s = SEED >>> 0 || 1;
const uniform = () => {
  s ^= s << 13;
  s >>>= 0;
  s ^= s >>> 17;
  s ^= s << 5;
  s >>>= 0;
  return (s + 0.5) / 4294967296;
};
const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());

/** A movie [T, H, W, C] of temporally smoothed noise (AR(1), unit variance). */
function movie(T) {
  const data = new Float32Array(T * H * W * C);
  const frame = H * W * C;
  const a = 0.9;
  const b = Math.sqrt(1 - a * a);
  for (let i = 0; i < frame; i++) data[i] = normal();
  for (let t = 1; t < T; t++) for (let i = 0; i < frame; i++) data[t * frame + i] = a * data[(t - 1) * frame + i] + b * normal();
  return { data, shape: [T, H, W, C] };
}

/** Poisson counts [T, N] of N linear-nonlinear teachers on `m`. */
function responses(m, teachers) {
  const [T] = m.shape;
  const out = new Float32Array(T * teachers.length);
  teachers.forEach((n, j) => {
    let drive = 0;
    for (let t = 0; t < T; t++) {
      const base = ((t * H + n.y) * W + n.x) * C;
      drive = 0.7 * drive + 0.3 * (n.g * m.data[base] + n.u * m.data[base + 1]);
      const rate = Math.log1p(Math.exp(2 * drive - 0.5));
      let k = 0;
      let p = Math.exp(-rate);
      let c = p;
      const v = uniform();
      while (v > c && k < 30) {
        k++;
        p *= rate / k;
        c += p;
      }
      out[t * teachers.length + j] = k;
    }
  });
  return { data: out, shape: [T, teachers.length] };
}

const t0 = performance.now();
mkdirSync(join(dir, 'stimuli'), { recursive: true });
const stimuli = {};
for (let f = 0; f * CLIPS_PER_FILE < CLIPS; f++) {
  const clips = Math.min(CLIPS_PER_FILE, CLIPS - f * CLIPS_PER_FILE);
  stimuli[`train_natural_${String(f).padStart(2, '0')}`] = movie(clips * CLIP);
}
stimuli.test_movie = movie(TEST_CLIPS * CLIP);
for (const [name, m] of Object.entries(stimuli)) await dataIo.writeMovieNpy(join(dir, 'stimuli', `${name}.npy`), m);
for (let k = 0; k < S; k++) {
  const teachers = Array.from({ length: N }, () => ({
    y: Math.floor(uniform() * H),
    x: Math.floor(uniform() * W),
    g: normal(),
    u: normal(),
  }));
  const rs = Object.fromEntries(Object.entries(stimuli).map(([name, m]) => [name, responses(m, teachers)]));
  await dataIo.writeHdf5Session(join(dir, `session_${String(k + 1).padStart(2, '0')}.hdf5`), { responses: rs });
}
const frames = CLIPS * CLIP;
console.log(
  `wrote ${dir}: ${S} sessions × ${N} neurons, train ${CLIPS} clips × ${CLIP} frames (${frames}), test ${TEST_CLIPS * CLIP} frames, ${C}×${H}×${W}; ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
console.log(
  `train: openretina train --config bundled_core_readout paths.data_dir=${dir} (hdf5 reader, test_names=[test_movie]); OpenRetina: reference/pytorch/train_reference.py ${dir}`,
);
