// Writes the demo's bundled model and natural movie from a run of our trainer on the bundled dataset, and the
// reference outputs the Node test compares the demo's loader against (made by our CLI's `predict`).
//
//   pnpm run main                                         # trains runs/main (repository root)
//   node apps/demo/scripts/make-bundled-model.mjs [RUN_DIR] [DATA_DIR]
//
// Defaults: RUN_DIR = runs/main, DATA_DIR = apps/cli/data/natural_2x18x16 (both from the repository root).
// Writes
//   apps/demo/public/models/natural-core-readout/model.json, model.safetensors   RUN_DIR/checkpoints/final, as is
//   apps/demo/public/models/natural-core-readout/natural-movie.npy               the first MOVIE_FRAMES frames of the
//       dataset's test movie, int8 [T, H, W, C] (the dataset's values: the model's inputs, no normalisation)
//   apps/demo/test/fixtures/natural-movie-predict-session_2.npy                  `openretina predict` of that model
//       on that movie for session_2 (cpu backend, TF.js engine), float32 (1, T − 30, 32)
// Needs the packages and the CLI built (pnpm build).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseNpy } from '@openretina/formats';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const runDir = resolve(root, process.argv[2] ?? 'runs/main');
const dataDir = resolve(root, process.argv[3] ?? 'apps/cli/data/natural_2x18x16');
const out = join(here, '..', 'public', 'models', 'natural-core-readout');
const fixtures = join(here, '..', 'test', 'fixtures');
const MOVIE_FRAMES = 300; // 10 s at 30 Hz
const SESSION = 'session_2';

const ckpt = join(runDir, 'checkpoints', 'final');
for (const f of ['model.json', 'model.safetensors']) {
  if (!existsSync(join(ckpt, f))) throw new Error(`${join(ckpt, f)} is missing: train first (pnpm run main) or name a run folder.`);
}
mkdirSync(out, { recursive: true });
mkdirSync(fixtures, { recursive: true });
for (const f of ['model.json', 'model.safetensors']) copyFileSync(join(ckpt, f), join(out, f));

function writeNpy(path, data, shape, descr) {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += `${' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64)}\n`;
  const bytes = new Uint8Array(10 + header.length + data.byteLength);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), 10);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  writeFileSync(path, bytes);
}

// The movie: test_movie (C, T, H, W) int8 → its first frames as [T, H, W, C] int8 (the demo's layout), and as
// float32 (C, T, H, W) for `openretina predict`.
const test = parseNpy(new Uint8Array(readFileSync(join(dataDir, 'stimuli', 'test_movie.npy'))));
if (!(test.data instanceof Int8Array)) throw new Error(`expected an int8 test movie, got ${test.dtype}`);
const [C, T, H, W] = test.shape;
const frames = Math.min(MOVIE_FRAMES, T);
const thwc = new Int8Array(frames * H * W * C);
const cthw = new Float32Array(C * frames * H * W);
for (let c = 0; c < C; c++) {
  for (let t = 0; t < frames; t++) {
    for (let p = 0; p < H * W; p++) {
      const v = test.data[(c * T + t) * H * W + p];
      thwc[(t * H * W + p) * C + c] = v;
      cthw[(c * frames + t) * H * W + p] = v;
    }
  }
}
writeNpy(join(out, 'natural-movie.npy'), thwc, [frames, H, W, C], '|i1');

const tmp = mkdtempSync(join(tmpdir(), 'demo-bundled-'));
try {
  writeNpy(join(tmp, 'x.npy'), cthw, [C, frames, H, W], '<f4');
  const cliArgs = [
    'predict',
    '--checkpoint',
    out,
    '--input',
    join(tmp, 'x.npy'),
    '--session',
    SESSION,
    '--output',
    join(fixtures, `natural-movie-predict-${SESSION}.npy`),
    '--backend',
    'cpu',
  ];
  const help = execFileSync(process.execPath, [join(root, 'apps', 'cli', 'dist', 'cli.js'), 'predict', '--help'], { encoding: 'utf8' });
  if (help.includes('--engine')) cliArgs.push('--engine', 'tfjs');
  execFileSync(process.execPath, [join(root, 'apps', 'cli', 'dist', 'cli.js'), ...cliArgs], { stdio: 'inherit' });
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const card = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
console.log(
  `wrote ${out} (${card.name}; ${readFileSync(join(out, 'model.safetensors')).byteLength} bytes of weights; movie ${frames} frames) and ` +
    `${join(fixtures, `natural-movie-predict-${SESSION}.npy`)}`,
);
