// `openretina sweep`: a hyper-parameter search whose trials are ordinary training runs, as local processes
// (--jobs) or as jobs on a Redis queue (--queue) taken by `openretina worker`s on any machines.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@openretina/contracts';
import { ExitCode, defineCommand, type CliIO } from '../commands.js';
import { backendOption, configOptions, engineOption } from '../options/common-options.js';
import { parseOptions, type OptionTable } from '../options/option-table.js';
import { intOption } from '../mei-shared.js';
import { UsageError } from '../errors.js';
import { configSource } from '../train-command.js';
import { cliVersion } from '../version.js';
import { kubernetesJob, shellQuote, slurmScript } from './cluster-templates.js';
import { localExecutor, memoryStore } from './local-executor.js';
import { connectRedis, listStudies, loadSpec, loadTrials, openQueue, queueExecutor, redisStore, trialJobId } from './redis-queue.js';
import { describeDistribution } from './search-space.js';
import { planStudy, type SweepRequest } from './sweep-spec.js';
import { writeSweepHtml } from './sweep-html.js';
import { driveStudy } from './study-driver.js';
import { bestTrial, writeSweepJson, type StudySpec, type TrialRecord } from './study.js';

/** The options of `openretina sweep` (its parser and --help are generated from them). */
const sweepOptions: OptionTable = {
  ...configOptions,
  output: {
    type: 'string',
    placeholder: 'DIR',
    description: "the study's folder: sweep.json, sweep.html and trial_<n>/ (the same as paths.output_dir=DIR)",
  },
  trials: { type: 'string', placeholder: 'N', description: 'trials in the study (default hydra.sweeper.n_trials)' },
  sampler: {
    type: 'string',
    placeholder: 'S',
    choices: ['tpe', 'random', 'grid'],
    description: "how trials are sampled (default the config's sampler, else tpe)",
  },
  seed: { type: 'string', placeholder: 'N', description: "the sampler's seed (default hydra.sweeper.sampler.seed)" },
  jobs: { type: 'string', placeholder: 'J', description: 'trials sampled per round (and run at once without --queue)' },
  direction: {
    type: 'string',
    placeholder: 'D',
    choices: ['minimize', 'maximize'],
    description: "whether the objective is minimised or maximised (default the config's)",
  },
  study: { type: 'string', placeholder: 'NAME', description: 'the study name (default hydra.sweeper.study_name)' },
  queue: {
    type: 'string',
    placeholder: 'redis://HOST:PORT',
    description: 'put the trials on this Redis queue for `openretina worker`s (default: processes here)',
  },
  resume: { type: 'string', placeholder: 'STUDY', description: 'continue a study kept in Redis (with --queue)' },
  status: { type: 'boolean', default: false, description: 'show the studies, trials and workers of --queue' },
  'print-slurm': {
    type: 'boolean',
    default: false,
    description: "print a SLURM array script of the study's workers (--jobs of them, on --queue) and exit",
  },
  'print-k8s': {
    type: 'boolean',
    default: false,
    description: "print a Kubernetes Job manifest of the study's workers (--jobs of them, on --queue) and exit",
  },
  backend: { ...backendOption, description: `each trial's ${backendOption.description}` },
  engine: { ...engineOption, description: `each trial's ${engineOption.description}` },
};

/** What {@link runSweep} returns. */
export interface SweepResult {
  spec: StudySpec;
  trials: TrialRecord[];
  best: TrialRecord | null;
}

/** Options of {@link runSweep} beyond the study. */
export interface RunSweepOptions {
  /** redis://HOST:PORT: trials go onto this queue (workers run them); default: local processes. */
  queue?: string;
  io: CliIO;
}

function writeResults(spec: StudySpec, trials: readonly TrialRecord[]): void {
  mkdirSync(spec.outputDir, { recursive: true });
  writeSweepJson(spec, trials);
  const best = bestTrial(spec, trials);
  const configYaml = best && existsSync(join(best.run_dir, 'config.yaml')) ? readFileSync(join(best.run_dir, 'config.yaml'), 'utf8') : null;
  writeSweepHtml(spec, trials, configYaml);
}

function header(spec: StudySpec, io: CliIO, where: string): void {
  io.out(
    `sweep ${spec.study}: ${spec.nTrials} trials, sampler ${spec.sampler} (seed ${spec.seed}), ${spec.direction} ${spec.objective}, ${spec.jobs} at a time ${where} → ${spec.outputDir}`,
  );
  for (const [k, d] of Object.entries(spec.space)) io.out(`  ${k}: ${describeDistribution(d)}`);
}

async function finish(spec: StudySpec, trials: TrialRecord[], io: CliIO): Promise<SweepResult> {
  writeResults(spec, trials);
  const best = bestTrial(spec, trials);
  io.out(
    best
      ? `best: trial ${best.number}, ${spec.objective} = ${best.value} (${Object.entries(best.params)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(' ')}) in ${best.run_dir}`
      : 'no trial finished',
  );
  io.out(`sweep written to ${join(spec.outputDir, 'sweep.json')} and sweep.html`);
  return { spec, trials, best };
}

