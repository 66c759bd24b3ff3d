// The per-run report.html: loss / correlation curves and the per-neuron test-correlation histogram as vega-lite
// specs rendered to inline SVG (self-contained: no scripts, no external files).
import type { TopLevelSpec } from 'vega-lite';
import type { EpochRecord } from '@openretina/trainer';

/** What the report shows. */
export interface ReportInput {
  title: string;
  history: readonly EpochRecord[];
  /** Per test split: per-neuron correlations (with their session). */
  perNeuron: Readonly<Record<string, readonly { session: string; correlation: number }[]>>;
  /** The metrics.json content (shown as a table and embedded). */
  metrics: Readonly<Record<string, unknown>>;
  /** Free-form lines shown under the title (config, data, timing). */
  notes?: readonly string[];
  /** Class name of the evaluation loss behind `val_evaluation_loss` (default: OpenRetina's CorrelationLoss3d). */
  evaluationLoss?: string;
}

/** Renders a vega-lite spec to an SVG string (no DOM, no canvas). */
export async function renderVegaLite(spec: TopLevelSpec): Promise<string> {
  // Loaded on first use: vega's node build awaits at top level, which `require()` of our CJS build cannot load.
  const [{ View, parse }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The vega-lite specs of a report: train/validation loss, validation correlation, learning rate, histograms. */
export function reportSpecs(input: ReportInput): { title: string; spec: TopLevelSpec }[] {
  const rows = input.history.flatMap((h) =>
    Object.entries(h.metrics)
      .filter(([, v]) => Number.isFinite(v))
      .map(([metric, value]) => ({ epoch: h.epoch, metric, value })),
  );
  const pick = (names: string[]) => rows.filter((r) => names.includes(r.metric));
  const line = (title: string, names: string[], yTitle: string): { title: string; spec: TopLevelSpec } => ({
    title,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: 420,
      height: 220,
      data: { values: pick(names) },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
        y: { field: 'value', type: 'quantitative', title: yTitle, scale: { zero: false } },
        color: { field: 'metric', type: 'nominal', title: null },
      },
    },
  });
  const specs = [
    line('Training loss (Poisson sum + regularizers, per batch)', ['train_total_loss', 'train_loss'], 'loss'),
    line('Validation loss (Poisson / (B+T+N), as OpenRetina logs it)', ['val_loss'], 'loss'),
    (input.evaluationLoss ?? 'CorrelationLoss3d') === 'CorrelationLoss3d'
      ? line('Validation correlation (mean per-clip correlation)', ['val_evaluation_loss'], 'correlation')
      : line(`Validation evaluation loss (${input.evaluationLoss})`, ['val_evaluation_loss'], 'loss'),
    {
      title: 'Learning rate',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        width: 420,
        height: 160,
        data: { values: input.history.map((h) => ({ epoch: h.epoch, lr: h.lr })) },
        mark: { type: 'line', point: true },
        encoding: { x: { field: 'epoch', type: 'quantitative' }, y: { field: 'lr', type: 'quantitative', scale: { type: 'log' } } },
      },
    } satisfies { title: string; spec: TopLevelSpec },
  ];
  for (const [split, values] of Object.entries(input.perNeuron)) {
    specs.push({
      title: `Per-neuron test correlation: ${split} (vs the trial-averaged response)`,
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        width: 420,
        height: 220,
        data: { values: values.filter((v) => Number.isFinite(v.correlation)) },
        mark: 'bar',
        encoding: {
          x: { field: 'correlation', type: 'quantitative', bin: { extent: [-0.2, 1], step: 0.05 }, title: 'correlation' },
          y: { aggregate: 'count', type: 'quantitative', title: 'neurons' },
          color: { field: 'session', type: 'nominal' },
        },
      },
    });
  }
  return specs;
}

function metricsTable(metrics: Readonly<Record<string, unknown>>): string {
  const test = (metrics.test ?? {}) as Record<string, Record<string, unknown>>;
  const keys = [...new Set(Object.values(test).flatMap((v) => Object.keys(v).filter((k) => typeof v[k] === 'number')))];
  if (!keys.length) return '';
  const fmt = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : '');
  const head = `<tr><th>split</th>${keys.map((k) => `<th>${escapeHtml(k)}</th>`).join('')}</tr>`;
  const body = Object.entries(test)
    .map(([split, v]) => `<tr><td>${escapeHtml(split)}</td>${keys.map((k) => `<td>${fmt(v[k])}</td>`).join('')}</tr>`)
    .join('');
  return `<div class="table-wrap"><table>${head}${body}</table></div>`;
}

/** The whole report as one self-contained HTML page. */
export async function renderReport(input: ReportInput): Promise<string> {
  const figures: string[] = [];
  for (const { title, spec } of reportSpecs(input)) {
    const svg = await renderVegaLite(spec);
    figures.push(`<figure><figcaption>${escapeHtml(title)}</figcaption>${svg}</figure>`);
  }
  const notes = (input.notes ?? []).map((n) => `<li>${escapeHtml(n)}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
figure{display:inline-block;margin:1em;vertical-align:top}
figcaption{font-weight:600;margin-bottom:.3em}
table{border-collapse:collapse;margin:1em 0}.table-wrap{overflow-x:auto;max-width:100%}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
pre{background:#f6f6f6;padding:1em;overflow:auto;max-height:30em}
</style></head><body>
<h1>${escapeHtml(input.title)}</h1>
<ul>${notes}</ul>
<h2>Test metrics</h2>
${metricsTable(input.metrics)}
<h2>Curves</h2>
${figures.join('\n')}
<h2>metrics.json</h2>
<pre>${escapeHtml(JSON.stringify(input.metrics, null, 2))}</pre>
</body></html>
`;
}
