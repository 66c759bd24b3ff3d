import { ShapeError, formatShape } from '@openretina/contracts';
import { correlation, explainableVsTotalVar, feve, mse, nanmean, nanstd, oracleCorrJackknife, type NDArray } from './metrics.js';

/** OpenRetina's `evaluation.var_ratio_cutoff` default. */
export const VAR_RATIO_CUTOFF = 0.15;

/** One session's data for {@link evaluateSession} (OpenRetina's `cli/eval.py` per-session step). */
export interface SessionEvaluationInput {
  session: string;
  /** Model output over the split, batches flattened and concatenated: `[T_out, N]`. */
  predictions: NDArray;
  /** The loader's targets, flattened and concatenated the same way: `[T, N]` (T ≥ T_out). */
  targets: NDArray;
  /** The trial-averaged responses of the split: `[T_full, N]`. */
  averageResponses: NDArray;
  /** Responses by trial, `[trials, T_full, N]` (as stored); none → the per-trial and variance metrics are NaN. */
  responsesByTrial?: NDArray | undefined;
  /** Per-neuron metadata (arrays of length N become columns, anything else is repeated). */
  sessionKwargs?: Readonly<Record<string, unknown>> | undefined;
  /** The split name written into each row (default "test"). */
  dataSplit?: string;
}

/** One neuron's row of the per-neuron results (OpenRetina's column names). */
export type NeuronResult = Record<string, string | number | boolean | null> & {
  session: string;
  neuron_relative_idx: number;
  data_split: string;
  poisson_loss_to_average: number;
  corr_to_average: number;
  mse_to_average: number;
  feve: number;
  jackknife: number;
  var_ratio: number;
};

/** What {@link evaluateSession} returns. */
export interface SessionEvaluation {
  rows: NeuronResult[];
  /** Frames between the loader's targets and the model output. */
  lag: number;
  nTrials: number;
}

/**
 * Per-neuron evaluation of one session, as OpenRetina's `openretina eval`: aligns the responses to the model output
 * (lag = target length − output length), then per neuron the Poisson loss (model vs the loader's targets, bias
 * 1e-16, mean over frames), correlation and MSE to the average response, FEVe, the jackknife oracle, the explainable
 * variance ratio, and the correlation/MSE to each trial.
 */
export function evaluateSession(input: SessionEvaluationInput): SessionEvaluation {
  const { predictions: pred, targets, averageResponses: avg } = input;
  for (const [a, what] of [
    [pred, 'predictions'],
    [targets, 'targets'],
    [avg, 'averageResponses'],
  ] as const) {
    if (a.shape.length !== 2)
      throw new ShapeError(`evaluateSession(${input.session}): ${what} must be [frames, neurons], got ${formatShape(a.shape)}.`);
  }
  const [tOut, N] = pred.shape as [number, number];
  const lag = targets.shape[0]! - tOut;
  if (lag < 0)
    throw new ShapeError(
      `evaluateSession(${input.session}): negative lag, targets have ${targets.shape[0]} frames, the model output ${tOut}.`,
    );
  if (targets.shape[1] !== N || avg.shape[1] !== N) {
    throw new ShapeError(
      `evaluateSession(${input.session}): neuron counts differ: predictions ${N}, targets ${targets.shape[1]}, average responses ${avg.shape[1]}.`,
    );
  }
  if (avg.shape[0]! < lag + tOut) {
    throw new ShapeError(
      `evaluateSession(${input.session}): the average responses have ${avg.shape[0]} frames, the aligned window needs ${lag + tOut}.`,
    );
  }
  // Poisson (per neuron) on the loader's targets, as PoissonLoss3d(per_neuron=True) on the concatenation.
  const poisson = new Float64Array(N);
  for (let t = 0; t < tOut; t++) {
    for (let n = 0; n < N; n++) {
      const o = pred.data[t * N + n]!;
      poisson[n] = poisson[n]! + o - targets.data[(lag + t) * N + n]! * Math.log(o + 1e-16);
    }
  }
  for (let n = 0; n < N; n++) poisson[n]! /= tOut;
  const avgAligned = {
    data: Float64Array.from(Array.prototype.slice.call(avg.data, lag * N, (lag + tOut) * N) as number[]),
    shape: [tOut, N],
  };
  // By trial: [trials, T, N] → aligned (T_out, trials, N).
  let byTrial: { data: Float64Array; shape: [number, number, number] };
  if (input.responsesByTrial) {
    const bt = input.responsesByTrial;
    if (bt.shape.length !== 3 || bt.shape[2] !== N || bt.shape[1]! < lag + tOut) {
      throw new ShapeError(
        `evaluateSession(${input.session}): responses by trial must be [trials, ≥${lag + tOut}, ${N}], got ${formatShape(bt.shape)}.`,
      );
    }
    const [R, T] = bt.shape as [number, number, number];
    const d = new Float64Array(tOut * R * N);
    for (let t = 0; t < tOut; t++)
      for (let r = 0; r < R; r++) for (let n = 0; n < N; n++) d[(t * R + r) * N + n] = bt.data[(r * T + lag + t) * N + n]!;
    byTrial = { data: d, shape: [tOut, R, N] };
  } else {
    byTrial = { data: avgAligned.data, shape: [tOut, 1, N] };
  }
  const corrAvg = correlation(avgAligned, pred, 0).data;
  const mseAvg = mse(avgAligned, pred, 0).data;
  const nTrials = byTrial.shape[1];
  let feveV: Float64Array = new Float64Array(N).fill(NaN);
  let jack: Float64Array = new Float64Array(N).fill(NaN);
  let varRatio: Float64Array = new Float64Array(N).fill(NaN);
  if (nTrials > 1) {
    feveV = feve(byTrial, pred);
    jack = oracleCorrJackknife(byTrial, null).score;
    varRatio = explainableVsTotalVar(byTrial).varRatio;
  }
  const corrI: Float64Array[] = [];
  const mseI: Float64Array[] = [];
  for (let r = 0; r < nTrials; r++) {
    const d = new Float64Array(tOut * N);
    for (let t = 0; t < tOut; t++) for (let n = 0; n < N; n++) d[t * N + n] = byTrial.data[(t * nTrials + r) * N + n]!;
    corrI.push(correlation({ data: d, shape: [tOut, N] }, pred, 0).data);
    mseI.push(mse({ data: d, shape: [tOut, N] }, pred, 0).data);
  }
  const perNeuron: Record<string, readonly unknown[]> = {};
  const scalars: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input.sessionKwargs ?? {})) {
    const arr = Array.isArray(v) ? v : ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : undefined;
    if (arr && arr.length === N) perNeuron[k] = arr;
    else scalars[k] = v;
  }
  const rows: NeuronResult[] = [];
  for (let n = 0; n < N; n++) {
    const row: NeuronResult = {
      session: input.session,
      neuron_relative_idx: n,
      data_split: input.dataSplit ?? 'test',
      poisson_loss_to_average: poisson[n]!,
      corr_to_average: corrAvg[n]!,
      mse_to_average: mseAvg[n]!,
      feve: feveV[n]!,
      jackknife: jack[n]!,
      var_ratio: varRatio[n]!,
    };
    for (let r = 0; r < nTrials; r++) {
      row[`corr_${r}`] = corrI[r]![n]!;
      row[`mse_${r}`] = mseI[r]![n]!;
    }
    for (const [k, arr] of Object.entries(perNeuron)) row[k] = cell(arr[n]);
    for (const [k, v] of Object.entries(scalars)) row[k] = cell(v);
    rows.push(row);
  }
  return { rows, lag, nTrials };
}

