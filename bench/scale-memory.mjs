// Peak RSS and epoch time of `openretina train` against the size of the training movie: datasets at the
// dimensions of bench/make-scale-dataset.mjs (Höfling 2024's stimulus: 2 × 18 × 16, clips of 150 frames) with
// several numbers of training clips, each trained for one limited epoch in its own process (bench/epoch-phases.mjs,
// no report MEIs). The generic HDF5 reader reads the train movies and responses per clip on demand above
// data_io.lazy_threshold_bytes (--threshold, default 0 here: every dataset lazy), so nothing should grow with the
// clips; `--modes lazy,eager` adds the eager reader (threshold 2^53 − 1: everything read at load) for comparison.
// Usage:
//   node bench/scale-memory.mjs [--clips 27,54,108,216] [--sessions 10] [--neurons 40] [--batches 10]
//     [--modes lazy] [--threshold 0] [--json out.json]
// Datasets go to the gitignored bench/data/scale-memory/clips-<n> (kept between runs). Prints a markdown table.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib.mjs';

const { values } = parseArgs({
  options: {
    clips: { type: 'string', default: '27,54,108,216' },
    modes: { type: 'string', default: 'lazy' },
    threshold: { type: 'string', default: '0' },
    sessions: { type: 'string', default: '10' },
    neurons: { type: 'string', default: '40' },
    batches: { type: 'string', default: '10' },
    json: { type: 'string' },
  },
});
const sizes = values.clips.split(',').map(Number);
const dirBytes = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce(
    (a, e) => a + (e.isDirectory() ? dirBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size),
    0,
  );

const modes = values.modes.split(',');
const thresholdOf = { lazy: values.threshold, eager: String(Number.MAX_SAFE_INTEGER) };
for (const m of modes) if (!(m in thresholdOf)) throw new Error(`--modes: unknown reader mode ${m} (lazy, eager)`);
const rows = [];
for (const clips of sizes) {
  const dir = join(ROOT, 'bench', 'data', 'scale-memory', `clips-${clips}-s${values.sessions}-n${values.neurons}`);
  if (!existsSync(dir)) {
    const g = spawnSync(
      process.execPath,
      [
        join(ROOT, 'bench', 'make-scale-dataset.mjs'),
        '--dir',
        dir,
        '--clips',
        String(clips),
        '--sessions',
        values.sessions,
        '--neurons',
        values.neurons,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    if (g.status !== 0) throw new Error(`make-scale-dataset.mjs failed for ${clips} clips`);
  }
  for (const mode of modes) {
    const out = join(tmpdir(), `orbench-scale-${process.pid}-${clips}-${mode}.json`);
    const load = loadavg()[0];
    const r = spawnSync(
      process.execPath,
      [
        join(ROOT, 'bench', 'epoch-phases.mjs'),
        '1',
        'bundled_core_readout',
        out,
        `paths.data_dir=${dir}`,
        `++trainer.limit_train_batches=${values.batches}`,
        '++trainer.limit_val_batches=2',
        `+data_io.lazy_threshold_bytes=${thresholdOf[mode]}`,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EPOCH_PHASES_REPORT_MEIS: '0' } },
    );
    if (r.status !== 0 || !existsSync(out)) throw new Error(`training on ${dir} failed: ${(r.stderr ?? '').slice(-600)}`);
    const res = JSON.parse(readFileSync(out, 'utf8'));
    rows.push({
      mode,
      clips,
      frames: clips * 150,
      dataset_mb: dirBytes(dir) / 2 ** 20,
      peak_rss_mb: res.peak_rss_mb,
      epoch_ms: res.per_epoch[0]?.epoch_ms,
      setup_ms: res.stages.setup_ms,
      load_before: load,
    });
  }
}
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '—');
const markdown = [
  `${values.sessions} sessions × ${values.neurons} neurons, one epoch of ${values.batches} batches + 2 validation batches per run, no report MEIs; reader: lazy = train movies and responses read per clip on demand (data_io.lazy_threshold_bytes=${values.threshold}), eager = all read at load:`,
  '',
  '| reader | training clips (frames) | dataset on disk MB | peak RSS MB | setup (config, data, model, engine) ms | epoch ms | load before |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.mode} | ${r.clips} (${r.frames}) | ${f1(r.dataset_mb)} | ${f1(r.peak_rss_mb)} | ${f1(r.setup_ms)} | ${f1(r.epoch_ms)} | ${r.load_before.toFixed(1)} |`,
  ),
].join('\n');
console.log(markdown);
if (values.json)
  writeFileSync(
    values.json,
    `${JSON.stringify({ sessions: Number(values.sessions), neurons: Number(values.neurons), threshold: Number(values.threshold), rows, markdown }, null, 1)}\n`,
  );
