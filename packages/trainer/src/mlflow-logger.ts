// Lightning's MLFlowLogger over MLflow's REST API (2.0): the experiment by name (created when missing), one run per
// training with its parameters and tags, each epoch's metrics in one log-batch call, and the run's end status.
import { DataError, UnsupportedError } from '@openretina/contracts';
import type { EpochRecord, TrainLogger } from './train-types.js';

/** Settings of {@link MlflowLogger} (the `logger.mlflow` config keys). */
export interface MlflowSettings {
  /** The tracking server, http(s)://host:port (MLflow's `tracking_uri`). */
  trackingUri: string;
  experimentName: string;
  runName?: string | null;
  tags?: Record<string, string> | null;
  /** Logged once when the run starts (values are stringified; MLflow keeps at most 6000 characters of each). */
  params?: Record<string, unknown>;
  /** The HTTP client (tests; default: the global fetch). */
  fetch?: typeof fetch;
  /** The clock, in ms (tests). */
  now?: () => number;
}

/** MLflow's per-request limits of runs/log-batch. */
const MAX_METRICS = 1000;
const MAX_PARAMS = 100;
const MAX_PARAM_LENGTH = 6000;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Logs a training run to an MLflow tracking server. Call {@link MlflowLogger.finish} when training ends. */
export class MlflowLogger implements TrainLogger {
  private readonly base: string;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private runId: Promise<string> | null = null;

  constructor(readonly settings: MlflowSettings) {
    if (!/^https?:\/\//.test(settings.trackingUri))
      throw new UnsupportedError(
        `logger.mlflow.tracking_uri must be an MLflow tracking server (http://host:port or https://...), got "${settings.trackingUri}"; a file or database store is read by MLflow itself, not over its REST API.`,
      );
    this.base = settings.trackingUri.replace(/\/+$/, '');
    this.fetch = settings.fetch ?? fetch;
    this.now = settings.now ?? Date.now;
  }

  private async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
    const url = `${this.base}/api/2.0/mlflow/${path}`;
    let response: Response;
    try {
      response = await this.fetch(url, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new DataError(
        `MLflow at ${this.base} is unreachable (${method} ${path}): ${error instanceof Error ? error.message : String(error)}.`,
      );
    }
    const text = await response.text();
    const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!response.ok) {
      const err = Object.assign(
        new DataError(
          `MLflow ${method} ${path} answered ${response.status}: ${String(json.error_code ?? '')} ${String(json.message ?? text)}`.trim(),
        ),
        { errorCode: json.error_code },
      );
      throw err;
    }
    return json;
  }

  private async existingExperiment(name: string): Promise<string | null> {
    try {
      const got = await this.call('GET', `experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`);
      return String((got.experiment as { experiment_id: string }).experiment_id);
    } catch (error) {
      if ((error as { errorCode?: unknown }).errorCode === 'RESOURCE_DOES_NOT_EXIST') return null;
      throw error;
    }
  }

  private async experimentId(): Promise<string> {
    const name = this.settings.experimentName;
    const existing = await this.existingExperiment(name);
    if (existing !== null) return existing;
    try {
      const created = await this.call('POST', 'experiments/create', { name });
      return String(created.experiment_id);
    } catch (error) {
      // parallel trials race to create the experiment: the loser uses the winner's
      if ((error as { errorCode?: unknown }).errorCode !== 'RESOURCE_ALREADY_EXISTS') throw error;
      const raced = await this.existingExperiment(name);
      if (raced === null) throw error;
      return raced;
    }
  }

  private async startRun(): Promise<string> {
    const experimentId = await this.experimentId();
    const tags = Object.entries(this.settings.tags ?? {}).map(([key, value]) => ({ key, value: String(value) }));
    const created = await this.call('POST', 'runs/create', {
      experiment_id: experimentId,
      start_time: this.now(),
      ...(this.settings.runName ? { run_name: this.settings.runName } : {}),
      tags,
    });
    const runId = String((created.run as { info: { run_id: string } }).info.run_id);
    const params = Object.entries(this.settings.params ?? {}).map(([key, v]) => ({
      key,
      value: (typeof v === 'string' ? v : JSON.stringify(v)).slice(0, MAX_PARAM_LENGTH),
    }));
    for (const batch of chunks(params, MAX_PARAMS)) await this.call('POST', 'runs/log-batch', { run_id: runId, params: batch });
    return runId;
  }

  /** The run's id (the run is created on first use). */
  run(): Promise<string> {
    this.runId ??= this.startRun();
    return this.runId;
  }

  async log(record: EpochRecord): Promise<void> {
    const runId = await this.run();
    const timestamp = this.now();
    const values: Record<string, number> = {
      epoch: record.epoch,
      ...(Number.isFinite(record.lr) ? { lr: record.lr } : {}),
      ...record.metrics,
    };
    const metrics = Object.entries(values)
      .filter(([, v]) => typeof v === 'number' && Number.isFinite(v))
      .map(([key, value]) => ({ key, value, timestamp, step: record.step }));
    for (const batch of chunks(metrics, MAX_METRICS)) await this.call('POST', 'runs/log-batch', { run_id: runId, metrics: batch });
  }

  /** Ends the run (FINISHED, or FAILED when training threw). */
  async finish(status: 'FINISHED' | 'FAILED' | 'KILLED' = 'FINISHED'): Promise<void> {
    const runId = await this.run();
    await this.call('POST', 'runs/update', { run_id: runId, status, end_time: this.now() });
  }
}