function cell(v: unknown): string | number | boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return Number(v);
  return JSON.stringify(v);
}

/** OpenRetina's `EvaluationSummary` (without the dataset statistics): means over the neurons kept by the cutoff. */
export interface EvaluationSummary {
  model_path: string;
  model_tag: string;
  exp_name: string;
  species: string | null;
  data_split: string;
  temporal_lag: number;
  n_test_repeats_min: number;
  n_test_repeats_max: number;
  n_test_repeats_avg: number;
  n_neurons_total: number;
  n_neurons_filtered: number;
  var_ratio_cutoff: number;
  filtering_applied: boolean;
  corr_to_avg_mean: number;
  corr_by_trial_mean: number;
  corr_by_trial_std: number;
  mse_to_avg_mean: number;
  mse_by_trial_mean: number;
  mse_by_trial_std: number;
  feve_mean: number;
  fev_mean: number;
  poisson_loss_mean: number;
  jackknife_mean: number;
}

/** Options of {@link summarizeEvaluation}. */
export interface SummaryOptions {
  varRatioCutoff?: number;
  modelPath?: string;
  modelTag?: string;
  expName?: string;
  species?: string | null;
  dataSplit?: string;
  temporalLag?: number;
  nTrialsPerSession?: readonly number[];
}

/**
 * Keeps the neurons with `var_ratio ≥ cutoff` (all of them when no neuron has a variance ratio) and averages the
 * metrics (NaN-ignoring means, as OpenRetina).
 */
