// Gathers what report.html shows beyond the metrics: test traces, filters, readout masks, MEIs of the best neurons.
import type { ComputeEngine } from '@openretina/contracts';
import {
  IncreaseObjective,
  SliceMeanReducer,
  coreWeights,
  layerWeightsSvg,
  meiPreset,
  readoutMasks,
  readoutMasksSvg,
  stimulusCompositionSvg,
} from '@openretina/insilico';
import type { CoreReadout } from '@openretina/models';
import type { ExperimentData } from './experiment-data.js';
import type { SplitEvaluation } from './evaluate-splits.js';
import { meiStart, runMei } from './mei-shared.js';
import type { ReportMei, ReportSplit } from './report.js';
import type { TraceExample } from './report-figures.js';

/** Best, median and worst neuron of a split by test correlation. */
function examples(e: SplitEvaluation): { label: string; session: string; neuron: number; correlation: number }[] {
  const rows = e.rows.filter((r) => Number.isFinite(r.corr_to_average)).sort((a, b) => b.corr_to_average - a.corr_to_average);
  if (rows.length === 0) return [];
  const pick = [
    ['Best', rows[0]!],
    ['Median', rows[Math.floor((rows.length - 1) / 2)]!],
    ['Worst', rows[rows.length - 1]!],
  ] as const;
  return pick.map(([label, r]) => ({ label, session: r.session, neuron: r.neuron_relative_idx, correlation: r.corr_to_average }));
}

/**
 * Predicted and recorded (trial-averaged) test traces of the best, median and worst neuron of each split, aligned as
 * the evaluation aligns them (the recorded response from frame `lag` on); the predictions are the evaluation's own.
 */
export function reportSplits(data: ExperimentData, evaluations: readonly SplitEvaluation[], frameRate: number): ReportSplit[] {
  const out: ReportSplit[] = [];
  for (const e of evaluations) {
    const traces: TraceExample[] = [];
    let offset: number | undefined; // the first trace's (every session of a split has the same lag)
    for (const p of examples(e)) {
      const c = e.collected[p.session];
      const avg = data.responses[p.session]?.test[e.split];
      if (!c || !avg) continue;
      const [frames, n] = c.predictions.shape;
      const lag = c.targets.shape[0] - frames;
      offset ??= lag;
      const N = avg.shape[1]!;
      const predicted = new Float32Array(frames);
      const recorded = new Float32Array(frames);
      for (let t = 0; t < frames; t++) {
        predicted[t] = c.predictions.data[t * n + p.neuron]!;
        recorded[t] = Number(avg.data[(lag + t) * N + p.neuron]);
      }
      traces.push({ ...p, predicted, recorded });
    }
    out.push({ split: e.split, rows: e.rows, metrics: e.metrics, traces, frameRate, traceOffsetFrames: offset ?? 0 });
  }
  return out;
}

/** The learned core filters and each session's readout masks as figures (masks labelled with the cell type when known). */
export async function reportWeights(
  model: CoreReadout,
  cellTypes: Readonly<Record<string, readonly unknown[] | undefined>>,
): Promise<{ layerFigures: { name: string; svg: string }[]; readoutFigures: { session: string; svg: string }[] }> {
  const layers = await coreWeights(model);
  const layerFigures = layers.map((l, i) => ({
    name: l.name,
    svg: layerWeightsSvg(l, i === 0 && model.stimulus.channels === 2 ? { inputNames: ['Green', 'UV'] } : {}),
  }));
  const readoutFigures: { session: string; svg: string }[] = [];
  for (const session of model.sessions) {
    const masks = await readoutMasks(model, session);
    const types = cellTypes[session];
    if (masks)
      readoutFigures.push({
        session,
        svg: readoutMasksSvg(masks, {
          title: `Readout masks: ${session}`,
          ...(types ? { labels: types.map((t) => `type ${String(t)}`) } : {}),
        }),
      });
  }
  return { layerFigures, readoutFigures };
}

/** MEIs (default preset) of the `count` neurons with the highest test correlation in the first split. */
export async function reportMeis(
  model: CoreReadout,
  evaluation: SplitEvaluation | undefined,
  count: number,
  engine: ComputeEngine | undefined,
): Promise<ReportMei[]> {
  if (!evaluation || count <= 0) return [];
  const settings = meiPreset('default');
  const best = evaluation.rows
    .filter((r) => Number.isFinite(r.corr_to_average) && model.sessions.includes(r.session))
    .sort((a, b) => b.corr_to_average - a.corr_to_average)
    .slice(0, count);
  const channels = model.stimulus.channels;
  const frames = Math.max(settings.frames, model.framesCut + settings.window.start + settings.window.length);
  const wasTraining = model.training;
  model.eval();
  const out: ReportMei[] = [];
  try {
    for (const [k, r] of best.entries()) {
      const reducer = new SliceMeanReducer({ axis: 0, ...settings.window });
      const objective = new IncreaseObjective(model, r.neuron_relative_idx, r.session, reducer);
      const x = meiStart(model.stimulusShape(frames), k, channels, settings);
      const run = await runMei(x, objective, settings, { channels, ...(engine ? { engine } : {}) });
      const first = model.framesCut + settings.window.start;
      out.push({
        session: r.session,
        neuron: r.neuron_relative_idx,
        correlation: r.corr_to_average,
        svg: stimulusCompositionSvg(run.video, {
          title: `${r.session} · neuron ${r.neuron_relative_idx}`,
          subtitle: `objective ${run.verdict.objectiveStart.toFixed(3)} → ${run.verdict.objectiveEnd.toFixed(3)} in ${run.result.iterations} steps, ${run.verdict.converged ? 'converged' : 'NOT converged'}`,
          highlight: [[first, first + settings.window.length - 1]],
        }),
        converged: run.verdict.converged,
        iterations: run.result.iterations,
        warnings: run.verdict.warnings,
      });
    }
  } finally {
    model.train(wasTraining);
  }
  return out;
}
