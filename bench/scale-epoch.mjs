// Epoch time and peak RSS at the dimensions of Höfling et al. 2024's natural-movie dataset, ours against OpenRetina:
// the dataset of bench/make-scale-dataset.mjs (2 × 18 × 16 stimulus, 108 training clips of 150 frames, a 750-frame
// test movie; 50 sessions × 71 neurons = 3550 neurons by default, the order of the paper's 3527 modelled RGCs), the
// bundled_core_readout hyper-parameters on both sides (batch 16, chunks of 50, clips of 150, 10 validation clips):
//   ours:       node bench/epoch-phases.mjs EPOCHS bundled_core_readout … paths.data_dir=DIR (no report MEIs)
//   OpenRetina: reference/pytorch/train_reference.py DIR --batch-size 16 --max-epochs EPOCHS (needs OPENRETINA_SRC)
// Each epoch is limited to --batches training steps and --val-batches validation batches (0: all; one per session)
// so that a bench run takes minutes; the epoch time is the median of the epochs after the first (the first builds
// ONNX Runtime's sessions), the peak RSS that of the whole process (GNU time's %M when /usr/bin/time exists), the
// test evaluation included on both sides. --threshold sets data_io.lazy_threshold_bytes (default: the reader's).
// Usage:
//   node bench/scale-epoch.mjs [--sessions 50] [--neurons 71] [--clips 108] [--epochs 2] [--batches 100]
//     [--val-batches 0] [--threshold BYTES] [--skip-torch] [--json out.json]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, timedRun } from './lib.mjs';
import { goalText, ratioText, target } from './targets.mjs';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '50' },
    neurons: { type: 'string', default: '71' },
    clips: { type: 'string', default: '108' },
    epochs: { type: 'string', default: '2' },
    batches: { type: 'string', default: '100' },
    'val-batches': { type: 'string', default: '0' },
    threshold: { type: 'string' },
    'skip-torch': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const { sessions, neurons, clips, epochs, batches } = values;
const valBatches = Number(values['val-batches']);
const dir = join(ROOT, 'bench', 'data', `scale-c${clips}-s${sessions}-n${neurons}`);
const dirBytes = (d) =>
  readdirSync(d, { withFileTypes: true }).reduce(
    (a, e) => a + (e.isDirectory() ? dirBytes(join(d, e.name)) : statSync(join(d, e.name)).size),
    0,
  );
if (!existsSync(dir)) {
  const g = spawnSync(
    process.execPath,
    [join(ROOT, 'bench', 'make-scale-dataset.mjs'), '--dir', dir, '--clips', clips, '--sessions', sessions, '--neurons', neurons],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (g.status !== 0) throw new Error('make-scale-dataset.mjs failed');
}
const datasetMb = dirBytes(dir) / 2 ** 20;

// ours
const oursJson = join(tmpdir(), `orbench-scale-epoch-${process.pid}.json`);
const loadOurs = loadavg()[0];
const ours = timedRun(
  process.execPath,
  [
    join(ROOT, 'bench', 'epoch-phases.mjs'),
    epochs,
    'bundled_core_readout',
    oursJson,
    `paths.data_dir=${dir}`,
    `++trainer.limit_train_batches=${batches}`,
    ...(valBatches > 0 ? [`++trainer.limit_val_batches=${valBatches}`] : []),
    ...(values.threshold === undefined ? [] : [`+data_io.lazy_threshold_bytes=${values.threshold}`]),
  ],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EPOCH_PHASES_REPORT_MEIS: '0' } },
);
if (ours.r.status !== 0 || !existsSync(oursJson)) throw new Error(`our training failed: ${(ours.r.stderr ?? '').slice(-600)}`);
const o = JSON.parse(readFileSync(oursJson, 'utf8'));
const oursRow = {
  side: 'ours',
  epoch_ms: o.epoch_ms_median,
  train_ms: (o.phases_ms_median.data ?? 0) + (o.phases_ms_median.step ?? 0) + (o.phases_ms_median.optimizer ?? 0),
  validation_ms: o.phases_ms_median.validation,
  peak_rss_mb: ours.peak_rss_mb ?? o.peak_rss_mb,
  wall_s: ours.wall_s,
  load_before: loadOurs,
  lazy: o.data_read_on_demand,
};

