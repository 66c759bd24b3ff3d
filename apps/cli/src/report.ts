// The per-run report.html: one self-contained page (figures as inline SVG from @openretina/plot) that a lab can put in
// a lab meeting: what was trained and why it stopped, test metrics in words, test traces, correlation per cell type
// and session, the worst neurons, the learned filters and readout masks, MEIs of the best neurons.
import { escapeXml } from '@openretina/plot';
import type { EpochRecord, NeuronResult } from '@openretina/trainer';
import { correlationSvg, epochNumber, testTracesSvg, trainingCurvesSvg, type CorrelationRow, type TraceExample } from './report-figures.js';

export interface ReportSplit {
  split: string;
  rows: readonly NeuronResult[];
  metrics: Readonly<Record<string, number>>;
  /** Predicted vs recorded traces of a few neurons (best, median, worst). */
  traces?: readonly TraceExample[];
  frameRate?: number;
  /** Movie frames before the first predicted frame (the model's temporal filter length). */
  traceOffsetFrames?: number;
}

export interface ReportMei {
  session: string;
  neuron: number;
  correlation: number;
  /** The MEI's stimulus-composition figure. */
  svg: string;
  converged: boolean;
  iterations: number;
  warnings: readonly string[];
}

/** What the report shows. */
export interface ReportInput {
  title: string;
  history: readonly EpochRecord[];
  maxEpochs?: number;
  /** The kept checkpoint (0-based `epoch`, as in metrics.json). */
  best?: { epoch: number; monitor: string; score: number } | null;
  /** Why training stopped, in words (see `describeStop`). */
  stopSummary?: string;
  /** Class name of the evaluation loss behind `val_evaluation_loss` (default: OpenRetina's CorrelationLoss3d). */
  evaluationLoss?: string;
  splits: readonly ReportSplit[];
  /** Learned core filters, one figure per conv layer. */
  layerFigures?: readonly { name: string; svg: string }[];
  readoutFigures?: readonly { session: string; svg: string }[];
  meis?: readonly ReportMei[];
  /** Free-form lines shown under the title (config, data, timing). */
  notes?: readonly string[];
  /** The metrics file next to the report (linked, not dumped). */
  metricsFile?: string;
  /** "Open in the demo": the demo's URL and the checkpoint folder relative to the report. */
  demo?: { url: string; modelPath: string };
}

const esc = escapeXml;
const fmt = (v: unknown, digits = 3): string =>
  typeof v === 'number'
    ? Number.isFinite(v)
      ? Number.isInteger(v)
        ? String(v)
        : v.toFixed(digits)
      : '—'
    : v === undefined
      ? '—'
      : esc(String(v));

/** Whether any neuron of the split has a noise ceiling (the data had repeated trials of the test stimulus). */
function hasRepeats(rows: readonly NeuronResult[]): boolean {
  return rows.some((r) => Number.isFinite(r.jackknife) || Number.isFinite(r.feve));
}

const REPEATS_MISSING =
  'FEVe (fraction of explainable variance explained) and the jackknife oracle correlation (the noise ceiling) need responses to ' +
  'repeated presentations of the test stimulus, trial by trial; this dataset stores only the trial-averaged test responses, so ' +
  'they cannot be computed (— in the table). The correlations above are with that trial average.';

