import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOpenRetinaError } from '@openretina/contracts';
import { MlflowLogger } from '../src/index.js';
import { startMlflowStandIn, type MlflowStandIn } from '@openretina/test-utils/mlflow-server';

describe('MlflowLogger (MLflow REST API 2.0)', () => {
  let server: MlflowStandIn;
  beforeAll(async () => {
    server = await startMlflowStandIn();
  });
  afterAll(async () => {
    await server.close();
  });

  it('creates the experiment once, a run with tags and params, logs each epoch and finishes the run', async () => {
    let t = 1_700_000_000_000;
    const make = (runName: string) =>
      new MlflowLogger({
        trackingUri: `${server.url}/`,
        experimentName: 'tiny sweep',
        runName,
        tags: { user: 'lab' },
        params: { 'model.learning_rate': 0.01, hidden: [4, 4], long: 'x'.repeat(7000) },
        now: () => t++,
      });
    const a = make('trial_0');
    await a.log({ epoch: 0, step: 2, lr: 0.01, metrics: { val_evaluation_loss: 0.5, train_loss: Number.NaN } });
    await a.log({ epoch: 1, step: 4, lr: 0.005, metrics: { val_evaluation_loss: 0.4 } });
    await a.finish();
    const b = make('trial_1');
    await b.finish('FAILED');
    expect(server.rejected).toEqual([]);
    expect([...server.experiments.keys()]).toEqual(['tiny sweep']);
    expect(server.requests.filter((r) => r === 'POST experiments/create')).toHaveLength(1);
    const [r0, r1] = [...server.runs.values()];
    expect(r0!.run_name).toBe('trial_0');
    expect(r0!.tags).toEqual({ user: 'lab' });
    expect(r0!.params['model.learning_rate']).toBe('0.01');
    expect(r0!.params.hidden).toBe('[4,4]');
    expect(r0!.params.long).toHaveLength(6000);
    expect(r0!.status).toBe('FINISHED');
    // NaN is not sent (MLflow's JSON has no NaN); epoch and lr are logged with the metrics at the optimizer step
    expect(r0!.metrics.filter((m) => m.key === 'val_evaluation_loss').map((m) => [m.step, m.value])).toEqual([
      [2, 0.5],
      [4, 0.4],
    ]);
    expect(r0!.metrics.some((m) => m.key === 'train_loss')).toBe(false);
    expect(r0!.metrics.filter((m) => m.key === 'lr').map((m) => m.value)).toEqual([0.01, 0.005]);
    expect(r1!.status).toBe('FAILED');
  });

  it('uses the experiment another run created meanwhile (parallel trials)', async () => {
    const loggers = [0, 1, 2].map((i) => new MlflowLogger({ trackingUri: server.url, experimentName: 'parallel', runName: `p${i}` }));
    await Promise.all(loggers.map((l) => l.run()));
    expect(server.experiments.has('parallel')).toBe(true);
    const ids = [...server.runs.values()].filter((r) => r.run_name?.startsWith('p')).map((r) => r.experiment_id);
    expect(ids).toEqual(Array(3).fill(server.experiments.get('parallel')));
  });

  it('refuses a tracking URI that is not a server, and names an unreachable one', async () => {
    expect(() => new MlflowLogger({ trackingUri: 'sqlite:///mlflow.db', experimentName: 'x' })).toThrow(
      /must be an MLflow tracking server/,
    );
    const closed = await startMlflowStandIn();
    await closed.close();
    const logger = new MlflowLogger({ trackingUri: closed.url, experimentName: 'x' });
    const error = await logger.log({ epoch: 0, step: 1, lr: 0.1, metrics: {} }).catch((e: unknown) => e);
    expect(isOpenRetinaError(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(new RegExp(`MLflow at ${closed.url} is unreachable`));
  });
});
