// A study: what is searched (the spec) and its trials; the best trial; sweep.json.
import { join } from 'node:path';
import { writeJsonReport } from '@openretina/trainer/node';
import type { Observation, SamplerName } from './samplers.js';
import type { ParamValue, SearchSpace } from './search-space.js';

export type Direction = 'minimize' | 'maximize';
export type TrialState = 'running' | 'complete' | 'fail' | 'pruned';

/** Everything a sweep needs to run, resume and be run by workers (JSON; kept in Redis for a queued study). */
export interface StudySpec {
  study: string;
  direction: Direction;
  sampler: SamplerName;
  seed: number;
  nTrials: number;
  /** Trials run at once; trials are sampled in rounds of this many (so a study is reproducible for a given --jobs). */
  jobs: number;
  space: SearchSpace;
  /** The config (preset name or absolute file path) and its folder (`--config-path`), as `openretina train` takes them. */
  config: string;
  configDir?: string;
  /** Fixed overrides of every trial. */
  overrides: string[];
  /** The metric of the best epoch that is the objective. */
  objective: string;
  /** paths.output_dir of the sweep: trials go to <outputDir>/trial_<n>, sweep.json and sweep.html here. */
  outputDir: string;
  /** `--backend` / `--engine` of the trials. */
  backend?: string;
  engine?: string;
  /** BullMQ attempts of a trial's job (a worker's death is retried by the workers' --max-retries). */
  maxAttempts: number;
}

export interface TrialRecord {
  number: number;
  params: Record<string, ParamValue>;
  value: number | null;
  state: TrialState;
  run_dir: string;
  /** Why a failed trial failed. */
  error?: string;
}

/** The folder of trial `n`. */
export function trialDir(spec: StudySpec, n: number): string {
  return join(spec.outputDir, `trial_${n}`);
}

/** The finished trials as the samplers see them (value oriented so that smaller is better). */
export function observations(spec: StudySpec, trials: readonly TrialRecord[]): Observation[] {
  return trials
    .filter((t) => t.state === 'complete' && t.value !== null && Number.isFinite(t.value))
    .map((t) => ({ number: t.number, params: t.params, loss: spec.direction === 'maximize' ? -t.value! : t.value! }));
}

/** The best complete trial (ties: the earliest). */
export function bestTrial(spec: StudySpec, trials: readonly TrialRecord[]): TrialRecord | null {
  let best: TrialRecord | null = null;
  for (const t of [...trials].sort((a, b) => a.number - b.number)) {
    if (t.state !== 'complete' || t.value === null || !Number.isFinite(t.value)) continue;
    if (!best || (spec.direction === 'maximize' ? t.value > best.value! : t.value < best.value!)) best = t;
  }
  return best;
}

/** The content of sweep.json. */
export function sweepSummary(spec: StudySpec, trials: readonly TrialRecord[]) {
  const best = bestTrial(spec, trials);
  return {
    study: spec.study,
    direction: spec.direction,
    objective_target: spec.objective,
    sampler: spec.sampler,
    seed: spec.seed,
    n_trials: spec.nTrials,
    trials: [...trials]
      .sort((a, b) => a.number - b.number)
      .map((t) => ({
        number: t.number,
        params: t.params,
        value: t.value,
        state: t.state,
        run_dir: t.run_dir,
        ...(t.error ? { error: t.error } : {}),
      })),
    best: best ? { number: best.number, params: best.params, value: best.value, run_dir: best.run_dir } : null,
  };
}

/** Writes sweep.json atomically. */
export function writeSweepJson(spec: StudySpec, trials: readonly TrialRecord[]): string {
  const path = join(spec.outputDir, 'sweep.json');
  writeJsonReport(path, sweepSummary(spec, trials));
  return path;
}
