// Runs a study: samples trials in rounds of `jobs` (each round from the trials finished before it, so the study is
// the same whatever order trials finish in, on one machine or on a queue, and after a restart), hands each trial to
// an executor, records its outcome once, and rewrites sweep.json / sweep.html as trials finish.
import type { CliIO } from '../commands.js';
import { sampleParams } from './samplers.js';
import { observations, trialDir, type StudySpec, type TrialRecord } from './study.js';
import { trialJob, type TrialJob } from './trial-args.js';
import type { TrialOutcome } from './trial-runner.js';

/** Runs trials: forked processes on this machine, or jobs on a queue. */
export interface TrialExecutor {
  run(job: TrialJob): Promise<TrialOutcome>;
}

/** Where a study's trials are kept (in memory for a local sweep, in Redis for a queued one). */
export interface TrialStore {
  load(): Promise<TrialRecord[]>;
  save(trial: TrialRecord): Promise<void>;
}

/** What to do when a trial changed (write sweep.json and sweep.html). */
export type StudyListener = (trials: readonly TrialRecord[]) => void | Promise<void>;

/** The training seed of a trial: the config's, or one derived from the study's when the config has none (0 = unseeded in TF.js). */
export function trialSeedOverride(configSeed: number | null | undefined, spec: StudySpec, number: number): string[] {
  if (configSeed !== null && configSeed !== undefined && configSeed !== 0) return [];
  return [`seed=${(Math.abs(spec.seed) % 100_000) * 1000 + number + 1}`];
}

/** Runs the study to n_trials; returns every trial. */
export async function driveStudy(
  spec: StudySpec,
  executor: TrialExecutor,
  store: TrialStore,
  io: CliIO,
  options: { configSeed?: number | null; onChange?: StudyListener } = {},
): Promise<TrialRecord[]> {
  const trials = new Map<number, TrialRecord>((await store.load()).map((t) => [t.number, t]));
  const all = () => [...trials.values()].sort((a, b) => a.number - b.number);
  const jobOf = (t: TrialRecord): TrialJob => {
    const job = trialJob(spec, t.number, t.params);
    return { ...job, overrides: [...trialSeedOverride(options.configSeed, spec, t.number), ...job.overrides] };
  };
  const runOne = async (t: TrialRecord): Promise<void> => {
    const outcome = await executor.run(jobOf(t));
    const done: TrialRecord = {
      ...t,
      state: outcome.state,
      value: outcome.value,
      ...(outcome.error ? { error: outcome.error } : {}),
    };
    trials.set(t.number, done);
    await store.save(done);
    io.out(
      outcome.state === 'complete'
        ? `trial ${t.number}: ${spec.objective} = ${outcome.value}`
        : `trial ${t.number} failed: ${outcome.error ?? 'unknown error'}`,
    );
    await options.onChange?.(all());
  };

  // trials a previous sweep process started: wait for them (their jobs are still on the queue)
  const unfinished = all().filter((t) => t.state === 'running');
  if (unfinished.length) io.out(`resuming: waiting for trials ${unfinished.map((t) => t.number).join(', ')}`);
  await Promise.all(unfinished.map(runOne));

  while (trials.size < spec.nTrials) {
    const start = trials.size;
    const roundStart = start - (start % spec.jobs);
    const count = Math.min(spec.jobs - (start - roundStart), spec.nTrials - start);
    // a round samples from the trials of earlier rounds only
    const seen = observations(
      spec,
      all().filter((t) => t.number < roundStart),
    );
    const round: TrialRecord[] = [];
    for (let n = start; n < start + count; n++) {
      const params = sampleParams(spec.sampler, spec.space, spec.seed, n, seen);
      const t: TrialRecord = { number: n, params, value: null, state: 'running', run_dir: trialDir(spec, n) };
      trials.set(n, t);
      await store.save(t);
      round.push(t);
      io.out(
        `trial ${n}: ${Object.entries(params)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(' ')}`,
      );
    }
    await options.onChange?.(all());
    await Promise.all(round.map(runOne));
  }
  return all();
}