function metricsTable(splits: readonly ReportSplit[]): string {
  const cols: [string, string, string][] = [
    [
      'correlation',
      'Correlation (mean over neurons)',
      'OpenRetina’s test metric: per-neuron correlation with the trial-averaged response, averaged',
    ],
    ['correlation_mean_of_sessions', 'Mean of sessions', 'the per-session means, averaged'],
    ['poisson_loss', 'Poisson loss', 'per neuron and frame, vs the loader’s targets'],
    ['mse', 'MSE', 'vs the trial average'],
    ['feve', 'FEVe', 'needs trial-by-trial responses'],
    ['jackknife_oracle', 'Oracle correlation', 'jackknife noise ceiling; needs trial-by-trial responses'],
    ['n_neurons', 'Neurons', ''],
  ];
  const head = `<tr><th>Split / session</th>${cols.map(([, label, title]) => `<th title="${esc(title)}">${esc(label)}</th>`).join('')}</tr>`;
  const body = splits
    .flatMap((s) => {
      const main = `<tr><td><strong>${esc(s.split)}</strong></td>${cols.map(([k]) => `<td>${fmt(s.metrics[k])}</td>`).join('')}</tr>`;
      const sessions = [...new Set(s.rows.map((r) => r.session))].sort();
      const per = sessions.map((session) => {
        const rows = s.rows.filter((r) => r.session === session);
        const mean = (key: keyof NeuronResult) => {
          const v = rows.map((r) => Number(r[key])).filter(Number.isFinite);
          return v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
        };
        const vals: Record<string, number> = {
          correlation: mean('corr_to_average'),
          poisson_loss: mean('poisson_loss_to_average'),
          mse: mean('mse_to_average'),
          feve: mean('feve'),
          jackknife_oracle: mean('jackknife'),
          n_neurons: rows.length,
        };
        return `<tr class="session"><td>&nbsp;&nbsp;${esc(session)}</td>${cols.map(([k]) => `<td>${k === 'correlation_mean_of_sessions' ? '' : fmt(vals[k])}</td>`).join('')}</tr>`;
      });
      return [main, ...per];
    })
    .join('');
  return `<table class="metrics">${head}${body}</table>`;
}

function noiseCeiling(s: ReportSplit): string {
  if (!hasRepeats(s.rows)) return `<p class="plain" id="noise-ceiling-${esc(s.split)}">${esc(REPEATS_MISSING)}</p>`;
  const oracle = s.metrics.jackknife_oracle;
  const corr = s.metrics.correlation;
  const ratio = Number.isFinite(oracle) && oracle! > 0 ? corr! / oracle! : Number.NaN;
  return `<p class="plain" id="noise-ceiling-${esc(s.split)}">Noise ceiling from the repeated trials of ${esc(s.split)}: mean jackknife oracle correlation ${fmt(oracle)}; the model reaches ${fmt(corr)} (${Number.isFinite(ratio) ? `${(ratio * 100).toFixed(0)} % of the ceiling` : 'n/a'}); mean FEVe ${fmt(s.metrics.feve)}.</p>`;
}

function worstTable(s: ReportSplit, count = 10): string {
  const rows = [...s.rows].filter((r) => Number.isFinite(r.corr_to_average)).sort((a, b) => a.corr_to_average - b.corr_to_average);
  const hasType = rows.some((r) => r.cell_type !== undefined);
  const head = `<tr><th>Session</th><th>Neuron</th>${hasType ? '<th>Cell type</th>' : ''}<th>Correlation</th><th>MSE</th><th>Poisson loss</th></tr>`;
  const body = rows
    .slice(0, count)
    .map(
      (r) =>
        `<tr><td>${esc(r.session)}</td><td>${r.neuron_relative_idx}</td>${hasType ? `<td>${fmt(r.cell_type)}</td>` : ''}<td>${fmt(r.corr_to_average)}</td><td>${fmt(r.mse_to_average)}</td><td>${fmt(r.poisson_loss_to_average)}</td></tr>`,
    )
    .join('');
  return `<table class="worst" id="worst-${esc(s.split)}">${head}${body}</table>`;
}

export function correlationRows(rows: readonly NeuronResult[]): CorrelationRow[] {
  return rows.map((r) => ({
    session: r.session,
    neuron: r.neuron_relative_idx,
    correlation: r.corr_to_average,
    ...(r.cell_type === undefined || r.cell_type === null ? {} : { cellType: String(r.cell_type) }),
  }));
}

const figure = (svg: string, caption: string, id?: string) =>
  `<figure${id ? ` id="${esc(id)}"` : ''}>${svg}<figcaption>${esc(caption)}</figcaption></figure>`;

function demoSection(demo: ReportInput['demo']): string {
  if (!demo) return '';
  // The checkpoint's absolute URL comes from where this page is served; the demo fetches model.json + model.safetensors from it.
  return `<section id="open-in-demo-section"><h2>Open the model in the demo</h2>
<p><a id="open-in-demo" href="${esc(demo.url)}" data-demo="${esc(demo.url)}" data-model="${esc(demo.modelPath)}">Open this run’s model (${esc(demo.modelPath)}) in the browser demo</a>:
stimuli, predicted responses, readout masks, filters and MEIs of this model. The run folder must be served over HTTP where the
demo can fetch it (the same server, or one that allows cross-origin requests).</p>
<script>(function(){var a=document.getElementById('open-in-demo');var m=new URL(a.dataset.model,location.href).href;var d=new URL(a.dataset.demo,location.href);d.searchParams.set('model',m);a.href=d.href;})();</script>
</section>`;
}

