// The Redis side of a queued sweep: the BullMQ queue of trials, the study's state (spec and trials) in Redis hashes,
// and the connection's outage handling (a clear message, then the sweep goes on when Redis is back).
// BullMQ and ioredis (~300 CommonJS files) are imported when a queue is opened, not when the CLI starts: only
// `sweep --queue`, `sweep --status` and `worker` use them.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ConfigError } from '@openretina/contracts';
import type { CliIO } from '../commands.js';
import type { StudySpec, TrialRecord } from './study.js';
import type { TrialExecutor, TrialStore } from './study-driver.js';
import type { TrialJob } from './trial-args.js';
import type { TrialOutcome } from './trial-runner.js';

/** The queue every sweep's trials go onto (one queue; a job names its study). */
export const QUEUE_NAME = 'openretina-trials';
const PREFIX = 'openretina:sweep';
const studiesKey = `${PREFIX}s`;
const specKey = (study: string) => `${PREFIX}:${study}:spec`;
const trialsKey = (study: string) => `${PREFIX}:${study}:trials`;

/** The BullMQ job id of a trial (custom ids may not contain ':'). */
export function trialJobId(study: string, number: number): string {
  return `${study.replace(/[^\w.-]/g, '_')}--trial-${number}`;
}

/** A Redis connection to `url` (redis://HOST:PORT[/DB]) that waits through outages instead of failing commands. */
export async function connectRedis(url: string, io?: CliIO, what = 'the queue'): Promise<Redis> {
  if (!/^rediss?:\/\//.test(url)) throw new ConfigError(`--queue must be a Redis URL (redis://HOST:PORT), got "${url}".`);
  const { Redis: RedisClient } = await import('ioredis');
  const redis = new RedisClient(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
  let down = false;
  redis.on('error', (error: Error & { code?: string }) => {
    if (down) return;
    down = true;
    io?.err(
      `error: lost ${what} at ${url} (${error.code ?? error.message}); waiting for it to come back (the study's state is kept in Redis; \`openretina sweep --resume STUDY --queue ${url}\` continues it from any machine)`,
    );
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    io?.out(`${what} at ${url} is back; going on`);
    redis.emit('openretina:back');
  });
  return redis;
}

/** The trials' BullMQ queue on a connection from {@link connectRedis} (its errors are reported once by that). */
export async function openQueue(connection: Redis): Promise<Queue> {
  const { Queue: BullQueue } = await import('bullmq');
  const queue = new BullQueue(QUEUE_NAME, { connection });
  queue.on('error', () => {});
  return queue;
}

/** The study's state in Redis: its spec, and one hash field per trial (a trial number is recorded once). */
export function redisStore(
  redis: Redis,
  study: string,
): TrialStore & {
  saveSpec(spec: StudySpec): Promise<void>;
  all: () => TrialRecord[];
} {
  const known = new Map<number, TrialRecord>();
  // after an outage the server may have lost what it had: write back what this process knows
  redis.on('openretina:back', () => {
    for (const t of known.values()) void redis.hset(trialsKey(study), String(t.number), JSON.stringify(t));
  });
  return {
    async saveSpec(spec) {
      await redis.multi().set(specKey(study), JSON.stringify(spec)).sadd(studiesKey, study).exec();
    },
    async load() {
      const raw = await redis.hgetall(trialsKey(study));
      for (const v of Object.values(raw)) {
        const t = JSON.parse(v) as TrialRecord;
        known.set(t.number, t);
      }
      return [...known.values()];
    },
    async save(t) {
      known.set(t.number, t);
      await redis.hset(trialsKey(study), String(t.number), JSON.stringify(t));
    },
    all: () => [...known.values()],
  };
}

/** A study's spec as stored, or null. */
export async function loadSpec(redis: Redis, study: string): Promise<StudySpec | null> {
  const raw = await redis.get(specKey(study));
  return raw ? (JSON.parse(raw) as StudySpec) : null;
}

/** Every study on this Redis. */
export async function listStudies(redis: Redis): Promise<string[]> {
  return (await redis.smembers(studiesKey)).sort();
}

/** A study's trials as stored. */
export async function loadTrials(redis: Redis, study: string): Promise<TrialRecord[]> {
  const raw = await redis.hgetall(trialsKey(study));
  return Object.values(raw)
    .map((v) => JSON.parse(v) as TrialRecord)
    .sort((a, b) => a.number - b.number);
}

/** What a worker returns for a trial (the job's return value). */
export interface TrialResult extends TrialOutcome {
  worker: string;
}

/** Trials as jobs on the queue: added once (by job id), then polled until a worker finished them. */
export function queueExecutor(queue: Queue, spec: StudySpec, pollMs = 300): TrialExecutor {
  return {
    async run(job: TrialJob): Promise<TrialOutcome> {
      const id = trialJobId(spec.study, job.number);
      const add = () =>
        queue.add('trial', job, {
          jobId: id,
          attempts: spec.maxAttempts,
          backoff: { type: 'fixed', delay: 0 },
          removeOnComplete: false,
          removeOnFail: false,
        });
      if (!(await queue.getJob(id))) await add();
      for (;;) {
        const j = await queue.getJob(id);
        if (!j)
          await add(); // Redis came back without the job (no persistence): the trial runs again, once
        else {
          const state = await j.getState();
          // j was read before its state: a job that finished in between carries no result yet, so read it again
          // (a finished job's record is final)
          const done = state === 'completed' || state === 'failed' ? await queue.getJob(id) : undefined;
          const r = done?.returnvalue as TrialResult | null | undefined;
          if (state === 'completed' && r) return { state: r.state, value: r.value, ...(r.error ? { error: r.error } : {}) };
          if (state === 'failed' && done)
            return { state: 'fail', value: null, error: `${done.failedReason} (after ${done.attemptsMade} attempts)` };
        }
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },
  };
}
