// `openretina sweep --print-slurm` / `--print-k8s`: the worker templates of docs/scale-out.md, filled with a study's
// queue, worker count and commands. The scheduler only starts workers; the sweep itself runs wherever Redis is reachable.
import { stringify } from 'yaml';

/** What a cluster template is filled with. */
export interface ClusterTemplateInput {
  /** redis://HOST:PORT that the sweep and its workers share. */
  queue: string;
  /** Workers at once: the SLURM array size, the Job's parallelism (the study's --jobs). */
  workers: number;
  /** Job name (the study's name, or a generic one). */
  name: string;
  /** The sweep's own command line, shown as the step to run beside the workers (null: not known). */
  sweepCommand: string | null;
  /** The CLI version the Kubernetes pods install, so that every worker runs the sweep's version. */
  version: string;
  /** Trials per worker before it exits, so that the scheduler can rebalance (default 5). */
  trialsPerWorker?: number;
}

/** Quotes one argument for a POSIX shell (left bare when it has no special characters). */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@,+%^-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

function workerCommand(input: ClusterTemplateInput): string {
  return ['openretina', 'worker', '--queue', input.queue, '--max-trials', String(input.trialsPerWorker ?? 5)].map(shellQuote).join(' ');
}

// Kubernetes object names are DNS labels: lower case, digits and '-', at most 63 characters
function dnsLabel(name: string): string {
  const label = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 52);
  return `${label || 'openretina'}-workers`.replace(/^-+/, '');
}

// the version of the CLI that printed the template, so that every worker runs the sweep's version (an unreleased
// workspace build, 0.0.0, has no such version on the registry)
const cliPackage = (version: string) =>
  /^\d+\.\d+\.\d+/.test(version) && version !== '0.0.0' ? `@openretina/cli@${version}` : '@openretina/cli';

/** The SLURM array script: one worker per array task. */
export function slurmScript(input: ClusterTemplateInput): string {
  return [
    '#!/bin/bash',
    // #SBATCH lines are read by sbatch, not by a shell: a name without spaces or quotes
    `#SBATCH --job-name=openretina-${input.name.replace(/[^A-Za-z0-9_.-]+/g, '-')}`,
    `#SBATCH --array=1-${input.workers}`,
    '#SBATCH --cpus-per-task=4',
    '#SBATCH --mem=8G',
    '#SBATCH --time=04:00:00',
    '# Submit with `sbatch THIS_FILE`; every array task is one worker of the queue below.',
    ...(input.sweepCommand === null
      ? ['# Run the sweep itself where the queue is reachable (a login node, or a small job).']
      : ['# Run the sweep itself where the queue is reachable (a login node, or a small job):', `#   ${input.sweepCommand}`]),
    '# A worker exits after --max-trials trials so that the scheduler can rebalance; one that is preempted',
    '# mid-trial is a killed worker: its trial goes back to the queue.',
    workerCommand(input),
    '',
  ].join('\n');
}

/** The Kubernetes Job manifest: `workers` worker pods at once, sharing one ReadWriteMany volume at /shared. */
export function kubernetesJob(input: ClusterTemplateInput): string {
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: dnsLabel(input.name), labels: { app: 'openretina-worker' } },
    spec: {
      parallelism: input.workers,
      completions: input.workers,
      backoffLimit: 2 * input.workers,
      template: {
        metadata: { labels: { app: 'openretina-worker' } },
        spec: {
          restartPolicy: 'OnFailure',
          containers: [
            {
              name: 'worker',
              image: 'node:24',
              command: ['sh', '-c', `npm i -g ${cliPackage(input.version)} && ${workerCommand(input)}`],
              resources: { requests: { cpu: '4', memory: '8Gi' } },
              volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
            },
          ],
          // data, configs and runs: the same paths on every worker (ReadWriteMany)
          volumes: [{ name: 'shared', persistentVolumeClaim: { claimName: 'openretina-shared' } }],
        },
      },
    },
  };
  const head = [
    '# Apply with `kubectl apply -f THIS_FILE`; every pod is one worker of the queue below.',
    ...(input.sweepCommand === null
      ? ['# Run the sweep itself where the queue is reachable (one more pod, or a port-forward to Redis).']
      : ['# Run the sweep itself where the queue is reachable (one more pod, or a port-forward to Redis):', `#   ${input.sweepCommand}`]),
  ];
  return `${head.join('\n')}\n${stringify(job, { lineWidth: 0 })}`;
}