/** Runs a study (new, or resumed with `resume` on a queue). */
export async function runSweep(request: SweepRequest | { resume: string }, options: RunSweepOptions): Promise<SweepResult> {
  const { io } = options;
  if (!options.queue) {
    if ('resume' in request)
      throw new ConfigError('--resume needs --queue: a study is kept in Redis (a local sweep lives in its own process).');
    const { spec, configSeed } = planStudy(request);
    header(spec, io, 'on this machine');
    mkdirSync(spec.outputDir, { recursive: true });
    const trials = await driveStudy(spec, localExecutor(io), memoryStore(), io, {
      configSeed,
      onChange: (t) => writeResults(spec, t),
    });
    return finish(spec, trials, io);
  }
  const redis = await connectRedis(options.queue, io);
  const queue = await openQueue(redis);
  try {
    let spec: StudySpec;
    let configSeed: number | null;
    if ('resume' in request) {
      const stored = await loadSpec(redis, request.resume);
      if (!stored) {
        const known = await listStudies(redis);
        throw new ConfigError(`No study "${request.resume}" on ${options.queue}; studies there: ${known.join(', ') || 'none'}.`);
      }
      spec = stored;
      configSeed = (stored as StudySpec & { configSeed?: number | null }).configSeed ?? null;
      io.out(`resuming study ${spec.study} from ${options.queue}`);
    } else {
      const planned = planStudy(request);
      spec = planned.spec;
      configSeed = planned.configSeed;
      if (await loadSpec(redis, spec.study))
        throw new ConfigError(
          `A study "${spec.study}" is already on ${options.queue}: continue it with --resume ${spec.study}, or name a new one with --study NAME.`,
        );
    }
    const store = redisStore(redis, spec.study);
    await store.saveSpec({ ...spec, configSeed } as StudySpec);
    header(spec, io, `on the queue ${options.queue}`);
    const trials = await driveStudy(spec, queueExecutor(queue, spec), store, io, {
      configSeed,
      onChange: (t) => writeResults(spec, t),
    });
    return await finish(spec, trials, io);
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

/** `--status`: the studies on a queue, their trials, and what the workers are doing. */
export async function sweepStatus(url: string, study: string | undefined, io: CliIO): Promise<void> {
  const redis = await connectRedis(url, io);
  const queue = await openQueue(redis);
  try {
    const counts = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
    const workers = await queue.getWorkers();
    io.out(
      `queue ${url}: ${workers.length} worker(s); trials waiting ${counts.waiting}, running ${counts.active}, completed ${counts.completed}, failed ${counts.failed}`,
    );
    const studies = study ? [study] : await listStudies(redis);
    for (const name of studies) {
      const spec = await loadSpec(redis, name);
      if (!spec) {
        io.out(`study ${name}: not on this queue`);
        continue;
      }
      const trials = await loadTrials(redis, name);
      const best = bestTrial(spec, trials);
      const done = trials.filter((t) => t.state === 'complete').length;
      io.out(
        `study ${name}: ${done}/${spec.nTrials} complete, ${trials.filter((t) => t.state === 'running').length} running, ${trials.filter((t) => t.state === 'fail').length} failed; best ${best ? `trial ${best.number} ${spec.objective} = ${best.value}` : '-'}; ${spec.outputDir}`,
      );
      for (const t of trials) {
        let progress = '';
        if (t.state === 'running') {
          const job = await queue.getJob(trialJobId(name, t.number));
          const p = job?.progress as { worker?: string; epoch?: number | null } | undefined;
          progress = job ? ` [${await job.getState()}${p?.worker ? ` on ${p.worker}` : ''}${p?.epoch ? `, epoch ${p.epoch}` : ''}]` : '';
        }
        io.out(
          `  trial ${t.number}: ${t.state}${t.value === null ? '' : ` ${t.value}`}${progress} ${Object.entries(t.params)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(' ')}`,
        );
      }
    }
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

/** `--print-slurm` / `--print-k8s`: the workers' template for the study on the command line (its name and --jobs). */
function printClusterTemplate(
  argv: string[],
  overrides: string[],
  values: Record<string, string | boolean | undefined>,
  io: CliIO,
): number {
  const queue = values.queue;
  if (typeof queue !== 'string') {
    io.err('--print-slurm and --print-k8s need --queue redis://HOST:PORT: the workers they start take trials from it.');
    return ExitCode.usage;
  }
  if (values['print-slurm'] && values['print-k8s']) {
    io.err('Give one of --print-slurm and --print-k8s.');
    return ExitCode.usage;
  }
  const jobs = typeof values.jobs === 'string' ? intOption(values.jobs, 'jobs', 1) : undefined;
  const study = typeof values.study === 'string' ? values.study : undefined;
  const source = configSource(values);
  // with a config, the study is planned (and so validated) for its name and worker count; without, the flags alone
  const planned = source
    ? planStudy({
        config: source.config,
        ...(source.configDir === undefined ? {} : { configDir: source.configDir }),
        args: overrides,
        ...(jobs === undefined ? {} : { jobs }),
        ...(study === undefined ? {} : { study }),
      }).spec
    : null;
  const input = {
    queue,
    workers: planned?.jobs ?? jobs ?? 1,
    name: planned?.study ?? study ?? 'sweep',
    sweepCommand: source
      ? ['openretina', 'sweep', ...argv.filter((a) => a !== '--print-slurm' && a !== '--print-k8s')].map(shellQuote).join(' ')
      : null,
    version: cliVersion(),
  };
  for (const line of (values['print-slurm'] ? slurmScript(input) : kubernetesJob(input)).trimEnd().split('\n')) io.out(line);
  return ExitCode.ok;
}

export const sweepCommand = defineCommand({
  name: 'sweep',
  summary: 'Hyper-parameter search (TPE, random or grid): trials as local processes (--jobs) or on a Redis queue (--queue)',
  synopsis: [
    'openretina sweep --config PRESET|FILE | --config-path DIR --config-name NAME [key=value ...]',
    '    [key=choice(a,b,...) | key=interval(lo,hi) | key=range(lo,hi,step) | key=tag(log,interval(lo,hi)) ...] [options]',
    'openretina sweep --resume STUDY --queue redis://HOST:PORT',
    'openretina sweep --status --queue redis://HOST:PORT [--study NAME]',
    'openretina sweep --config ... --queue redis://HOST:PORT [--jobs J] --print-slurm | --print-k8s',
  ],
  options: sweepOptions,
  notes: [
    "The config's hydra.sweeper block (params, n_trials, direction, sampler.seed, study_name) is read; the command line wins.",
    'Each trial is `openretina train` into paths.output_dir/trial_<n>; its objective is objective_target (default',
    'val_evaluation_loss) at its best epoch; paths.output_dir gets sweep.json and sweep.html.',
    'Without --queue, --jobs trials run at once as processes here; with --queue, run `openretina worker --queue URL` anywhere.',
  ],
  async run(argv: string[], io: CliIO): Promise<number> {
    const parsed = parseOptions(sweepOptions, argv, { overrides: true, warn: (line) => io.err(line) });
    const { overrides } = parsed;
    const values = parsed.values as Record<string, string | undefined>; // --status, a switch, is a boolean here
    if (values.status) {
      if (!values.queue) {
        io.err('--status needs --queue redis://HOST:PORT (a local sweep shows its state in paths.output_dir/sweep.json).');
        return ExitCode.usage;
      }
      await sweepStatus(values.queue, values.study, io);
      return ExitCode.ok;
    }
    const queue = values.queue === undefined ? {} : { queue: values.queue };
    if (values['print-slurm'] || values['print-k8s']) return printClusterTemplate(argv, overrides, parsed.values, io);
    if (values.resume) {
      await runSweep({ resume: values.resume }, { ...queue, io });
      return ExitCode.ok;
    }
    const source = configSource({ config: values.config, 'config-path': values['config-path'], 'config-name': values['config-name'] });
    if (!source) {
      io.err(`--config (or --config-name) is required.\nUsage: ${sweepCommand.usage}`);
      return ExitCode.usage;
    }
    for (const o of overrides)
      if (!o.includes('=') && !o.startsWith('~')) throw new ConfigError(`"${o}" is not an override of the form key=value.`);
    // --output is paths.output_dir, as for train and every other writing command
    if (values.output !== undefined && overrides.some((o) => /^\+{0,2}paths\.output_dir=/.test(o)))
      throw new UsageError('Give --output DIR or paths.output_dir=DIR, not both.');
    const request: SweepRequest = {
      config: source.config,
      ...(source.configDir === undefined ? {} : { configDir: source.configDir }),
      args: values.output === undefined ? overrides : [...overrides, `paths.output_dir=${values.output}`],
      ...(values.trials === undefined ? {} : { trials: intOption(values.trials, 'trials', 1) }),
      ...(values.sampler === undefined ? {} : { sampler: values.sampler }),
      ...(values.seed === undefined ? {} : { seed: intOption(values.seed, 'seed', 0) }),
      ...(values.jobs === undefined ? {} : { jobs: intOption(values.jobs, 'jobs', 1) }),
      ...(values.direction === undefined ? {} : { direction: values.direction }),
      ...(values.study === undefined ? {} : { study: values.study }),
      ...(values.backend === undefined ? {} : { backend: values.backend }),
      ...(values.engine === undefined ? {} : { engine: values.engine }),
    };
    await runSweep(request, { ...queue, io });
    return ExitCode.ok;
  },
});