// OpenRetina
let torchRow = null;
const src = process.env.OPENRETINA_SRC;
if (!values['skip-torch'] && src && existsSync(src)) {
  const torchJson = join(tmpdir(), `orbench-scale-epoch-torch-${process.pid}.json`);
  const loadTorch = loadavg()[0];
  const t = timedRun(
    '/usr/bin/python3',
    [
      join(ROOT, 'reference', 'pytorch', 'train_reference.py'),
      dir,
      '--batch-size',
      '16',
      '--max-epochs',
      epochs,
      '--patience',
      '1000',
      '--threads',
      '2',
      '--max-batches',
      batches,
      ...(valBatches > 0 ? ['--max-val-batches', String(valBatches)] : []),
      '--json',
      torchJson,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OPENRETINA_SRC: src } },
  );
  if (t.r.status !== 0 || !existsSync(torchJson)) {
    torchRow = { side: 'OpenRetina', error: `exit ${t.r.status}: ${(t.r.stderr ?? '').slice(-400)}` };
  } else {
    const p = JSON.parse(readFileSync(torchJson, 'utf8'));
    const later = p.history.length > 1 ? p.history.slice(1) : p.history;
    const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    torchRow = {
      side: 'OpenRetina',
      epoch_ms: p.seconds_per_epoch_after_first_median * 1000,
      train_ms: med(later.map((h) => h.seconds_train)) * 1000,
      validation_ms: med(later.map((h) => h.seconds_val)) * 1000,
      peak_rss_mb: t.peak_rss_mb ?? p.peak_rss_mb,
      wall_s: t.wall_s,
      load_before: loadTorch,
      data_loading_s: p.seconds_data_loading,
    };
  }
}

const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '—');
const rows = [oursRow, ...(torchRow ? [torchRow] : [])];
const markdown = [
  `${sessions} sessions × ${neurons} neurons, ${clips} training clips of 150 frames (dataset ${f0(datasetMb)} MB on disk${
    oursRow.lazy === true ? ', our reader: per clip on demand' : oursRow.lazy === false ? ', our reader: all at load' : ''
  }); ${epochs} epochs of at most ${batches} steps of batch 16 + ${valBatches > 0 ? valBatches : 'all'} validation batches; epoch = median after the first:`,
  '',
  '| side | epoch ms | training ms | validation ms | peak RSS MB | wall s | load before |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map((r) =>
    r.error
      ? `| ${r.side} | ${r.error} | | | | | |`
      : `| ${r.side} | ${f0(r.epoch_ms)} | ${f0(r.train_ms)} | ${f0(r.validation_ms)} | ${f0(r.peak_rss_mb)} | ${r.wall_s.toFixed(1)} | ${r.load_before.toFixed(1)} |`,
  ),
  ...(torchRow && !torchRow.error
    ? [
        '',
        `ours ÷ OpenRetina: epoch ${ratioText(oursRow.epoch_ms, torchRow.epoch_ms)} (target ${goalText(target('scale_epoch'))}), peak RSS ${ratioText(oursRow.peak_rss_mb, torchRow.peak_rss_mb)} (target ${goalText(target('scale_peak_rss'))})`,
      ]
    : ['', 'OpenRetina not run (OPENRETINA_SRC unset or --skip-torch).']),
].join('\n');
console.log(markdown);
if (values.json) {
  writeFileSync(
    values.json,
    `${JSON.stringify({ sessions: Number(sessions), neurons: Number(neurons), clips: Number(clips), dataset_mb: datasetMb, rows, markdown }, null, 1)}\n`,
  );
}
