// The process of one trial (forked by a local sweep or a queue worker): trains, reports each epoch to its parent
// over IPC, and exits when its parent dies, so that a killed worker leaves no training behind to race its retry.
import { isOpenRetinaError } from '@openretina/contracts';
import type { EpochRecord } from '@openretina/trainer';
import { runTraining } from '../train-command.js';
import type { TrialJob } from './trial-args.js';

/** A message from the trial process to its parent. */
export type TrialMessage =
  | { type: 'epoch'; epoch: number; metrics: Record<string, number> }
  | { type: 'done'; runDir: string }
  | { type: 'error'; message: string };

const send = (m: TrialMessage) => new Promise<void>((done) => (process.send ? process.send(m, () => done()) : done()));

async function main(): Promise<void> {
  const parent = process.ppid;
  process.on('disconnect', () => process.exit(70));
  setInterval(() => {
    if (process.ppid !== parent) process.exit(70);
  }, 500).unref();
  const job = JSON.parse(process.env.OPENRETINA_TRIAL ?? 'null') as TrialJob | null;
  if (!job) throw new Error('OPENRETINA_TRIAL is not set: this entry point is started by openretina sweep / worker.');
  const lines: string[] = [];
  const quiet = { out: (l: string) => lines.push(l), err: (l: string) => process.stderr.write(`${l}\n`) };
  try {
    await runTraining(job.config, job.overrides, {
      ...(job.configDir === undefined ? {} : { configDir: job.configDir }),
      ...(job.backend === undefined ? {} : { backend: job.backend }),
      ...(job.engine === undefined ? {} : { engine: job.engine }),
      progress: 'none',
      reportMeis: 0,
      // the trial's folder belongs to the sweep: a retried trial (its worker died) starts it afresh
      overwrite: true,
      io: quiet,
      loggers: [{ log: (r: EpochRecord) => send({ type: 'epoch', epoch: r.epoch, metrics: r.metrics }) }],
    });
    await send({ type: 'done', runDir: job.runDir });
    process.exit(0);
  } catch (error) {
    const message = isOpenRetinaError(error)
      ? `[${error.code}] ${error.message}`
      : error instanceof Error
        ? (error.stack ?? error.message)
        : String(error);
    await send({ type: 'error', message });
    process.exit(1);
  }
}

void main();
