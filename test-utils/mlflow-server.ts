// A stand-in MLflow tracking server on 127.0.0.1 for tests: it checks every request against MLflow's documented REST
// API 2.0 (paths, methods, field names and types, batch limits) and keeps what a real server would store.
import { createServer, type Server } from 'node:http';
import { z } from 'zod';

const int64 = z.number().int();
const keyValue = z.object({ key: z.string().min(1).max(250), value: z.string() }).strict();
const metric = z.object({ key: z.string().min(1).max(250), value: z.number(), timestamp: int64, step: int64.optional() }).strict();

/** Request bodies of the endpoints the logger uses (MLflow REST API 2.0). */
const schemas = {
  'POST experiments/create': z
    .object({ name: z.string().min(1), artifact_location: z.string().optional(), tags: z.array(keyValue).optional() })
    .strict(),
  'POST runs/create': z
    .object({
      experiment_id: z.string().min(1),
      user_id: z.string().optional(),
      run_name: z.string().optional(),
      start_time: int64,
      tags: z.array(keyValue).optional(),
    })
    .strict(),
  'POST runs/log-batch': z
    .object({
      run_id: z.string().min(1),
      metrics: z.array(metric).max(1000).optional(),
      params: z
        .array(keyValue.extend({ value: z.string().max(6000) }))
        .max(100)
        .optional(),
      tags: z.array(keyValue).max(100).optional(),
    })
    .strict(),
  'POST runs/update': z
    .object({
      run_id: z.string().min(1),
      status: z.enum(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']),
      end_time: int64.optional(),
      run_name: z.string().optional(),
    })
    .strict(),
} as const;

export interface MlflowRun {
  run_id: string;
  experiment_id: string;
  run_name?: string;
  tags: Record<string, string>;
  params: Record<string, string>;
  metrics: { key: string; value: number; step?: number; timestamp: number }[];
  status: string;
}

/** A running stand-in server: its URL, what it stored, the requests it refused, and close(). */
export interface MlflowStandIn {
  url: string;
  experiments: Map<string, string>;
  runs: Map<string, MlflowRun>;
  rejected: string[];
  requests: string[];
  close(): Promise<void>;
}

export async function startMlflowStandIn(): Promise<MlflowStandIn> {
  const experiments = new Map<string, string>();
  const runs = new Map<string, MlflowRun>();
  const rejected: string[] = [];
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => {
      raw += d;
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const path = url.pathname.replace(/^\/api\/2\.0\/mlflow\//, '');
      const endpoint = `${req.method} ${path}`;
      requests.push(endpoint);
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const bad = (message: string) => {
        rejected.push(`${endpoint}: ${message}`);
        reply(400, { error_code: 'INVALID_PARAMETER_VALUE', message });
      };
      if (!url.pathname.startsWith('/api/2.0/mlflow/')) return bad('not an MLflow REST path');
      if (endpoint === 'GET experiments/get-by-name') {
        const name = url.searchParams.get('experiment_name');
        if (!name) return bad('experiment_name is required');
        const id = experiments.get(name);
        return id
          ? reply(200, { experiment: { experiment_id: id, name, lifecycle_stage: 'active' } })
          : reply(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `Could not find experiment with name '${name}'` });
      }
      const schema = schemas[endpoint as keyof typeof schemas];
      if (!schema) return bad('unknown endpoint');
      if (req.headers['content-type'] !== 'application/json') return bad('content-type must be application/json');
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        return bad('body is not JSON');
      }
      const parsed = schema.safeParse(body);
      if (!parsed.success) return bad(parsed.error.message);
      const b = parsed.data as Record<string, unknown>;
      switch (endpoint) {
        case 'POST experiments/create': {
          if (experiments.has(String(b.name)))
            return reply(400, { error_code: 'RESOURCE_ALREADY_EXISTS', message: `Experiment '${String(b.name)}' already exists.` });
          const id = String(experiments.size + 1);
          experiments.set(String(b.name), id);
          return reply(200, { experiment_id: id });
        }
        case 'POST runs/create': {
          if (![...experiments.values()].includes(String(b.experiment_id)))
            return reply(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no experiment' });
          const run_id = `run${runs.size + 1}`;
          const tags = Object.fromEntries(((b.tags as { key: string; value: string }[]) ?? []).map((t) => [t.key, t.value]));
          runs.set(run_id, {
            run_id,
            experiment_id: String(b.experiment_id),
            ...(b.run_name ? { run_name: String(b.run_name) } : {}),
            tags,
            params: {},
            metrics: [],
            status: 'RUNNING',
          });
          return reply(200, { run: { info: { run_id, run_uuid: run_id, experiment_id: b.experiment_id, status: 'RUNNING' }, data: {} } });
        }
        case 'POST runs/log-batch': {
          const run = runs.get(String(b.run_id));
          if (!run) return reply(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no run' });
          for (const p of (b.params as { key: string; value: string }[]) ?? []) {
            if (p.key in run.params && run.params[p.key] !== p.value) return bad(`param ${p.key} changed`);
            run.params[p.key] = p.value;
          }
          run.metrics.push(...((b.metrics as MlflowRun['metrics']) ?? []));
          return reply(200, {});
        }
        case 'POST runs/update': {
          const run = runs.get(String(b.run_id));
          if (!run) return reply(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no run' });
          run.status = String(b.status);
          return reply(200, { run_info: { run_id: run.run_id, status: run.status } });
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    experiments,
    runs,
    rejected,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
