// The default executor: each trial is a forked process on this machine (at most --jobs at once, one per round slot).
import type { CliIO } from '../commands.js';
import type { TrialExecutor } from './study-driver.js';
import { runTrialProcess } from './trial-runner.js';
import type { TrialRecord } from './study.js';
import type { TrialStore } from './study-driver.js';

/** Trials as child processes of this one. */
export function localExecutor(io: CliIO, verbose = false): TrialExecutor {
  return {
    run: (job) =>
      runTrialProcess(job, (epoch, metrics) => {
        if (verbose) io.out(`trial ${job.number}: epoch ${epoch + 1} ${job.objective} ${metrics[job.objective] ?? '-'}`);
      }),
  };
}

/** A study kept in this process only. */
export function memoryStore(initial: TrialRecord[] = []): TrialStore {
  const trials = new Map(initial.map((t) => [t.number, t]));
  return {
    load: async () => [...trials.values()],
    save: async (t) => {
      trials.set(t.number, t);
    },
  };
}
