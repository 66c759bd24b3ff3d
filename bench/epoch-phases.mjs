// Where a CLI training run's time goes: `openretina train --config bundled_core_readout` (or the config given) run
// in-process, each epoch's phases (trainer's EpochRecord.phases: data, step, optimizer, validation, checkpoint,
// logging, callbacks; medians over the epochs after the first) and the run's own stages (timestamps of the CLI's
// output lines). Usage: node bench/epoch-phases.mjs [epochs=8] [config=bundled_core_readout] [out.json] [overrides…]
// Needs built packages (`pnpm build`). Prints a markdown table; writes JSON when a path is given.
import { mkdtempSync, writeFileSync } from 'node:fs';
import nodeModule from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, median } from './lib.mjs';

const [epochsArg = '8', config = 'bundled_core_readout', outPath, ...overrides] = process.argv.slice(2);
const epochs = Number(epochsArg);
// The `openretina` bin starts `train` again with huge pages for malloc (apps/cli/src/huge-pages.ts; the relaunch
// happens here, before anything else loads, and OPENRETINA_HUGE_PAGES=0 turns it off) and turns on Node's module
// compile cache (Node >= 22.1) before it loads the CLI; so does this stand-in for it, so that figure (f) times what a
// user's `openretina train` does (Python's side has its .pyc files).
(await import(join(ROOT, 'apps', 'cli', 'dist', 'huge-pages.js'))).relaunchWithHugePages(['train']);
nodeModule.enableCompileCache?.();
const t0 = performance.now();
const app = await import(join(ROOT, 'apps', 'cli', 'dist', 'index.js'));
const tImport = performance.now();
const out = mkdtempSync(join(tmpdir(), 'orbench-phases-'));
const lines = [];
const stamp = (l) => lines.push({ at: performance.now(), line: String(l) });
const load = loadavg()[0];
// EPOCH_PHASES_REPORT_MEIS=0 leaves the report's MEIs out (bench/scale-memory.mjs: memory of the data path alone)
const reportMeis = process.env.EPOCH_PHASES_REPORT_MEIS === undefined ? {} : { reportMeis: Number(process.env.EPOCH_PHASES_REPORT_MEIS) };
const run = await app.runTraining(config, [`trainer.max_epochs=${epochs}`, `paths.output_dir=${out}`, ...overrides], {
  ...reportMeis,
  progress: 'none',
  io: { out: stamp, err: stamp },
});
const tEnd = performance.now();
const history = run.result.history;
const later = history.length > 1 ? history.slice(1) : history;
const phaseNames = Object.keys(history[0]?.phases ?? {});
const phases = Object.fromEntries(phaseNames.map((k) => [k, median(later.map((h) => h.phases[k]))]));
const epochMs = median(later.map((h) => h.metrics.epoch_seconds * 1000));
const fullEpochMs = median(later.map((h) => Object.values(h.phases).reduce((a, b) => a + b, 0)));
// Run stages from the CLI's output lines: until "training …" (config, data, model, engine), the epochs, the test
// evaluation with the final checkpoint and metrics files (until "report: …"), report.html (test traces, weights,
// MEIs, figures) until the summary, the rest.
const at = (re) => lines.find((l) => re.test(l.line))?.at;
const tTraining = at(/^training /) ?? t0;
const tTrained = at(/^trained /) ?? tEnd;
const tReport = at(/^report: /) ?? tTrained;
const tSummary = lines.find((l) => l.at > tReport && !/^report: /.test(l.line))?.at ?? tEnd;
const stages = {
  import_ms: tImport - t0,
  setup_ms: tTraining - tImport,
  epochs_ms: tTrained - tTraining,
  test_and_final_checkpoint_ms: tReport - tTrained,
  report_html_ms: tSummary - tReport,
  rest_ms: tEnd - tSummary,
  total_ms: tEnd - t0,
};
const result = {
  config,
  epochs: history.length,
  engine: lines.find((l) => l.line.startsWith('engine'))?.line,
  load_before: load,
  load_after: loadavg()[0],
  epoch_ms_median: epochMs,
  epoch_with_checkpoint_and_logging_ms_median: fullEpochMs,
  phases_ms_median: phases,
  per_epoch: history.map((h) => ({ epoch_ms: h.metrics.epoch_seconds * 1000, ...h.phases })),
  stages,
  peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  // the generic HDF5 reader's lazy path (its log line): train movies and responses read per clip on demand
  data_read_on_demand: lines.some((l) => /is read per clip on demand/.test(l.line)),
};
const r1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '—');
console.log(`${config}, ${history.length} epochs, ${result.engine}; load ${load.toFixed(1)} → ${result.load_after.toFixed(1)}`);
console.log(`| phase | ms per epoch (median, epochs 2–${history.length}) |\n| --- | --- |`);
for (const k of phaseNames) console.log(`| ${k} | ${r1(phases[k])} |`);
console.log(`| epoch_seconds (the record's) | ${r1(epochMs)} |\n| all phases | ${r1(fullEpochMs)} |`);
console.log(`| stage | ms |\n| --- | --- |`);
for (const [k, v] of Object.entries(stages)) console.log(`| ${k} | ${r1(v)} |`);
if (outPath) writeFileSync(outPath, `${JSON.stringify(result, null, 1)}\n`);
process.exit(0);