export function summarizeEvaluation(
  rows: readonly NeuronResult[],
  options: SummaryOptions = {},
): { summary: EvaluationSummary; kept: NeuronResult[] } {
  const cutoff = options.varRatioCutoff ?? VAR_RATIO_CUTOFF;
  const withRatio = rows.filter((r) => !Number.isNaN(r.var_ratio));
  const filteringApplied = withRatio.length > 0;
  const kept = filteringApplied ? withRatio.filter((r) => r.var_ratio >= cutoff) : [...rows];
  const col = (k: string): number[] => kept.map((r) => (typeof r[k] === 'number' ? (r[k] as number) : NaN));
  const corrTrial: number[] = [];
  const mseTrial: number[] = [];
  for (let i = 0; kept.length > 0 && `corr_${i}` in kept[0]!; i++) {
    corrTrial.push(nanmean(col(`corr_${i}`)));
    mseTrial.push(nanmean(col(`mse_${i}`)));
  }
  const trials = options.nTrialsPerSession ?? [];
  const summary: EvaluationSummary = {
    model_path: options.modelPath ?? '',
    model_tag: options.modelTag ?? options.modelPath ?? '',
    exp_name: options.expName ?? 'unknown',
    species: options.species ?? null,
    data_split: options.dataSplit ?? 'test',
    temporal_lag: options.temporalLag ?? -1,
    n_test_repeats_min: trials.length ? Math.min(...trials) : 0,
    n_test_repeats_max: trials.length ? Math.max(...trials) : 0,
    n_test_repeats_avg: trials.length ? trials.reduce((a, b) => a + b, 0) / trials.length : 0,
    n_neurons_total: rows.length,
    n_neurons_filtered: kept.length,
    var_ratio_cutoff: cutoff,
    filtering_applied: filteringApplied,
    corr_to_avg_mean: nanmean(col('corr_to_average')),
    corr_by_trial_mean: corrTrial.length ? nanmean(corrTrial) : NaN,
    corr_by_trial_std: corrTrial.length ? nanstd(corrTrial) : NaN,
    mse_to_avg_mean: nanmean(col('mse_to_average')),
    mse_by_trial_mean: mseTrial.length ? nanmean(mseTrial) : NaN,
    mse_by_trial_std: mseTrial.length ? nanstd(mseTrial) : NaN,
    feve_mean: nanmean(col('feve')),
    fev_mean: nanmean(col('var_ratio')),
    poisson_loss_mean: nanmean(col('poisson_loss_to_average')),
    jackknife_mean: nanmean(col('jackknife')),
  };
  return { summary, kept };
}

/** A plain-text report like OpenRetina's `EvaluationSummary.print_report`. */
export function formatEvaluationReport(s: EvaluationSummary): string {
  const line = '-'.repeat(80);
  const f = (x: number): string => (Number.isNaN(x) ? 'nan' : x.toFixed(3));
  const out = [
    '='.repeat(80),
    'Model Evaluation Results',
    '='.repeat(80),
    `Model path: ${s.model_path}`,
    `Data split: ${s.data_split}`,
    `Temporal lag: ${s.temporal_lag}`,
    line,
  ];
  out.push(`Total neurons: ${s.n_neurons_total}`);
  if (s.filtering_applied) {
    out.push(`Variance ratio cutoff: ${s.var_ratio_cutoff}`);
    out.push(`Neurons above var_ratio threshold (>=${s.var_ratio_cutoff}): ${s.n_neurons_filtered}`);
    const ex = s.n_neurons_total - s.n_neurons_filtered;
    out.push(`Neurons excluded: ${ex} (${((ex / Math.max(s.n_neurons_total, 1)) * 100).toFixed(1)}%)`);
  } else {
    out.push(`Variance ratio cutoff: ${s.var_ratio_cutoff} (NOT APPLIED - no trial/repeats data available)`);
  }
  out.push(line, '', 'Trial/repeats-averaged metrics:', line);
  for (const [name, v] of [
    ['Correlation', s.corr_to_avg_mean],
    ['MSE', s.mse_to_avg_mean],
    ['FEVe', s.feve_mean],
    ['FEV (expl. var ratio)', s.fev_mean],
    ['Poisson loss', s.poisson_loss_mean],
  ] as const) {
    out.push(`  ${name.padEnd(30)}: ${f(v)}`);
  }
  out.push('', 'Per-trial metrics:', line);
  if (!Number.isNaN(s.corr_by_trial_mean))
    out.push(`  ${'Correlation'.padEnd(30)}: ${f(s.corr_by_trial_mean)} (+/-${f(s.corr_by_trial_std)})`);
  if (!Number.isNaN(s.mse_by_trial_mean)) out.push(`  ${'MSE'.padEnd(30)}: ${f(s.mse_by_trial_mean)} (+/-${f(s.mse_by_trial_std)})`);
  out.push('='.repeat(80));
  return out.join('\n');
}

/** Per-neuron rows as CSV text (OpenRetina writes `df.to_csv`: an unnamed index column first). NaN → empty cell. */
export function toCsv(rows: readonly Record<string, unknown>[], options: { index?: boolean } = {}): string {
  const index = options.index ?? true;
  const columns: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  const esc = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    if (typeof v === 'number') return Number.isNaN(v) ? '' : String(v);
    const s = typeof v === 'string' ? v : typeof v === 'boolean' ? (v ? 'True' : 'False') : JSON.stringify(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [(index ? [''] : []).concat(columns.map(esc)).join(',')];
  rows.forEach((r, i) => lines.push((index ? [String(i)] : []).concat(columns.map((c) => esc(r[c]))).join(',')));
  return `${lines.join('\n')}\n`;
}

/** JSON text where NaN and ±Infinity become null (strict JSON; Python writes NaN literals). */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}
