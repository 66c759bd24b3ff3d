// `pnpm bench`: the performance figures of issue 8 on the default engine, beside OpenRetina (PyTorch) run in the
// same session when Debian's torch is importable (else the recorded anchor). Writes bench/results.json and
// bench/RESULTS.md = the generated part + bench/ANALYSIS.md + bench/TRAINING.md (both hand-written, kept as they
// are) + bench/BROWSER.md (the browser figures of bench/browser.mjs, run here: a row appended per run). Needs built
// packages (`pnpm build`). Environment: BENCH_RUNS (default 7), BENCH_EPOCHS (default 4; also the epochs of (f), the
// whole run), BENCH_SCALE=1 ((g), bench/scale-memory.mjs, and (h), bench/scale-epoch.mjs: minutes), BENCH_SKIP_TORCH=1, OPENRETINA_SRC (the
// OpenRetina source tree for the PyTorch side, run by the scripts in reference/pytorch, see its README; when unset,
// the recorded anchor is used).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { BUNDLED_DATA, BUNDLED_EPOCHS, ROOT, bundledRunArgs, timedRun, trainReferenceArgs } from './lib.mjs';
import { exactRatio, targetRows, targetTable } from './targets.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'orbench-'));
const LOAD_AT_START = loadavg();
// The PyTorch reference scripts (bench_torch.py, train_reference.py) live in the repository.
const TORCH_REF = join(ROOT, 'reference', 'pytorch');
// Recorded anchor (reference/pytorch/recorded-timings.md, 2 threads, mean of the two runs).
const RECORDED = { inference_b32: 40.7, train_step_b32: 98.6, train_step_b128: 375.8, mei_iteration: 13.6, epoch_bundled: 610 };

function log(s) {
  process.stderr.write(`${s}\n`);
}

// The figures are meant for the Node lines the packages support (engines: >=22); an older Node still runs them, but
// its figures (module loading above all) are not what a user gets.
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
if (NODE_MAJOR < 22) {
  log(`bench: Node ${process.versions.node} is older than the supported 22; for figures users get, run`);
  log('  node scripts/with-node.mjs 24 -- pnpm bench');
}

