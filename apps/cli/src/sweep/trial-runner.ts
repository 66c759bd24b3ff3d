// Runs one trial in a child process (dist/trial-process.js) and reads its objective from the run's metrics.json.
import { fork } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { objectiveFromMetrics, type TrialJob } from './trial-args.js';
import type { TrialMessage } from './trial-process.js';

/** How a trial ended. */
export interface TrialOutcome {
  state: 'complete' | 'fail';
  value: number | null;
  error?: string;
}

/** The built trial entry point (dist/trial-process.js), from the built CLI or from its sources (tests). */
export function trialEntry(): string {
  const here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
  for (const candidate of [join(here, '..', 'trial-process.js'), join(here, '..', '..', '..', 'dist', 'trial-process.js')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`The trial entry point trial-process.js was not found next to ${here}; build @openretina/cli.`);
}

/** Trains one trial in its own process; `onEpoch` gets each epoch's metrics. The run folder is emptied first. */
export function runTrialProcess(
  job: TrialJob,
  onEpoch: (epoch: number, metrics: Record<string, number>) => void = () => {},
): Promise<TrialOutcome> {
  rmSync(job.runDir, { recursive: true, force: true }); // a retried trial starts from nothing
  return new Promise((resolve) => {
    let error: string | undefined;
    const child = fork(trialEntry(), [], {
      env: { ...process.env, OPENRETINA_TRIAL: JSON.stringify(job) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on('message', (m: TrialMessage) => {
      if (m.type === 'epoch') onEpoch(m.epoch, m.metrics);
      else if (m.type === 'error') error = m.message;
    });
    child.on('exit', (code, signal) => {
      if (code !== 0) {
        resolve({ state: 'fail', value: null, error: error ?? `the trial process exited with ${signal ?? code}: ${stderr.trim()}` });
        return;
      }
      try {
        const metrics = JSON.parse(readFileSync(join(job.runDir, 'metrics.json'), 'utf8'));
        resolve({ state: 'complete', value: objectiveFromMetrics(metrics, job.objective) });
      } catch (e) {
        resolve({ state: 'fail', value: null, error: e instanceof Error ? e.message : String(e) });
      }
    });
  });
}
