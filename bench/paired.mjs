// `pnpm bench:paired [pairs]`: the step, inference and MEI ratios of issue 18 item 3, and the whole run (f), measured
// in pairs, ours and OpenRetina's (PyTorch) seconds apart. `pnpm bench` times all of our figures first and PyTorch's
// minutes later, and this VM's cores change speed over minutes, so one run's ratio moves with that drift; a pair
// shares the machine's state. Each pair waits (up to 3 minutes) for a 1-minute load below 1, then runs `figures.mjs
// train_step_b32`, `inference_b32_onnx` and `mei_iteration`, each in a fresh process as in `pnpm bench`, then
// `bench_torch.py --train-batches 32` (7 runs after 2, as `pnpm bench`); then the whole run (f) as `pnpm bench` times
// it: our `bench/epoch-phases.mjs` (the bin's stand-in, BENCH_EPOCHS epochs, default 4) and `train_reference.py` for
// the same epochs, node or python start to exit. Prints a row per pair and the medians; writes bench/paired.json.
// Needs built packages, Debian's python3-torch and OPENRETINA_SRC (see reference/pytorch/README.md).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, bundledRunArgs, median, timedRun, trainReferenceArgs } from './lib.mjs';
import { goalText, meets, target } from './targets.mjs';

const PAIRS = Number(process.argv[2] ?? 8);
// Each figure's target is `pnpm bench`'s (bench/targets.mjs), judged the same way.
const FIGURES = [
  { key: 'train_step_b32', ours: 'train_step_b32', torch: 'b_train_step_b32_t50', target: target('train_step_b32') },
  { key: 'inference_b32', ours: 'inference_b32_onnx', torch: 'a_inference_b32_t50', target: target('inference_b32_onnx') },
  { key: 'mei_iteration', ours: 'mei_iteration', torch: 'c3_mei_optimize_stimulus_1_iteration_t50', target: target('mei_iteration') },
];
/** The whole run (f): wall seconds, not a figures.mjs median. */
const WHOLE_RUN = { key: 'whole_run', target: target('run_bundled_wall') };

function fail(message) {
  process.stderr.write(`bench:paired: ${message}\n`);
  process.exit(1);
}

if (!Number.isInteger(PAIRS) || PAIRS < 1) fail(`the number of pairs must be a positive integer, got ${process.argv[2]}`);
const src = process.env.OPENRETINA_SRC;
if (!src || !existsSync(src)) fail('OPENRETINA_SRC must name the OpenRetina source tree (see reference/pytorch/README.md)');
if (spawnSync('/usr/bin/python3', ['-c', 'import torch']).status !== 0)
  fail('Debian torch is not importable (apt-get install python3-torch)');

const tmp = mkdtempSync(join(tmpdir(), 'orpaired-'));

function readJson(path, what) {
  if (!existsSync(path)) fail(`${what} wrote no results`);
  return JSON.parse(readFileSync(path, 'utf8'));
}

function ours(figure, i) {
  const out = join(tmp, `${figure}-${i}.json`);
  const r = spawnSync(process.execPath, [join(ROOT, 'bench', 'figures.mjs'), figure, out], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) fail(`figures.mjs ${figure} exited with ${r.status}`);
  return readJson(out, `figures.mjs ${figure}`).median_ms;
}

function torch(i) {
  const out = join(tmp, `torch-${i}.json`);
  const args = ['--threads', '2', '--runs', '7', '--warmup', '2', '--train-batches', '32', '--json', out];
  const r = spawnSync('/usr/bin/python3', [join(ROOT, 'reference', 'pytorch', 'bench_torch.py'), ...args], {
    env: { ...process.env, OPENRETINA_SRC: src },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0) fail(`bench_torch.py exited with ${r.status}`);
  return readJson(out, 'bench_torch.py').timings;
}

/** Wall seconds of a process run as `pnpm bench` times figure (f). */
function wallOf(what, cmd, args, env) {
  const { r, wall_s } = timedRun(cmd, args, { env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) fail(`${what} exited with ${r.status}: ${(r.stderr ?? '').slice(-400)}`);
  return wall_s;
}

function wholeRun(i) {
  const ours = wallOf('epoch-phases.mjs', process.execPath, bundledRunArgs(join(tmp, `run-${i}.json`)), process.env);
  const torchArgs = trainReferenceArgs(join(tmp, `torch-run-${i}.json`));
  const theirs = wallOf('train_reference.py', '/usr/bin/python3', torchArgs, { ...process.env, OPENRETINA_SRC: src });
  return { ours_s: ours, torch_s: theirs, ratio: ours / theirs };
}

/** Waits up to 3 minutes for a 1-minute load below 1; returns the load it started at. */
function quietLoad() {
  for (let waited = 0; waited < 180 && loadavg()[0] >= 1; waited += 10) spawnSync('sleep', ['10']);
  return loadavg()[0];
}

const pairs = [];
for (let i = 1; i <= PAIRS; i++) {
  const load = quietLoad();
  const oursMs = Object.fromEntries(FIGURES.map((f) => [f.key, ours(f.ours, i)]));
  const t = torch(i);
  const pair = { load: Number(load.toFixed(2)), at: new Date().toISOString(), figures: {} };
  for (const f of FIGURES) {
    const torchMs = t[f.torch]?.median_ms;
    if (typeof torchMs !== 'number') fail(`bench_torch.py gave no ${f.torch}`);
    pair.figures[f.key] = { ours_ms: oursMs[f.key], torch_ms: torchMs, ratio: oursMs[f.key] / torchMs };
  }
  pair.figures[WHOLE_RUN.key] = wholeRun(i);
  pairs.push(pair);
  const cells = FIGURES.map((f) => {
    const { ours_ms, torch_ms, ratio } = pair.figures[f.key];
    return `${f.key} ${ours_ms.toFixed(1)}/${torch_ms.toFixed(1)} = ${ratio.toFixed(3)}`;
  });
  const w = pair.figures[WHOLE_RUN.key];
  cells.push(`${WHOLE_RUN.key} ${w.ours_s.toFixed(2)}/${w.torch_s.toFixed(2)} s = ${w.ratio.toFixed(3)}`);
  process.stdout.write(`pair ${i} (load ${pair.load}): ${cells.join(', ')}\n`);
}

const summary = Object.fromEntries(
  [...FIGURES, WHOLE_RUN].map((f) => {
    const ratios = pairs.map((p) => p.figures[f.key].ratio);
    return [
      f.key,
      {
        target: f.target.at_most,
        median_ratio: median(ratios),
        min_ratio: Math.min(...ratios),
        max_ratio: Math.max(...ratios),
        pairs_met: ratios.filter((r) => meets(f.target, r)).length,
      },
    ];
  }),
);
process.stdout.write(`\n| figure | median ratio | range | met (≤ target) |\n| --- | --- | --- | --- |\n`);
for (const f of [...FIGURES, WHOLE_RUN]) {
  const s = summary[f.key];
  process.stdout.write(
    `| ${f.key} | ${s.median_ratio.toFixed(3)} | ${s.min_ratio.toFixed(3)}–${s.max_ratio.toFixed(3)} | ${s.pairs_met} of ${PAIRS} (${goalText(f.target)}) |\n`,
  );
}
const path = join(ROOT, 'bench', 'paired.json');
const tmpPath = `${path}.tmp`;
writeFileSync(tmpPath, `${JSON.stringify({ node: process.version, pairs, summary }, null, 1)}\n`);
renameSync(tmpPath, path);
process.stdout.write(`\nwrote ${path}\n`);