function torchSide() {
  if (process.env.BENCH_SKIP_TORCH) return { source: 'recorded', reason: 'BENCH_SKIP_TORCH set' };
  const py = '/usr/bin/python3';
  const probe = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return { source: 'recorded', reason: 'Debian torch is not importable (apt-get install python3-torch)' };
  const src = process.env.OPENRETINA_SRC;
  if (!src || !existsSync(src)) return { source: 'recorded', reason: 'OPENRETINA_SRC not set (see reference/pytorch/README.md)' };
  const out = join(tmp, 'torch.json');
  log('PyTorch (OpenRetina) side …');
  const r = spawnSync(
    py,
    [join(TORCH_REF, 'bench_torch.py'), '--threads', '2', '--runs', process.env.BENCH_RUNS ?? '7', '--warmup', '2', '--json', out],
    {
      env: { ...process.env, OPENRETINA_SRC: src },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  if (r.status !== 0 || !existsSync(out)) return { source: 'recorded', reason: `bench_torch.py failed: ${(r.stderr ?? '').slice(-400)}` };
  const t = JSON.parse(readFileSync(out, 'utf8')).timings;
  // (d): OpenRetina's own training loop on the bundled dataset (train_reference.py, same settings as the preset)
  let epochMs;
  let epochPhases;
  let runWall;
  const epochJson = join(tmp, 'torch-epoch.json');
  if (existsSync(BUNDLED_DATA) && existsSync(join(TORCH_REF, 'train_reference.py'))) {
    log('PyTorch (OpenRetina) epochs on the bundled dataset …');
    const timed = timedRun(py, trainReferenceArgs(epochJson), {
      env: { ...process.env, OPENRETINA_SRC: src },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const e = timed.r;
    if (e.status === 0 && existsSync(epochJson)) {
      runWall = { wall_s: timed.wall_s, peak_rss_mb: timed.peak_rss_mb };
      const h = JSON.parse(readFileSync(epochJson, 'utf8')).history ?? [];
      const later = h
        .slice(1)
        .map((r) => (r.seconds_train + r.seconds_val) * 1000)
        .sort((a, b) => a - b);
      if (later.length) epochMs = later[(later.length - 1) >> 1];
      const mid = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
      if (h.length > 1) {
        epochPhases = {
          train_ms: mid(h.slice(1).map((r) => r.seconds_train * 1000)),
          validation_ms: mid(h.slice(1).map((r) => r.seconds_val * 1000)),
        };
      }
    } else log(`train_reference.py failed: ${(e.stderr ?? '').slice(-400)}`);
  }
  return {
    epoch_bundled: epochMs,
    epoch_bundled_phases: epochPhases,
    run_bundled: runWall,
    source: 'same session',
    torch: JSON.parse(readFileSync(out, 'utf8')).env?.torch,
    inference_b32: t.a_inference_b32_t50?.median_ms,
    train_step_b32: t.b_train_step_b32_t50?.median_ms,
    train_step_b128: t.b_train_step_b128_t50?.median_ms,
    mei_iteration: t.c3_mei_optimize_stimulus_1_iteration_t50?.median_ms,
    foreign_cpu_cores_used: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.foreign_cpu_cores_used])),
  };
}

function figure(name, env = {}) {
  const out = join(tmp, `${name}.json`);
  log(`${name} …`);
  const load = loadavg()[0];
  const r = spawnSync(process.execPath, [join(ROOT, 'bench', 'figures.mjs'), name, out], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0 || !existsSync(out)) return { figure: name, error: `exit ${r.status}` };
  return { ...JSON.parse(readFileSync(out, 'utf8')), loadavg_before: load };
}

const torch = torchSide();
const anchor = (k) => (torch.source === 'same session' && typeof torch[k] === 'number' ? torch[k] : RECORDED[k]);
/** The timed figures (each has a ratio to OpenRetina), then the profiles. */
const timedNames = [
  'inference_b32_tfjs',
  'inference_b32_onnx',
  'inference_b32_exported_onnx',
  'train_step_b32',
  'train_step_b128',
  'mei_iteration',
  'epoch_bundled',
  'train_step_b32_tfjs',
  'mei_iteration_tfjs',
];
const names = [...timedNames, 'profile_train_step_onnx', 'profile_train_step_tfjs', 'profile_inference_onnx'];
const f = Object.fromEntries(names.map((n) => [n, figure(n)]));

/**
 * (f) The whole `openretina train` run on the bundled dataset as a user waits for it (node start, import, config,
 * data, model, engine, BENCH_EPOCHS epochs, test, checkpoints, report.html with its MEIs), through
 * bench/epoch-phases.mjs (which also gives the stages and epoch phases), against train_reference.py's wall time for
 * the same epochs (its data loading, epochs and test).
 */
function runBundled() {
  const out = join(tmp, 'run_bundled.json');
  log('run_bundled …');
  const load = loadavg()[0];
  const timed = timedRun(process.execPath, bundledRunArgs(out), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (timed.r.status !== 0 || !existsSync(out)) return { error: `exit ${timed.r.status}: ${(timed.r.stderr ?? '').slice(-400)}` };
  const phases = JSON.parse(readFileSync(out, 'utf8'));
  return { wall_s: timed.wall_s, peak_rss_mb: timed.peak_rss_mb ?? phases.peak_rss_mb, stages_ms: phases.stages, loadavg_before: load };
}
const runFigure = runBundled();

/** (g) Peak RSS against the number of training clips (bench/scale-memory.mjs), only with BENCH_SCALE=1: minutes. */
function scaleMemory() {
  if (!process.env.BENCH_SCALE) return null;
  const out = join(tmp, 'scale_memory.json');
  log('scale_memory …');
  const r = spawnSync(process.execPath, [join(ROOT, 'bench', 'scale-memory.mjs'), '--json', out], {
    encoding: 'utf8',
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return r.status === 0 && existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : { error: `exit ${r.status}` };
}
const scaleFigure = scaleMemory();

/**
 * (h) Epoch time and peak RSS at the Höfling 2024 dimensions, ours against OpenRetina (bench/scale-epoch.mjs), only
 * with BENCH_SCALE=1: minutes.
 */
function scaleEpoch() {
  if (!process.env.BENCH_SCALE) return null;
  const out = join(tmp, 'scale_epoch.json');
  log('scale_epoch …');
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'bench', 'scale-epoch.mjs'), '--json', out, ...(process.env.BENCH_SKIP_TORCH ? ['--skip-torch'] : [])],
    { encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] },
  );
  return r.status === 0 && existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : { error: `exit ${r.status}` };
}
const scaleEpochFigure = scaleEpoch();

