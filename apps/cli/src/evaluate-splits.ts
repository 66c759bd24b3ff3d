// Test evaluation of a model on every test split of an experiment (used by `train` after fitting and by `eval`).
import { join } from 'node:path';
import type { DataloaderDict } from '@openretina/data-io';
import type { ComputeEngine, TrainableModel } from '@openretina/contracts';
import {
  evaluateModel,
  formatEvaluationReport,
  type CollectedPredictions,
  loaderSplitSessions,
  type EvaluationSummary,
  type NeuronResult,
  type SessionSplitData,
  type SummaryOptions,
} from '@openretina/trainer';
import { writeCsvReport, writeJsonReport } from '@openretina/trainer/node';
import type { ExperimentData } from './readers/reader.js';

/** One split's evaluation. */
export interface SplitEvaluation {
  split: string;
  rows: NeuronResult[];
  summary: EvaluationSummary;
  /**
   * OpenRetina's test metric and friends: `correlation` = mean over all neurons of the per-neuron correlation over
   * the aligned frames of the whole test movie against the trial-averaged response.
   */
  metrics: Record<string, number>;
  perSession: Record<string, { correlation: number; n_neurons: number }>;
  /** Per session, the predictions and targets the metrics were computed from (report.html draws its traces from them). */
  collected: Record<string, CollectedPredictions>;
}

const mean = (xs: number[]): number => {
  const f = xs.filter((x) => Number.isFinite(x));
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN;
};

type SplitOptions = { varRatioCutoff?: number; modelPath?: string; expName?: string; splits?: readonly string[] };

/**
 * Evaluates the model on each test split (every session of the split), as `openretina eval` per split, with the
 * eval-mode responses from `engine.predict` (TF.js or ONNX Runtime); the metrics are the same functions of them.
 */
export async function evaluateTestSplits(
  model: TrainableModel,
  loaders: DataloaderDict,
  data: ExperimentData,
  engine: Pick<ComputeEngine, 'predict'>,
  options: SplitOptions = {},
): Promise<SplitEvaluation[]> {
  const out: SplitEvaluation[] = [];
  for (const [split, sessions] of splitSessions(loaders, data, options)) {
    out.push(splitEvaluation(split, sessions, await evaluateModel(model, sessions, summaryOptions(split, options), engine)));
  }
  return out;
}

/**
 * Evaluates the model on the training or the validation loaders (OpenRetina's `evaluation.data_split: train |
 * validation`): every clip's output against that clip's own targets (see `evaluateModel`).
 */
export async function evaluateLoaderSplit(
  model: TrainableModel,
  loaders: DataloaderDict,
  split: 'train' | 'validation',
  data: ExperimentData,
  engine: Pick<ComputeEngine, 'predict'>,
  options: SplitOptions = {},
): Promise<SplitEvaluation> {
  const kwargs = Object.fromEntries(Object.entries(data.responses).map(([s, r]) => [s, r.sessionKwargs ?? {}]));
  const sessions = loaderSplitSessions(loaders, split, kwargs);
  return splitEvaluation(split, sessions, await evaluateModel(model, sessions, summaryOptions(split, options), engine));
}

function summaryOptions(split: string, options: SplitOptions): SummaryOptions {
  return {
    dataSplit: split,
    ...(options.varRatioCutoff === undefined ? {} : { varRatioCutoff: options.varRatioCutoff }),
    ...(options.modelPath === undefined ? {} : { modelPath: options.modelPath }),
    ...(options.expName === undefined ? {} : { expName: options.expName }),
  };
}

function* splitSessions(
  loaders: DataloaderDict,
  data: ExperimentData,
  options: SplitOptions,
): Generator<[string, Record<string, SessionSplitData>]> {
  for (const split of options.splits ?? data.testNames) {
    const fold = loaders[split];
    if (!fold) continue;
    const sessions: Record<string, SessionSplitData> = {};
    for (const session of Object.keys(fold).sort()) {
      const r = data.responses[session]!;
      const avg = r.test[split]!;
      const byTrial = r.testByTrial?.[split];
      sessions[session] = {
        batches: fold[session]!,
        averageResponses: { data: avg.data, shape: [...avg.shape] },
        responsesByTrial: byTrial ? { data: byTrial.data, shape: [...byTrial.shape] } : undefined,
        sessionKwargs: r.sessionKwargs,
      };
    }
    yield [split, sessions];
  }
}

function splitEvaluation(
  split: string,
  sessions: Record<string, SessionSplitData>,
  { rows, summary, collected }: { rows: NeuronResult[]; summary: EvaluationSummary; collected: Record<string, CollectedPredictions> },
): SplitEvaluation {
  const perSession: SplitEvaluation['perSession'] = {};
  for (const s of Object.keys(sessions)) {
    const rs = rows.filter((r) => r.session === s);
    perSession[s] = { correlation: mean(rs.map((r) => r.corr_to_average)), n_neurons: rs.length };
  }
  const metrics: Record<string, number> = {
    correlation: mean(rows.map((r) => r.corr_to_average)),
    correlation_mean_of_sessions: mean(Object.values(perSession).map((p) => p.correlation)),
    poisson_loss: mean(rows.map((r) => r.poisson_loss_to_average)),
    mse: mean(rows.map((r) => r.mse_to_average)),
    feve: mean(rows.map((r) => r.feve)),
    jackknife_oracle: mean(rows.map((r) => r.jackknife)),
    n_neurons: rows.length,
    temporal_lag: summary.temporal_lag,
    corr_to_avg_mean_var_ratio_filtered: summary.corr_to_avg_mean,
    n_neurons_var_ratio_filtered: summary.n_neurons_filtered,
  };
  return { split, rows, summary, metrics, perSession, collected };
}

/** `metrics.json`'s `test` section. */
export function testSection(evaluations: readonly SplitEvaluation[]): Record<string, Record<string, unknown>> {
  return Object.fromEntries(evaluations.map((e) => [e.split, { ...e.metrics, per_session: e.perSession }]));
}

/** Writes per split `per_neuron_<split>.csv`, `evaluation_<split>.json` and `summary_<split>.txt` into `dir`. */
export function writeEvaluationFiles(dir: string, evaluations: readonly SplitEvaluation[]): string[] {
  const written: string[] = [];
  for (const e of evaluations) {
    const csv = join(dir, `per_neuron_${e.split}.csv`);
    writeCsvReport(csv, e.rows);
    const json = join(dir, `evaluation_${e.split}.json`);
    writeJsonReport(json, { summary: e.summary, metrics: e.metrics, per_session: e.perSession });
    written.push(csv, json);
  }
  return written;
}

/** The printed summary of every split (OpenRetina's eval report layout). */
export function formatSummaries(evaluations: readonly SplitEvaluation[]): string {
  return evaluations.map((e) => formatEvaluationReport(e.summary)).join('\n');
}