/** The whole report as one self-contained HTML page (no external files; one small script builds the demo link). */
export function renderReport(input: ReportInput): string {
  const best = input.best;
  const epochsRun = input.history.length;
  const lines = [
    `${epochsRun} epoch${epochsRun === 1 ? '' : 's'}${input.maxEpochs ? ` of at most ${input.maxEpochs}` : ''} trained.` +
      (best
        ? ` Kept checkpoint: epoch ${epochNumber(best.epoch)} (${best.monitor} ${best.score.toFixed(5)}), used for every test figure below.`
        : ''),
    ...(input.stopSummary ? [input.stopSummary] : []),
  ];
  const splits = input.splits
    .map((s) => {
      const traces = s.traces?.length
        ? figure(
            testTracesSvg(s.traces, s.frameRate ?? 30, s.traceOffsetFrames ?? 0),
            `Test responses of ${s.split}: predicted (red) vs recorded trial average (grey) for the best, median and worst neuron by correlation.`,
            `traces-${s.split}`,
          )
        : '';
      return `<section class="split" id="split-${esc(s.split)}"><h2>Test split ${esc(s.split)}</h2>
${noiseCeiling(s)}
${traces}
${figure(correlationSvg(correlationRows(s.rows), s.split), 'Per-neuron test correlation: histogram by session, then per cell type (from the data’s cell_type) and per session; each dot is a neuron.', `correlation-${s.split}`)}
<h3>Worst neurons</h3>
${worstTable(s)}
</section>`;
    })
    .join('\n');
  const filters = input.layerFigures?.length
    ? `<section id="filters"><h2>Learned core filters</h2>${input.layerFigures.map((l) => figure(l.svg, `Spatial and temporal kernels of ${l.name} (each output channel; centre made positive).`)).join('\n')}</section>`
    : '';
  const readouts = input.readoutFigures?.length
    ? `<section id="readouts"><h2>Readout masks</h2>${input.readoutFigures.map((r) => figure(r.svg, `Readout masks of ${r.session}: where each neuron reads the core's output.`)).join('\n')}</section>`
    : '';
  const meis = input.meis?.length
    ? `<section id="meis"><h2>Most exciting inputs of the best neurons</h2>${input.meis
        .map((m) =>
          figure(
            m.svg,
            `MEI of ${m.session} neuron ${m.neuron} (test correlation ${m.correlation.toFixed(3)}): ${m.iterations} steps, ${m.converged ? 'converged' : 'not converged'}${m.warnings.length ? ` — ${m.warnings.join('; ')}` : ''}.`,
          ),
        )
        .join('\n')}</section>`
    : '';
  const notes = (input.notes ?? []).map((n) => `<li>${esc(n)}</li>`).join('');
  const repeatsNote = input.splits.some((s) => !hasRepeats(s.rows)) ? `<p class="footnote">— ${esc(REPEATS_MISSING)}</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>${esc(input.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em auto;padding:0 16px;max-width:1220px;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
figure{margin:1em 0}figure svg{max-width:100%;height:auto;display:block}figcaption{font-size:.9em;color:#444}
table{border-collapse:collapse;margin:.6em 0;max-width:100%}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right}
th{background:#f3f4f6;font-weight:600}td:first-child,th:first-child{text-align:left}tr.session td{color:#555;font-size:.95em}
table.metrics{table-layout:fixed;width:100%}table.metrics th{font-size:.85em}
.summary{background:#f4f6f8;padding:.6em 1em;border-radius:6px}.plain{background:#fffbea;padding:.5em .8em;border-left:4px solid #e0b000}
.footnote{font-size:.85em;color:#555}
</style></head><body>
<h1>${esc(input.title)}</h1>
<div class="summary" id="summary"><p>${lines.map(esc).join('<br>')}</p>
<p class="footnote" id="epoch-convention">Epochs are counted from 1 in this report and in the console (epoch 1 = the first pass over the training data). metrics.json and metrics.csv keep Lightning’s 0-based <code>epoch</code> field: epoch N here is <code>epoch: N−1</code> there.</p>
<ul>${notes}</ul></div>
<h2 id="test-metrics">Test metrics</h2>
${metricsTable(input.splits)}
${repeatsNote}
<h2 id="training">Training</h2>
${figure(trainingCurvesSvg(input.history, { evaluationLoss: input.evaluationLoss ?? 'CorrelationLoss3d', bestEpoch: best?.epoch }), 'Loss, validation metric and learning rate per epoch; the red dashed line marks the kept checkpoint.', 'curves')}
${splits}
${filters}
${readouts}
${meis}
${demoSection(input.demo)}
<h2 id="files">Files</h2>
<p>${input.metricsFile ? `All numbers: <a href="${esc(input.metricsFile)}">${esc(input.metricsFile)}</a>; ` : ''}per-neuron results: ${input.splits.map((s) => `<a href="per_neuron_${esc(s.split)}.csv">per_neuron_${esc(s.split)}.csv</a>`).join(', ')}; the per-epoch log: <a href="metrics.csv">metrics.csv</a>.</p>
</body></html>
`;
}

