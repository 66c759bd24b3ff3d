// Issue 18's targets, judged on exact ratios: a ratio rounded to two places would show 0.353 as 0.35 and call a missed
// ≤ 0.35 met. `pnpm bench` prints this table from one run's figures; `pnpm bench:paired` and bench/scale-epoch.mjs
// take their thresholds, and the way they print them, from here.

/** At most `limit` (ours ÷ OpenRetina) or at least `limit` (a speed-up, the browser's TF.js ÷ faster route). */
export const TARGETS = [
  { key: 'inference_b32_onnx', label: '(a) inference 32 × 50, engine `predict`', at_most: 0.3 },
  { key: 'inference_b32_exported_onnx', label: '(e) inference 32 × 50, exported model', at_most: 0.3 },
  { key: 'train_step_b32', label: '(b) training step, batch 32', at_most: 0.35 },
  { key: 'mei_iteration', label: '(c) MEI iteration', at_most: 0.3 },
  { key: 'epoch_bundled', label: '(d) epoch, bundled dataset', at_most: 0.5 },
  { key: 'run_bundled_wall', label: '(f) whole `openretina train` run, wall', at_most: 0.6 },
  { key: 'scale_epoch', label: '(h) epoch at the Höfling 2024 dimensions', at_most: 0.5 },
  { key: 'scale_peak_rss', label: '(h) peak RSS there', at_most: 1.0 },
  { key: 'browser_predict', label: 'browser prediction, 150 frames (TF.js ÷ the demo’s route)', at_least: 3 },
  { key: 'browser_mei', label: 'browser MEI iteration (TF.js ÷ ONNX Runtime Web)', at_least: 3 },
];

/** The target named `key` (one of {@link TARGETS}). */
export function target(key) {
  const t = TARGETS.find((x) => x.key === key);
  if (!t) throw new Error(`bench/targets.mjs has no target ${key}; known: ${TARGETS.map((x) => x.key).join(', ')}`);
  return t;
}

/** `a ÷ b` when both are positive numbers, else null. */
export function exactRatio(a, b) {
  return typeof a === 'number' && typeof b === 'number' && a > 0 && b > 0 ? a / b : null;
}

/** `a ÷ b` for a table cell, to two places (a display value: targets are judged on {@link exactRatio}); `—` when missing. */
export function ratioText(a, b) {
  const r = exactRatio(a, b);
  return r === null ? '—' : r.toFixed(2);
}

/** Whether `value` meets `target` (null when there is no value). */
export function meets(target, value) {
  if (typeof value !== 'number') return null;
  return 'at_most' in target ? value <= target.at_most : value >= target.at_least;
}

/** The target as printed: `≤ 0.35`, `≤ 1.0`, `≥ 3×`. */
export function goalText(target) {
  return 'at_most' in target
    ? `≤ ${Number.isInteger(target.at_most) ? target.at_most.toFixed(1) : target.at_most}`
    : `≥ ${target.at_least}×`;
}

/**
 * The targets' rows for one run: `values` maps a target's key to its exact ratio (or speed-up), null where the
 * figure was not taken.
 */
export function targetRows(values) {
  return TARGETS.map((t) => {
    const value = values[t.key] ?? null;
    return { ...t, value, met: meets(t, value) };
  });
}

/** The rows as a markdown table: the exact value to three places, the target, and met / missed / not run. */
export function targetTable(rows) {
  const lines = rows.map((r) => {
    const value = r.value === null ? '—' : 'at_least' in r ? `${r.value.toFixed(2)}×` : r.value.toFixed(3);
    const verdict = r.met === null ? 'not run' : r.met ? 'met' : '**missed**';
    return `| ${r.label} | ${value} | ${goalText(r)} | ${verdict} |`;
  });
  return ['| target figure | this run (exact) | target | verdict |', '| --- | --- | --- | --- |', ...lines].join('\n');
}
