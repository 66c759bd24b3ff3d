// What one trial runs: `openretina train` of the study's config with the trial's parameters, in its own folder.
import { ConfigError } from '@openretina/contracts';
import { overrideValue, type ParamValue } from './search-space.js';
import { trialDir, type StudySpec } from './study.js';

/** A trial's job: the study's training with these parameters into run_dir. */
export interface TrialJob {
  study: string;
  number: number;
  params: Record<string, ParamValue>;
  runDir: string;
  config: string;
  configDir?: string;
  overrides: string[];
  objective: string;
  backend?: string;
  engine?: string;
}

/** The job of trial `number` of a study. */
export function trialJob(spec: StudySpec, number: number, params: Record<string, ParamValue>): TrialJob {
  const runDir = trialDir(spec, number);
  return {
    study: spec.study,
    number,
    params,
    runDir,
    config: spec.config,
    ...(spec.configDir === undefined ? {} : { configDir: spec.configDir }),
    // the trial's folder is its run folder; its parameters come last so they win over the fixed overrides
    overrides: [
      ...spec.overrides,
      ...Object.entries(params).map(([k, v]) => `${k}=${overrideValue(v)}`),
      `paths.output_dir=${runDir}`,
      `hydra.run.dir=${runDir}`,
    ],
    objective: spec.objective,
    ...(spec.backend === undefined ? {} : { backend: spec.backend }),
    ...(spec.engine === undefined ? {} : { engine: spec.engine }),
  };
}

/** The objective of a finished run: `target` at the best epoch (metrics.json's `best`), else at the last epoch. */
export function objectiveFromMetrics(metrics: unknown, target: string): number | null {
  const m = metrics as { best?: { epoch: number } | null; history?: Record<string, unknown>[] };
  const history = m.history ?? [];
  const at = m.best ? history.find((h) => h.epoch === m.best!.epoch) : history[history.length - 1];
  if (!at) return null;
  if (!(target in at))
    throw new ConfigError(`The objective ${target} was not logged by the trial's training; logged: ${Object.keys(at).join(', ')}.`);
  const v = at[target];
  return typeof v === 'number' ? v : null;
}