// The browser figures (bench/browser.mjs: the demo in headless Chromium, ONNX Runtime Web vs TF.js): a row appended to
// bench/BROWSER.md, which goes into RESULTS.md below with the hand-written sections.
log('browser (headless Chromium) …');
const browserJson = join(tmp, 'browser.json');
spawnSync(process.execPath, [join(ROOT, 'bench', 'browser.mjs')], {
  env: { ...process.env, BENCH_FROM_RUN: '1', BENCH_BROWSER_JSON: browserJson },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const browser = existsSync(browserJson) ? JSON.parse(readFileSync(browserJson, 'utf8')) : null;
const med = (n) => (typeof f[n]?.median_ms === 'number' ? Math.round(f[n].median_ms * 10) / 10 : null);
const rss = (n) => (typeof f[n]?.peak_rss_mb === 'number' ? Math.round(f[n].peak_rss_mb) : null);

const results = {
  engine: f.train_step_b32?.engine ?? 'unknown',
  median_ms: {
    inference_b32_tfjs: med('inference_b32_tfjs'),
    inference_b32_onnx: med('inference_b32_onnx'),
    train_step_b32: med('train_step_b32'),
    train_step_b128: med('train_step_b128'),
    mei_iteration: med('mei_iteration'),
    epoch_bundled: med('epoch_bundled'),
  },
  peak_rss_mb: {
    inference_b32_tfjs: rss('inference_b32_tfjs'),
    inference_b32_onnx: rss('inference_b32_onnx'),
    train_step_b32: rss('train_step_b32'),
    train_step_b128: rss('train_step_b128'),
    mei_iteration: rss('mei_iteration'),
    epoch_bundled: rss('epoch_bundled'),
  },
  extra_median_ms: {
    inference_b32_exported_onnx: med('inference_b32_exported_onnx'),
    train_step_b32_tfjs: med('train_step_b32_tfjs'),
    mei_iteration_tfjs: med('mei_iteration_tfjs'),
  },
  openretina_ms: {
    source: torch.source,
    ...(torch.reason ? { reason: torch.reason } : {}),
    inference_b32: anchor('inference_b32'),
    train_step_b32: anchor('train_step_b32'),
    train_step_b128: anchor('train_step_b128'),
    mei_iteration: anchor('mei_iteration'),
    epoch_bundled: anchor('epoch_bundled'),
    ...(torch.foreign_cpu_cores_used ? { foreign_cpu_cores_used: torch.foreign_cpu_cores_used } : {}),
  },
  ratio_to_openretina: {},
  epoch_bundled: {
    epoch_seconds: f.epoch_bundled?.epoch_seconds ?? null,
    steps_per_epoch: f.epoch_bundled?.steps_per_epoch ?? null,
    batch_size: f.epoch_bundled?.batch_size ?? null,
    batch_prep_ms: f.epoch_bundled?.batch_prep_ms ?? null,
    phases_ms: f.epoch_bundled?.phases_ms ?? null,
    openretina_phases_ms: torch.epoch_bundled_phases ?? null,
    data: BUNDLED_DATA.slice(ROOT.length + 1),
  },
  run_bundled: {
    epochs: Number(BUNDLED_EPOCHS),
    ours: runFigure,
    openretina: torch.run_bundled ?? null,
    ratio_wall: null,
    ratio_peak_rss: null,
  },
  scale_memory: scaleFigure,
  scale_epoch: scaleEpochFigure,
  machine: {
    cpus: cpus().length,
    model: cpus()[0]?.model,
    node: process.version,
    loadavg_at_start: LOAD_AT_START,
    loadavg_at_end: loadavg(),
  },
  browser: browser && {
    chromium: browser.chromium,
    route: browser.route,
    timings: browser.timings,
    loadavg_before: browser.loadavg_before,
  },
  date: new Date().toISOString(),
};
// Ratios from the unrounded medians: the targets are judged on these, results.json and the figures table keep them to
// three places.
const exact = (name, anchorKey) => exactRatio(f[name]?.median_ms, anchor(anchorKey));
const scaleSide = (side) => scaleEpochFigure?.rows?.find((r) => r.side === side);
const browserTimes = browser?.timings ?? {};
const exactRatios = {
  inference_b32_tfjs: exact('inference_b32_tfjs', 'inference_b32'),
  inference_b32_onnx: exact('inference_b32_onnx', 'inference_b32'),
  inference_b32_exported_onnx: exact('inference_b32_exported_onnx', 'inference_b32'),
  train_step_b32: exact('train_step_b32', 'train_step_b32'),
  train_step_b128: exact('train_step_b128', 'train_step_b128'),
  mei_iteration: exact('mei_iteration', 'mei_iteration'),
  epoch_bundled: exact('epoch_bundled', 'epoch_bundled'),
  train_step_b32_tfjs: exact('train_step_b32_tfjs', 'train_step_b32'),
  mei_iteration_tfjs: exact('mei_iteration_tfjs', 'mei_iteration'),
  run_bundled_wall: exactRatio(runFigure.wall_s, torch.run_bundled?.wall_s),
  run_bundled_peak_rss: exactRatio(runFigure.peak_rss_mb, torch.run_bundled?.peak_rss_mb),
  scale_epoch: exactRatio(scaleSide('ours')?.epoch_ms, scaleSide('OpenRetina')?.epoch_ms),
  scale_peak_rss: exactRatio(scaleSide('ours')?.peak_rss_mb, scaleSide('OpenRetina')?.peak_rss_mb),
  browser_predict: exactRatio(browserTimes.tfjs?.predict_ms, browserTimes[browser?.route?.chosen]?.predict_ms),
  browser_mei: exactRatio(browserTimes.tfjs?.mei_iteration_ms, browserTimes.onnx?.mei_iteration_ms),
};
const rounded = (key) => (exactRatios[key] === null ? null : Math.round(exactRatios[key] * 1000) / 1000);
results.ratio_to_openretina = Object.fromEntries(timedNames.map((key) => [key, rounded(key)]));
results.run_bundled.ratio_wall = rounded('run_bundled_wall');
results.run_bundled.ratio_peak_rss = rounded('run_bundled_peak_rss');
results.targets = targetRows(exactRatios);
writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
writeFileSync(join(ROOT, 'bench', 'raw-figures.json'), `${JSON.stringify({ torch, figures: f }, null, 1)}\n`);

const loadOf = {
  '(a) inference 32×50, TF.js wasm': 'inference_b32_tfjs',
  '(a) inference 32×50, ONNX engine graph': 'inference_b32_onnx',
  '(b) training step, batch 32 (ONNX)': 'train_step_b32',
  '(b) training step, batch 128 (ONNX)': 'train_step_b128',
  '(b) training step, batch 32 (TF.js wasm)': 'train_step_b32_tfjs',
  '(c) MEI iteration (ONNX)': 'mei_iteration',
  '(c) MEI iteration (TF.js wasm)': 'mei_iteration_tfjs',
};
const row = (label, ours, theirs, r, mem) => {
  const key =
    loadOf[label] ?? (label.startsWith('(e)') ? 'inference_b32_exported_onnx' : label.startsWith('(d)') ? 'epoch_bundled' : undefined);
  const load = key ? f[key]?.loadavg_before : undefined;
  const t = typeof theirs === 'number' ? Math.round(theirs * 10) / 10 : '—';
  return `| ${label} | ${ours ?? '—'} | ${t} | ${r ?? '—'} | ${mem ?? '—'} | ${typeof load === 'number' ? load.toFixed(2) : '—'} |`;
};
const prof = f.profile_train_step_onnx?.by_op ?? [];
const profT = f.profile_train_step_tfjs?.by_kernel ?? [];
const md = `# Benchmarks (generated by \`pnpm bench\`)

Generated ${results.date} on ${results.machine.cpus}× ${results.machine.model}, Node ${results.machine.node}; load average (1 / 5 / 15 min)
at the start ${results.machine.loadavg_at_start.map((x) => x.toFixed(1)).join(' / ')}, at the end ${results.machine.loadavg_at_end.map((x) => x.toFixed(1)).join(' / ')}. Model: hoefling low-res core-readout (2→16→16, kt [21, 11], ks [11, 5],
Gaussian-mask readout, one session of 35 neurons), input 50 frames of 18×16×2. Default engine: **${results.engine}**
(onnxruntime-node, intra-op threads 2). OpenRetina: ${torch.source === 'same session' ? `PyTorch ${torch.torch ?? ''} run in this session (2 threads)` : `recorded anchor (${torch.reason})`}.
Medians of ${process.env.BENCH_RUNS ?? 7} runs after warm-up (TF.js training: 3 runs); peak RSS of the process that ran the figure.
Other processes' CPU use during the PyTorch timings (cores, measured by the harness): ${torch.foreign_cpu_cores_used ? JSON.stringify(torch.foreign_cpu_cores_used) : '—'}.

Issue 18's targets in this run, each judged on its exact ratio (OpenRetina ${torch.source === 'same session' ? 'timed in this run' : 'from the recorded anchor'}; the browser's are speed-ups over TF.js in the same page):

${targetTable(results.targets)}

| figure | ours, median ms | OpenRetina ms | ratio (ours ÷ OpenRetina) | peak RSS MB | load (1 min) before |
| --- | --- | --- | --- | --- | --- |
${row('(a) inference 32×50, TF.js wasm', results.median_ms.inference_b32_tfjs, results.openretina_ms.inference_b32, results.ratio_to_openretina.inference_b32_tfjs, results.peak_rss_mb.inference_b32_tfjs)}
${row('(a) inference 32×50, ONNX engine graph', results.median_ms.inference_b32_onnx, results.openretina_ms.inference_b32, results.ratio_to_openretina.inference_b32_onnx, results.peak_rss_mb.inference_b32_onnx)}
${row(`(e) inference 32×50, exported ONNX model (${f.inference_b32_exported_onnx?.convForm ?? '?'} form, raw session.run)`, results.extra_median_ms.inference_b32_exported_onnx, results.openretina_ms.inference_b32, results.ratio_to_openretina.inference_b32_exported_onnx, rss('inference_b32_exported_onnx'))}
${row('(b) training step, batch 32 (ONNX)', results.median_ms.train_step_b32, results.openretina_ms.train_step_b32, results.ratio_to_openretina.train_step_b32, results.peak_rss_mb.train_step_b32)}
${row('(b) training step, batch 128 (ONNX)', results.median_ms.train_step_b128, results.openretina_ms.train_step_b128, results.ratio_to_openretina.train_step_b128, results.peak_rss_mb.train_step_b128)}
${row('(b) training step, batch 32 (TF.js wasm)', results.extra_median_ms.train_step_b32_tfjs, results.openretina_ms.train_step_b32, results.ratio_to_openretina.train_step_b32_tfjs, rss('train_step_b32_tfjs'))}
${row('(c) MEI iteration (ONNX)', results.median_ms.mei_iteration, results.openretina_ms.mei_iteration, results.ratio_to_openretina.mei_iteration, results.peak_rss_mb.mei_iteration)}
${row('(c) MEI iteration (TF.js wasm)', results.extra_median_ms.mei_iteration_tfjs, results.openretina_ms.mei_iteration, results.ratio_to_openretina.mei_iteration_tfjs, rss('mei_iteration_tfjs'))}
${row(`(d) one epoch, bundled dataset (${results.epoch_bundled.steps_per_epoch ?? '?'} steps of batch ${results.epoch_bundled.batch_size ?? '?'} + validation)`, results.median_ms.epoch_bundled, results.openretina_ms.epoch_bundled, results.ratio_to_openretina.epoch_bundled, results.peak_rss_mb.epoch_bundled)}

(d): the CLI's training (\`openretina train --config bundled_core_readout trainer.max_epochs=${BUNDLED_EPOCHS}\`, data
\`${results.epoch_bundled.data}\`), median of the epochs after the first (which also builds the ONNX Runtime sessions);
epoch seconds ${JSON.stringify(results.epoch_bundled.epoch_seconds)}. OpenRetina: \`train_reference.py --batch-size 16\` on the same data, same
rule${torch.source === 'same session' && torch.epoch_bundled ? '' : ' (recorded 0.61 s/epoch from bench/TRAINING.md: the run could not be repeated here)'}.
Epoch phases, ours (ms, medians of epochs 2–${BUNDLED_EPOCHS}; data = taking batches, step = engine loss + gradients, optimizer = clip + AdamW):
${JSON.stringify(f.epoch_bundled?.phases_ms ?? {})}; OpenRetina (train_reference.py): ${JSON.stringify(torch.epoch_bundled_phases ?? {})}.
Batch preparation (the same loaders iterated alone): median ${results.epoch_bundled.batch_prep_ms?.median?.toFixed(2) ?? '?'} ms per batch,
${results.epoch_bundled.batch_prep_ms?.total?.toFixed(1) ?? '?'} ms per epoch.

(f) the whole run, \`openretina train --config bundled_core_readout trainer.max_epochs=${results.run_bundled.epochs}\` (node start to exit,
report.html with its MEIs included, as the bin runs it: relaunched with huge pages for malloc where that applies; load ${typeof runFigure.loadavg_before === 'number' ? runFigure.loadavg_before.toFixed(2) : '—'} before): wall ${runFigure.wall_s?.toFixed(1) ?? '—'} s, peak RSS
${runFigure.peak_rss_mb?.toFixed(0) ?? '—'} MB; stages (ms) ${JSON.stringify(Object.fromEntries(Object.entries(runFigure.stages_ms ?? {}).map(([k, v]) => [k, Math.round(v)])))}.
OpenRetina, \`train_reference.py\` for the same epochs: wall ${torch.run_bundled?.wall_s?.toFixed(1) ?? '—'} s, peak RSS ${torch.run_bundled?.peak_rss_mb?.toFixed(0) ?? '—'} MB.
Ratios (ours ÷ OpenRetina): wall ${results.run_bundled.ratio_wall ?? '—'}, peak RSS ${results.run_bundled.ratio_peak_rss ?? '—'}.
${scaleFigure ? `\n(g) peak RSS against training clips (bench/scale-memory.mjs): ${scaleFigure.error ?? scaleFigure.markdown}\n` : '(g) scale memory: not run (BENCH_SCALE=1 runs bench/scale-memory.mjs, minutes).'}
${scaleEpochFigure ? `\n(h) epoch and peak RSS at the Höfling 2024 dimensions, ours vs OpenRetina (bench/scale-epoch.mjs): ${scaleEpochFigure.error ?? scaleEpochFigure.markdown}\n` : '(h) scale epoch: not run (BENCH_SCALE=1 runs bench/scale-epoch.mjs, minutes).'}

Training-step phases (ONNX, batch 32, one run): ${JSON.stringify(f.train_step_b32?.phases_ms ?? {})}; batch 128: ${JSON.stringify(f.train_step_b128?.phases_ms ?? {})}.
MEI-iteration phases (ONNX, medians, ms): ${JSON.stringify(f.mei_iteration?.phases_ms ?? {})}.
(e) every export form, raw session.run medians (ms): ${JSON.stringify(Object.fromEntries(Object.entries(f.inference_b32_exported_onnx?.forms ?? {}).map(([k, v]) => [k, Math.round(v.median_ms * 10) / 10])))}; the default through
\`OnnxResponseModel.predict\` (TF.js tensors in and out): ${f.inference_b32_exported_onnx?.predict_e2e ? f.inference_b32_exported_onnx.predict_e2e.median_ms.toFixed(1) : '—'} ms.

## Where the time goes: ONNX training step, batch 32 (onnxruntime profiler, ms per step, averaged over ${f.profile_train_step_onnx?.model_run_ms?.length ?? 0} runs after three warm-up runs)

model_run per step: ${(f.profile_train_step_onnx?.model_run_ms ?? []).map((x) => x.toFixed(0)).join(', ')} ms

| op | ms / step | nodes | heaviest nodes (ms) |
| --- | --- | --- | --- |
${prof
  .slice(0, 12)
  .map(
    (o) => `| ${o.op} | ${o.ms_per_step.toFixed(1)} | ${o.nodes} | ${o.top_nodes.map(([k, ms]) => `${k} ${ms.toFixed(1)}`).join('; ')} |`,
  )
  .join('\n')}

## Where the time goes: ONNX prediction graph (onnxruntime profiler, 2 intra-op threads, ms per run after two warm-ups)

${Object.entries(f.profile_inference_onnx?.shapes ?? {})
  .map(
    ([
      shape,
      v,
    ]) => `Batch × frames ${shape.replace('x', ' × ')}: model_run ${v.model_run_ms.map((x) => x.toFixed(1)).join(', ')} ms; all nodes ${v.nodes_ms.toFixed(1)} ms per run.

| node | op | output | ms / run |
| --- | --- | --- | --- |
${v.top_nodes.map((o) => `| ${o.node} | ${o.op} | ${o.shape} | ${o.ms.toFixed(2)} |`).join('\n')}
`,
  )
  .join('\n')}
## Where the time goes: TF.js wasm training step, batch 32 (tf.profile, kernel ms)

| kernel | ms | calls |
| --- | --- | --- |
${profT
  .slice(0, 15)
  .map((k) => `| ${k.kernel} | ${k.ms.toFixed(1)} | ${k.count} |`)
  .join('\n')}
`;
// Hand-written sections, appended as they are: ANALYSIS.md (reading the numbers), TRAINING.md (side-by-side training),
// BROWSER.md (the browser runs' table, one row per run of bench/browser.mjs).
const handWritten = ['ANALYSIS.md', 'TRAINING.md', 'BROWSER.md'].map((name) => join(ROOT, 'bench', name)).filter((p) => existsSync(p));
writeFileSync(join(ROOT, 'bench', 'RESULTS.md'), [md, ...handWritten.map((p) => readFileSync(p, 'utf8'))].join('\n'));
// The repository's formatter aligns markdown tables: format what this run wrote, so `pnpm lint` stays clean after it.
const biome = join(ROOT, 'node_modules', '.bin', 'biome');
if (existsSync(biome)) {
  const r = spawnSync(biome, ['format', '--write', join(ROOT, 'bench', 'RESULTS.md'), join(ROOT, 'bench', 'BROWSER.md')], {
    encoding: 'utf8',
  });
  if (r.status !== 0) log(`biome format of bench/RESULTS.md failed: ${(r.stderr ?? '').slice(-400)}`);
}
log(JSON.stringify(results, null, 1));