/** The early-stopping settings a stop description reads (a config's `EarlyStopping` callback as it is). */
export interface EarlyStoppingSettings {
  monitor?: string | undefined;
  patience?: number | undefined;
  min_delta?: number | undefined;
  mode?: string | undefined;
}

/**
 * What a run reports when training ends: the kept checkpoint (epoch, monitor, score), why training stopped
 * ({@link describeStop}) and the line printed (with the training time when given). Epochs are counted from 1 in
 * everything a person reads (metrics.json keeps Lightning's 0-based field).
 */
export function trainingOutcome(
  result: { epochsRun: number; stoppedEarly: boolean; stopReason: string | null; best: { epoch: number; score: number } | null },
  maxEpochs: number,
  monitor: string,
  earlyStopping: EarlyStoppingSettings | undefined,
  seconds?: number,
): { best: { epoch: number; monitor: string; score: number } | null; stopSummary: string; line: string } {
  const best = result.best ? { epoch: result.best.epoch, monitor, score: result.best.score } : null;
  const stopSummary = describeStop(
    { epochsRun: result.epochsRun, maxEpochs, stoppedEarly: result.stoppedEarly, stopReason: result.stopReason, best },
    earlyStopping,
  );
  const time = seconds === undefined ? '' : ` in ${seconds.toFixed(1)} s`;
  const line = `trained ${result.epochsRun} epochs${time}; kept epoch ${best ? best.epoch + 1 : '-'} (${monitor} ${best?.score.toFixed(5) ?? '-'}). ${stopSummary}`;
  return { best, stopSummary, line };
}

/**
 * Why training stopped, in one sentence that quotes the kept checkpoint's score (the early-stopping rule compares
 * against its own reference, which moves only by more than `min_delta`; that is why its log line can quote an older
 * score).
 */
export function describeStop(
  info: {
    epochsRun: number;
    maxEpochs: number;
    stoppedEarly: boolean;
    stopReason: string | null;
    best: { epoch: number; monitor: string; score: number } | null;
  },
  earlyStopping?: EarlyStoppingSettings | undefined,
): string {
  if (!info.stoppedEarly)
    return `Training ran all ${info.maxEpochs} epochs${info.epochsRun < info.maxEpochs ? ` (${info.epochsRun} run)` : ''}.`;
  const es = earlyStopping ?? {};
  if (info.stopReason?.startsWith('Monitored metric') && es.patience !== undefined) {
    const delta = es.min_delta ?? 0;
    return (
      `Stopped early after epoch ${info.epochsRun}: ${es.monitor ?? info.best?.monitor ?? 'the monitored metric'} had not improved by more than ${delta} (min_delta) for ${es.patience} epochs.` +
      (info.best
        ? ` The best value, ${info.best.score.toFixed(5)} at epoch ${epochNumber(info.best.epoch)}, is the checkpoint kept${delta > 0 ? '; improvements smaller than min_delta count for the checkpoint but do not reset the early-stopping patience' : ''}.`
        : '')
    );
  }
  return `Stopped early after epoch ${info.epochsRun}: ${info.stopReason ?? 'stopped by a callback'}.`;
}
