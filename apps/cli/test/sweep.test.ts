import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMlflowStandIn } from '@openretina/test-utils/mlflow-server';
import { runCli, sampleParams, type SearchSpace } from '../src/index.js';
import { capture } from './helpers.js';
import { REDIS_SERVER, cliProcess, freePort, startRedis, stop } from './sweep-redis.js';

const root = mkdtempSync(join(tmpdir(), 'openretina-sweep-'));

// 4 trials of 2 epochs each on the bundled dataset (apps/cli/data/natural_2x18x16, the main job's preset, all of its
// batches), random sampler seeded with 5, 3 at a time
const study = (outputDir: string) => [
  '--config',
  'bundled_core_readout',
  'trainer.max_epochs=2',
  `paths.output_dir=${outputDir}`,
  'model.learning_rate=choice(0.01, 0.003)',
  'model.core.gamma_input=interval(0.0, 0.5)',
  '--trials',
  '4',
  '--sampler',
  'random',
  '--seed',
  '5',
  '--jobs',
  '3',
  '--backend',
  'cpu',
];
const space: SearchSpace = {
  'model.learning_rate': { kind: 'categorical', choices: [0.01, 0.003] },
  'model.core.gamma_input': { kind: 'float', low: 0, high: 0.5, log: false },
};

interface SweepJson {
  study: string;
  direction: string;
  trials: { number: number; params: Record<string, unknown>; value: number; state: string; run_dir: string }[];
  best: { number: number; params: Record<string, unknown>; value: number; run_dir: string };
}
const readSweep = (dir: string) => JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')) as SweepJson;

let local: SweepJson;

describe('openretina sweep on one machine', () => {
  it('runs the seeded study as --jobs local processes and writes sweep.json and sweep.html', async () => {
    const out = join(root, 'local');
    const io = capture();
    // every trial also logs to MLflow (a stand-in server that checks MLflow's REST schema)
    const mlflow = await startMlflowStandIn();
    const tracking = [
      '+logger.mlflow._target_=MLFlowLogger',
      '+logger.mlflow.experiment_name=bundled_sweep',
      `+logger.mlflow.tracking_uri=${mlflow.url}`,
    ];
    expect(await runCli(['sweep', ...study(out), ...tracking], io)).toBe(0);
    await mlflow.close();
    local = readSweep(out);
    expect(mlflow.rejected).toEqual([]);
    const runs = [...mlflow.runs.values()];
    expect(runs).toHaveLength(4);
    for (const r of runs) {
      expect(r.status).toBe('FINISHED');
      expect(r.metrics.filter((m) => m.key === 'val_evaluation_loss')).toHaveLength(2);
      const trial = local.trials.find((t) => r.params.overrides!.includes(`paths.output_dir=${t.run_dir} `))!;
      expect(r.params.overrides).toContain(`model.learning_rate=${trial.params['model.learning_rate']}`);
    }
    expect(local.study).toBe('bundled_core_readout'); // exp_name of the preset
    expect(local.direction).toBe('minimize');
    expect(local.trials.map((t) => t.number)).toEqual([0, 1, 2, 3]);
    for (const t of local.trials) {
      expect(t.state).toBe('complete');
      expect(Number.isFinite(t.value)).toBe(true);
      // the sampler is a function of seed and trial number (trials 0-2 form the first round, 3 the second)
      expect(t.params).toEqual(sampleParams('random', space, 5, t.number, []));
      expect(t.run_dir).toBe(join(out, `trial_${t.number}`));
      // the objective is val_evaluation_loss at the trial's best epoch (its metrics.json)
      const m = JSON.parse(readFileSync(join(t.run_dir, 'metrics.json'), 'utf8'));
      const at = m.history.find((h: { epoch: number }) => h.epoch === m.best.epoch);
      expect(t.value).toBe(at.val_evaluation_loss);
      expect(readFileSync(join(t.run_dir, 'config.yaml'), 'utf8')).toContain(`learning_rate: ${t.params['model.learning_rate']}`);
    }
    const min = Math.min(...local.trials.map((t) => t.value));
    expect(local.best.value).toBe(min);
    expect(io.lines.some((l) => l.startsWith(`best: trial ${local.best.number}`))).toBe(true);
    const html = readFileSync(join(out, 'sweep.html'), 'utf8');
    expect((html.match(/<svg/g) ?? []).length).toBe(2);
    expect(html).toContain('param-model.core.gamma_input');
    expect(html).toContain('exp_name: bundled_core_readout'); // the best run's config.yaml, ready to train
    expect(html).toContain(`learning_rate: ${local.best.params['model.learning_rate']}`);
    expect(html).not.toMatch(/NaN/);
  }, 600_000);

  it('refuses a sweep without a search space, and --resume without a queue', async () => {
    const io = capture();
    expect(await runCli(['sweep', '--config', 'bundled_core_readout', 'trainer.max_epochs=2'], io)).toBe(1);
    expect(io.errors.join('\n')).toMatch(/Nothing to sweep/);
    const io2 = capture();
    expect(await runCli(['sweep', '--resume', 'x'], io2)).toBe(1);
    expect(io2.errors.join('\n')).toMatch(/--resume needs --queue/);
    const io3 = capture();
    expect(await runCli(['sweep', ...study(join(root, 'x')), '--output', join(root, 'y')], io3)).toBe(2);
    expect(io3.errors.join('\n')).toMatch(/Give --output DIR or paths.output_dir=DIR, not both/);
  });
});

