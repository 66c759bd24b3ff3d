// sweep.html: the objective of each trial, each parameter against the objective, and the best config as YAML.
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { writeFileAtomicSync } from '@openretina/formats/node';
import { Figure, escapeXml, gridRects } from '@openretina/plot';
import { bestTrial, type StudySpec, type TrialRecord } from './study.js';
import { overrideValue, type ParamValue } from './search-space.js';

const complete = (trials: readonly TrialRecord[]) =>
  trials.filter((t) => t.state === 'complete' && t.value !== null && Number.isFinite(t.value)).sort((a, b) => a.number - b.number);

/** Objective vs trial number, with the best-so-far line. */
function objectiveFigure(spec: StudySpec, trials: readonly TrialRecord[]): string {
  const done = complete(trials);
  const fig = new Figure({ width: 640, height: 320, title: `${spec.objective} per trial (${spec.direction})` });
  const ax = fig.axes(
    { x: 0, y: fig.top, width: 640, height: 320 - fig.top },
    { xLabel: 'trial', yLabel: spec.objective, id: 'objective' },
  );
  if (done.length) {
    ax.scatter(
      done.map((t) => t.number),
      done.map((t) => t.value!),
      { label: 'trial', titles: done.map((t) => `trial ${t.number}: ${t.value}`) },
    );
    let bestSoFar = done[0]!.value!;
    const running = done.map((t) => {
      bestSoFar = spec.direction === 'maximize' ? Math.max(bestSoFar, t.value!) : Math.min(bestSoFar, t.value!);
      return bestSoFar;
    });
    ax.line(
      done.map((t) => t.number),
      running,
      { label: 'best so far' },
    );
  }
  return fig.toSvg();
}

/** A numeric position for a parameter value (categorical values: their index among the choices). */
function position(values: ParamValue[]): { x: number[]; ticks?: number[]; labels?: string[] } {
  if (values.every((v) => typeof v === 'number')) return { x: values as number[] };
  const keys = [...new Set(values.map((v) => overrideValue(v)))];
  return { x: values.map((v) => keys.indexOf(overrideValue(v))), ticks: keys.map((_, i) => i), labels: keys };
}

/** One panel per parameter: its value against the objective. */
function parameterFigure(spec: StudySpec, trials: readonly TrialRecord[]): string {
  const keys = Object.keys(spec.space);
  const done = complete(trials);
  const cols = Math.min(3, Math.max(1, keys.length));
  const rows = Math.max(1, Math.ceil(keys.length / cols));
  const width = 300 * cols;
  const fig = new Figure({ width, height: 0, title: 'parameter vs objective' });
  fig.setHeight(fig.top + 260 * rows);
  const rects = gridRects({ x: 0, y: fig.top, width, height: 260 * rows }, rows, cols);
  keys.forEach((key, i) => {
    const p = position(done.map((t) => t.params[key] ?? null));
    const d = spec.space[key]!;
    const ax = fig.axes(rects[i]!, {
      xLabel: key,
      yLabel: spec.objective,
      id: `param-${key}`,
      ...(d.kind === 'float' && d.log ? { xScale: 'log' as const } : {}),
      ...(p.ticks ? { xTicks: p.ticks, xTickLabels: p.labels!, xDomain: [-0.5, p.ticks.length - 0.5] as const } : {}),
    });
    if (done.length)
      ax.scatter(
        p.x,
        done.map((t) => t.value!),
        { titles: done.map((t) => `trial ${t.number}`) },
      );
  });
  return fig.toSvg();
}

/** The sweep's page (self-contained HTML). */
export function renderSweepHtml(spec: StudySpec, trials: readonly TrialRecord[], bestConfigYaml: string | null): string {
  const best = bestTrial(spec, trials);
  const rows = [...trials]
    .sort((a, b) => a.number - b.number)
    .map(
      (t) =>
        `<tr${best?.number === t.number ? ' class="best"' : ''}><td>${t.number}</td><td>${escapeXml(t.state)}</td><td>${t.value ?? ''}</td><td>${escapeXml(
          Object.entries(t.params)
            .map(([k, v]) => `${k}=${overrideValue(v)}`)
            .join(' '),
        )}</td><td>${escapeXml(t.run_dir)}</td></tr>`,
    )
    .join('\n');
  const yaml = bestConfigYaml ?? (best ? toYaml(best.params) : '');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>openretina sweep: ${escapeXml(spec.study)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}tr.best{background:#eef7ee}pre{background:#f6f6f6;padding:1em;overflow:auto}</style>
</head><body>
<h1>Sweep ${escapeXml(spec.study)}</h1>
<p>${trials.filter((t) => t.state === 'complete').length} of ${spec.nTrials} trials complete; sampler ${spec.sampler} (seed ${spec.seed}); objective ${escapeXml(spec.objective)} of the best epoch, ${spec.direction}d.</p>
${best ? `<p>Best: trial ${best.number}, ${escapeXml(spec.objective)} = ${best.value} (${escapeXml(best.run_dir)})</p>` : '<p>No trial has finished yet.</p>'}
<h2>Objective</h2>
${objectiveFigure(spec, trials)}
<h2>Parameters</h2>
${parameterFigure(spec, trials)}
<h2>Best configuration</h2>
<p>Train it with <code>openretina train --config ${escapeXml(best ? join(best.run_dir, 'config.yaml') : 'config.yaml')}</code>, or save this YAML:</p>
<pre id="best-config">${escapeXml(yaml)}</pre>
<h2>Trials</h2>
<table><tr><th>trial</th><th>state</th><th>value</th><th>parameters</th><th>run</th></tr>
${rows}
</table>
</body></html>
`;
}

/** Writes sweep.html atomically. */
export function writeSweepHtml(spec: StudySpec, trials: readonly TrialRecord[], bestConfigYaml: string | null): void {
  writeFileAtomicSync(join(spec.outputDir, 'sweep.html'), renderSweepHtml(spec, trials, bestConfigYaml));
}
