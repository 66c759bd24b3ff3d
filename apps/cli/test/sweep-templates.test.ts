import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../src/index.js';
import { kubernetesJob, shellQuote, slurmScript } from '../src/sweep/cluster-templates.js';
import { capture } from './helpers.js';

const study = ['--config', 'bundled_core_readout', 'model.learning_rate=choice(0.01, 0.003)', '--trials', '8', '--jobs', '4'];
const queue = ['--queue', 'redis://login01:6379'];

describe('openretina sweep --print-slurm / --print-k8s', () => {
  it('prints a SLURM array script: one worker per array task, --jobs tasks, the sweep command beside it', async () => {
    const io = capture();
    expect(await runCli(['sweep', ...study, ...queue, '--print-slurm'], io)).toBe(0);
    const lines = io.lines.join('\n').split('\n');
    expect(lines[0]).toBe('#!/bin/bash');
    const sbatch = lines.filter((l) => l.startsWith('#SBATCH '));
    expect(sbatch).toEqual([
      '#SBATCH --job-name=openretina-bundled_core_readout', // the study's name (exp_name of the preset)
      '#SBATCH --array=1-4',
      '#SBATCH --cpus-per-task=4',
      '#SBATCH --mem=8G',
      '#SBATCH --time=04:00:00',
    ]);
    // sbatch reads #SBATCH lines only before the first command
    const firstCommand = lines.findIndex((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(lines.slice(firstCommand)).toEqual(['openretina worker --queue redis://login01:6379 --max-trials 5']);
    expect(lines).toContain(
      "#   openretina sweep --config bundled_core_readout 'model.learning_rate=choice(0.01, 0.003)' --trials 8 --jobs 4 --queue redis://login01:6379",
    );
    expect(io.errors).toEqual([]);
  });

  it('prints a Kubernetes Job manifest that parses as YAML: --jobs worker pods on the queue', async () => {
    const io = capture();
    expect(await runCli(['sweep', ...study, ...queue, '--print-k8s'], io)).toBe(0);
    const text = io.lines.join('\n');
    const job = parse(text) as {
      apiVersion: string;
      kind: string;
      metadata: { name: string };
      spec: {
        parallelism: number;
        completions: number;
        template: { spec: { restartPolicy: string; containers: { command: string[] }[]; volumes: { name: string }[] } };
      };
    };
    expect(job.apiVersion).toBe('batch/v1');
    expect(job.kind).toBe('Job');
    expect(job.metadata.name).toBe('bundled-core-readout-workers'); // a DNS label
    expect(job.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    expect(job.spec.parallelism).toBe(4);
    expect(job.spec.completions).toBe(4);
    expect(job.spec.template.spec.restartPolicy).toBe('OnFailure');
    const [container] = job.spec.template.spec.containers;
    expect(container!.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(container!.command[2]).toMatch(
      /^npm i -g @openretina\/cli(@\d+\.\d+\.\d+\S*)? && openretina worker --queue redis:\/\/login01:6379 --max-trials 5$/,
    );
    expect(job.spec.template.spec.volumes.map((v) => v.name)).toEqual(['shared']);
    expect(text).toContain("#   openretina sweep --config bundled_core_readout 'model.learning_rate=choice(0.01, 0.003)'");
  });

  it('needs --queue, and one template at a time', async () => {
    const io = capture();
    expect(await runCli(['sweep', ...study, '--print-k8s'], io)).toBe(2);
    expect(io.errors.join('\n')).toMatch(/--print-slurm and --print-k8s need --queue redis:\/\/HOST:PORT/);
    const both = capture();
    expect(await runCli(['sweep', ...study, ...queue, '--print-k8s', '--print-slurm'], both)).toBe(2);
    expect(both.errors.join('\n')).toMatch(/Give one of --print-slurm and --print-k8s/);
  });

  it('fills the templates without a config from the flags, and quotes for the shell', () => {
    const input = { queue: 'redis://r:6379', workers: 3, name: 'My Study!', sweepCommand: null, version: '1.2.3' };
    expect(slurmScript(input)).toContain('#SBATCH --job-name=openretina-My-Study-\n');
    expect(slurmScript(input)).toContain('#SBATCH --array=1-3\n');
    const job = parse(kubernetesJob(input)) as {
      metadata: { name: string };
      spec: { template: { spec: { containers: { command: string[] }[] } } };
    };
    expect(job.metadata.name).toBe('my-study-workers');
    expect(job.spec.template.spec.containers[0]!.command[2]).toMatch(/^npm i -g @openretina\/cli@1\.2\.3 && /);
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('a=b,c')).toBe('a=b,c');
  });
});