// Debian's redis-server is installed by the README's test command (.ci/run); the queue tests need it.
describe.skipIf(!REDIS_SERVER)('openretina sweep --queue with openretina worker (real redis-server)', () => {
  let redis: ChildProcess;
  let url: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    const port = await freePort();
    redis = await startRedis(port);
    url = `redis://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    for (const c of children) await stop(c, 'SIGKILL');
    await stop(redis, 'SIGKILL');
  });

  it('three workers, one killed mid-trial: every trial completes once, with the values of the local run', async () => {
    // 5 s locks: a trial on the bundled data renews its lock dozens of times, and a live worker starved of CPU for
    // longer than the lock (shared, loaded test machines) would lose its trial to a retry that the test did not cause
    const workers = [0, 1, 2].map(() => cliProcess(['worker', '--queue', url, '--stall-seconds', '5']));
    children.push(...workers.map((w) => w.child));
    await Promise.all(workers.map((w) => w.waitFor(/waiting for trials/)));
    const out = join(root, 'queued');
    const io = capture();
    const sweep = runCli(['sweep', ...study(out), '--queue', url, '--study', 'bundled'], io);
    // kill the first worker that is inside a trial's training
    const line = await Promise.race(workers.map((w, i) => w.waitFor(/trial \d+ epoch 1:/).then((l) => ({ i, l }))));
    const killed = workers[line.i]!;
    const trial = Number(/trial (\d+) epoch/.exec(line.l)![1]);
    killed.child.kill('SIGKILL');
    const code = await sweep;
    expect(code, [...io.errors, ...workers.flatMap((w, i) => w.lines.map((l) => `worker ${i}: ${l}`))].join('\n')).toBe(0);
    const queued = readSweep(out);
    expect(queued.trials.map((t) => t.number)).toEqual([0, 1, 2, 3]);
    for (const t of queued.trials) {
      const l = local.trials[t.number]!;
      expect(t.state).toBe('complete');
      expect(t.params).toEqual(l.params);
      expect(t.value).toBe(l.value);
    }
    expect(queued.best.number).toBe(local.best.number);
    // the killed worker's trial was taken by another worker, which finished it
    const others = workers.filter((w) => w !== killed);
    expect(others.some((w) => w.lines.some((x) => new RegExp(`trial ${trial} complete`).test(x)))).toBe(true);
    expect(killed.lines.some((x) => new RegExp(`trial ${trial} complete`).test(x))).toBe(false);
    // each trial finished exactly once among the workers
    const completions = others.flatMap((w) =>
      w.lines.filter((x) => /: trial \d+ complete/.test(x)).map((x) => Number(/trial (\d+) complete/.exec(x)![1])),
    );
    expect(completions.sort()).toEqual([0, 1, 2, 3]);

    const status = capture();
    expect(await runCli(['sweep', '--status', '--queue', url], status)).toBe(0);
    expect(status.lines.join('\n')).toMatch(/study bundled: 4\/4 complete, 0 running, 0 failed; best trial/);
    expect(status.lines.join('\n')).toMatch(/2 worker\(s\)/);
    // the same study again is refused; --resume of a finished study returns at once with its result
    const again = capture();
    expect(await runCli(['sweep', ...study(out), '--queue', url, '--study', 'bundled'], again)).toBe(1);
    expect(again.errors.join('\n')).toMatch(/already on .*--resume bundled/);
    const resumed = capture();
    expect(await runCli(['sweep', '--resume', 'bundled', '--queue', url], resumed)).toBe(0);
    expect(resumed.lines.some((l) => l.startsWith(`best: trial ${local.best.number}`))).toBe(true);
    for (const w of others) await stop(w.child);
  }, 900_000);

  it('Redis going away mid-sweep: a clear error, and the sweep goes on when it is back', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(root, 'aof-'));
    let server = await startRedis(port, dir);
    const queueUrl = `redis://127.0.0.1:${port}`;
    const worker = cliProcess(['worker', '--queue', queueUrl, '--stall-seconds', '2']);
    children.push(worker.child);
    await worker.waitFor(/waiting for trials/);
    const out = join(root, 'outage');
    const io = capture();
    const args = study(out).map((a) => (a === '4' ? '2' : a === '3' ? '1' : a));
    const sweep = runCli(['sweep', ...args, '--queue', queueUrl, '--study', 'outage'], io);
    await worker.waitFor(/trial 0 epoch 1:/);
    await stop(server, 'SIGKILL');
    for (let i = 0; i < 200 && !io.errors.some((l) => /lost the queue/.test(l)); i++) await new Promise((r) => setTimeout(r, 100));
    // A command in flight when the server dies sees the connection reset; one sent after it, the refusal: either
    // may be the first the sweep reports.
    expect(io.errors.join('\n')).toMatch(
      new RegExp(`error: lost the queue at ${queueUrl} \\((ECONNREFUSED|ECONNRESET)\\); waiting for it to come back`),
    );
    server = await startRedis(port, dir);
    children.push(server);
    const code = await sweep;
    expect(code, [...io.errors, ...worker.lines.map((l) => `worker: ${l}`)].join('\n')).toBe(0);
    expect(io.lines.some((l) => /is back; going on/.test(l))).toBe(true);
    const result = readSweep(out);
    expect(result.trials.map((t) => [t.number, t.state])).toEqual([
      [0, 'complete'],
      [1, 'complete'],
    ]);
    expect(result.trials.map((t) => t.value)).toEqual(local.trials.slice(0, 2).map((t) => t.value));
    expect(existsSync(join(out, 'sweep.html'))).toBe(true);
    await stop(worker.child);
  }, 600_000);
});
