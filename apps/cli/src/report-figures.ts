// The figures of report.html, drawn with @openretina/plot (SVG strings inlined in the page).
import { Figure, SERIES_COLORS, gridRects } from '@openretina/plot';
import type { EpochRecord } from '@openretina/trainer';

/** Epochs as people count them: 1 = the first pass over the training data (the records keep Lightning's 0-based index). */
export const epochNumber = (epoch: number): number => epoch + 1;

export interface CurveOptions {
  evaluationLoss: string;
  /** 0-based epoch of the kept checkpoint (marked on every curve). */
  bestEpoch?: number | undefined;
}

/** Training loss, validation loss, validation correlation (or evaluation loss) and learning rate per epoch. */
export function trainingCurvesSvg(history: readonly EpochRecord[], options: CurveOptions): string {
  const fig = new Figure({ width: 1180, height: 560 });
  const rects = gridRects({ x: 0, y: 6, width: 1180, height: 550 }, 2, 2, 18);
  const epochs = history.map((h) => epochNumber(h.epoch));
  const series = (name: string) => history.map((h) => h.metrics[name] ?? Number.NaN);
  const mark = (ax: ReturnType<Figure['axes']>) => {
    if (options.bestEpoch !== undefined)
      ax.vline(epochNumber(options.bestEpoch), { color: '#b00', label: `kept: epoch ${epochNumber(options.bestEpoch)}` });
  };
  const xDomain: [number, number] = [0.5, Math.max(1.5, epochs.length + 0.5)];
  const train = fig.axes(rects[0]!, {
    title: 'Training loss (Poisson sum + regularizers, per batch)',
    xLabel: 'Epoch',
    yLabel: 'Loss',
    xDomain,
  });
  train.line(epochs, series('train_total_loss'), { label: 'train_total_loss' });
  if (history.some((h) => Number.isFinite(h.metrics.train_loss)))
    train.line(epochs, series('train_loss'), { label: 'train_loss', dash: '5 3', color: '#ff7f0e' });
  mark(train);
  const val = fig.axes(rects[1]!, {
    title: 'Validation loss (Poisson / (B+T+N), as OpenRetina logs it)',
    xLabel: 'Epoch',
    yLabel: 'Loss',
    xDomain,
  });
  val.line(epochs, series('val_loss'), { label: 'val_loss' });
  mark(val);
  const correlation = options.evaluationLoss === 'CorrelationLoss3d';
  const ev = fig.axes(rects[2]!, {
    title: correlation ? 'Validation correlation (mean per-clip correlation)' : `Validation evaluation loss (${options.evaluationLoss})`,
    xLabel: 'Epoch',
    yLabel: correlation ? 'Correlation' : 'Loss',
    xDomain,
  });
  ev.line(epochs, series('val_evaluation_loss'), { label: 'val_evaluation_loss' });
  mark(ev);
  const lrs = history.map((h) => h.lr);
  const constant = lrs.every((v) => v === lrs[0]);
  const positive = lrs.every((v) => v > 0);
  const lr = fig.axes(rects[3]!, {
    title: constant ? `Learning rate: constant at ${lrs[0] ?? 'n/a'} (the scheduler never lowered it)` : 'Learning rate (log scale)',
    xLabel: 'Epoch',
    yLabel: 'Learning rate',
    xDomain,
    ...(positive && !constant ? { yScale: 'log' as const } : {}),
  });
  lr.line(epochs, lrs, { color: '#555' });
  mark(lr);
  return fig.toSvg();
}

export interface CorrelationRow {
  session: string;
  neuron: number;
  correlation: number;
  cellType?: string | undefined;
}

