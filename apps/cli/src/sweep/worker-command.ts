// `openretina worker --queue redis://HOST:PORT`: takes trials off the queue and trains them, one at a time by
// default, each in its own process; a killed worker's trial goes back to the queue when its lock expires.
import { hostname } from 'node:os';
import type { Job } from 'bullmq';
import { ExitCode, defineCommand, type CliIO } from '../commands.js';
import { parseOptions, type OptionTable } from '../options/option-table.js';
import { intOption } from '../mei-shared.js';
import { QUEUE_NAME, connectRedis, type TrialResult } from './redis-queue.js';
import type { TrialJob } from './trial-args.js';
import { runTrialProcess } from './trial-runner.js';

/** The options of `openretina worker` (its parser and --help are generated from them). */
const workerOptions: OptionTable = {
  queue: { type: 'string', placeholder: 'redis://HOST:PORT', description: 'the Redis queue that `openretina sweep --queue` fills' },
  concurrency: { type: 'string', placeholder: 'N', description: 'trials at once, each in its own process (default 1)' },
  'stall-seconds': {
    type: 'string',
    placeholder: 'S',
    description: "how long a trial's lock lives without renewal: then another worker takes a dead worker's trial (default 30)",
  },
  'max-retries': { type: 'string', placeholder: 'N', description: 'how often a trial whose worker died is run again (default 2)' },
  'max-trials': { type: 'string', placeholder: 'N', description: 'stop after N trials (default: run until stopped)' },
};

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  queue: string;
  /** Trials at once (default 1). */
  concurrency?: number;
  /** How long a trial's lock lives without renewal: after that a dead worker's trial is taken by another (default 30). */
  stallSeconds?: number;
  /** How often a trial whose worker died is run again by another worker (default 2: three tries in all). */
  maxRetries?: number;
  /** Stop after this many trials (default: run until stopped). */
  maxTrials?: number;
  io: CliIO;
  /** Resolves when the worker should stop (default: SIGINT/SIGTERM). */
  stop?: Promise<void>;
}

/** Runs a worker until stopped; returns how many trials it finished. */
export async function runWorker(options: WorkerOptions): Promise<number> {
  const { io } = options;
  const name = `${hostname()}:${process.pid}`;
  const connection = await connectRedis(options.queue, io);
  const { Worker } = await import('bullmq'); // loaded on use, as in redis-queue.ts
  const stallMs = (options.stallSeconds ?? 30) * 1000;
  let finished = 0;
  let stopNow: () => void = () => {};
  const limitReached = new Promise<void>((r) => {
    stopNow = r;
  });
  const worker = new Worker<TrialJob, TrialResult>(
    QUEUE_NAME,
    async (job: Job<TrialJob, TrialResult>) => {
      const t = job.data;
      io.out(`${name}: trial ${t.number} of ${t.study} (attempt ${job.attemptsMade + 1}) → ${t.runDir}`);
      await job.updateProgress({ worker: name, epoch: null });
      const outcome = await runTrialProcess(t, (epoch, metrics) => {
        io.out(`${name}: trial ${t.number} epoch ${epoch + 1}: ${t.objective} ${metrics[t.objective] ?? '-'}`);
        void job.updateProgress({ worker: name, epoch: epoch + 1, [t.objective]: metrics[t.objective] ?? null }).catch(() => {});
      });
      io.out(`${name}: trial ${t.number} ${outcome.state}${outcome.value === null ? '' : `: ${t.objective} = ${outcome.value}`}`);
      finished++;
      if (options.maxTrials !== undefined && finished >= options.maxTrials) stopNow();
      return { ...outcome, worker: name };
    },
    {
      connection,
      concurrency: options.concurrency ?? 1,
      lockDuration: stallMs,
      stalledInterval: Math.max(1000, Math.floor(stallMs / 2)),
      // a trial whose worker died goes back to the queue, at most this often; then it fails
      maxStalledCount: options.maxRetries ?? 2,
      autorun: true,
    },
  );
  worker.on('error', () => {}); // connection errors are reported once by connectRedis
  io.out(`worker ${name} waiting for trials on ${options.queue}`);
  const signals = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await Promise.race([options.stop ?? signals, limitReached]);
  await worker.close();
  connection.disconnect();
  io.out(`worker ${name} stopped after ${finished} trials`);
  return finished;
}

export const workerCommand = defineCommand({
  name: 'worker',
  summary: 'Take sweep trials off a Redis queue and train them (run any number, on any machines that see the data)',
  synopsis: ['openretina worker --queue redis://HOST:PORT [options]'],
  options: workerOptions,
  notes: [
    'Trains the trials that `openretina sweep --queue URL` puts on the queue, each as `openretina train` in its own process;',
    'a worker that dies mid-trial loses its lock after --stall-seconds and another worker retries the trial (--max-retries times).',
  ],
  async run(argv: string[], io: CliIO): Promise<number> {
    const values = parseOptions(workerOptions, argv, { warn: (line) => io.err(line) }).values as Record<string, string | undefined>;
    if (!values.queue) {
      io.err(`--queue is required.\nUsage: ${workerCommand.usage}`);
      return ExitCode.usage;
    }
    await runWorker({
      queue: values.queue,
      ...(values.concurrency === undefined ? {} : { concurrency: intOption(values.concurrency, 'concurrency', 1) }),
      ...(values['stall-seconds'] === undefined ? {} : { stallSeconds: intOption(values['stall-seconds'], 'stall-seconds', 1) }),
      ...(values['max-trials'] === undefined ? {} : { maxTrials: intOption(values['max-trials'], 'max-trials', 1) }),
      ...(values['max-retries'] === undefined ? {} : { maxRetries: intOption(values['max-retries'], 'max-retries', 0) }),
      io,
    });
    return ExitCode.ok;
  },
});