/** Histogram of the per-neuron test correlations (one colour per session), and the correlation per cell type and session. */
export function correlationSvg(rows: readonly CorrelationRow[], split: string): string {
  const fig = new Figure({ width: 1180, height: 380 });
  const hasTypes = rows.some((r) => r.cellType !== undefined);
  const [histRect, typeRect, sessRect] = gridRects({ x: 0, y: 6, width: 1180, height: 370 }, 1, hasTypes ? 3 : 2, 18);
  const sessions = [...new Set(rows.map((r) => r.session))].sort();
  const finite = rows.filter((r) => Number.isFinite(r.correlation));
  // from the lowest tenth below the worst neuron, so the bins stay readable
  const lo = Math.min(0.9, Math.floor(Math.min(...finite.map((r) => r.correlation), 1) * 10) / 10);
  const hist = fig.axes(histRect!, {
    title: `Per-neuron test correlation (${split})`,
    xLabel: 'Correlation with the trial average',
    yLabel: 'Neurons',
  });
  sessions.forEach((s, k) => {
    hist.histogram(
      finite.filter((r) => r.session === s).map((r) => r.correlation),
      { bins: Math.round((1 - lo) / 0.05), range: [lo, 1], color: SERIES_COLORS[k % SERIES_COLORS.length]!, opacity: 0.6, label: s },
    );
  });
  const strip = (rect: typeof histRect, key: (r: CorrelationRow) => string, title: string, xLabel: string) => {
    const groups = [...new Set(finite.map(key))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    const ax = fig.axes(rect!, {
      title,
      xLabel,
      yLabel: 'Correlation',
      xDomain: [-0.6, groups.length - 0.4],
      xTicks: groups.map((_, i) => i),
      xTickLabels: groups,
      legend: 'none',
    });
    groups.forEach((g, i) => {
      const vals = finite.filter((r) => key(r) === g);
      // a deterministic jitter keeps overlapping points apart
      ax.scatter(
        vals.map((_, j) => i + (((j * 7919) % 13) / 13 - 0.5) * 0.5),
        vals.map((r) => r.correlation),
        {
          color: SERIES_COLORS[i % SERIES_COLORS.length]!,
          radius: 3,
          opacity: 0.6,
          titles: vals.map((r) => `${r.session} neuron ${r.neuron}: ${r.correlation.toFixed(3)}`),
        },
      );
      const mean = vals.reduce((a, r) => a + r.correlation, 0) / vals.length;
      ax.line([i - 0.35, i + 0.35], [mean, mean], { color: '#000', width: 2.5 });
    });
    return ax;
  };
  if (hasTypes) strip(typeRect, (r) => r.cellType ?? '?', 'Correlation per cell type (bar: mean)', 'Cell type');
  strip(hasTypes ? sessRect : typeRect, (r) => r.session, 'Correlation per session (bar: mean)', 'Session');
  return fig.toSvg();
}

export interface TraceExample {
  label: string;
  session: string;
  neuron: number;
  correlation: number;
  predicted: Float32Array;
  recorded: Float32Array;
}

/** Predicted vs recorded (trial-averaged) test responses of a few neurons, one panel each. */
export function testTracesSvg(examples: readonly TraceExample[], frameRate: number, offsetFrames: number): string {
  const rowH = 190;
  const fig = new Figure({ width: 1180, height: examples.length * rowH + 10 });
  const rects = gridRects({ x: 0, y: 6, width: 1180, height: examples.length * rowH }, examples.length, 1, 6);
  examples.forEach((e, k) => {
    const t = Array.from(e.predicted, (_, i) => (i + offsetFrames) / frameRate);
    const ax = fig.axes(rects[k]!, {
      title: `${e.label}: ${e.session} neuron ${e.neuron} (correlation ${e.correlation.toFixed(3)})`,
      xLabel: k === examples.length - 1 ? 'Time in the test movie [s]' : '',
      yLabel: 'Response',
      legend: 'top-right',
    });
    ax.line(t, e.recorded, { color: '#444', label: 'recorded (trial average)', width: 1.2 });
    ax.line(t, e.predicted, { color: '#d62728', label: 'predicted', width: 1.4 });
  });
  return fig.toSvg();
}
