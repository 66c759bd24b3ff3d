import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, type ComputeEngine, type SessionBatch, type TrainableModel } from '@openretina/contracts';
import { TfjsEngine } from '@openretina/models';
import { evaluateSession, summarizeEvaluation, type EvaluationSummary, type NeuronResult, type SummaryOptions } from './evaluation.js';
import type { LoadersByFold } from './data.js';
import { stimulusGroups } from './stimulus-groups.js';
import type { NDArray } from './metrics.js';

/** Model output and targets of a session's batches, batch and time flattened and concatenated (as `openretina eval`). */
export interface CollectedPredictions {
  /** `[Σ B·T_out, N]` */
  predictions: { data: Float32Array; shape: [number, number] };
  /** `[Σ B·T, N]` */
  targets: { data: Float32Array; shape: [number, number] };
  /** Each clip's targets over the frames the model predicts (its last T_out): `[Σ B·T_out, N]`, row for row with `predictions`. */
  alignedTargets: { data: Float32Array; shape: [number, number] };
  /** Frames each clip's output is shorter than its targets (the model's cut frames). */
  clipLag: number;
}

/** Accumulates one session's batches: predictions, targets and the targets aligned with the predicted frames. */
class SessionCollector {
  private readonly preds: Float32Array[] = [];
  private readonly targs: Float32Array[] = [];
  private readonly aligned: Float32Array[] = [];
  private n = -1;
  private clipLag = -1;

  /** One batch: its predictions `[B, T_out, N]` and targets `[B, T, N]`. */
  add(pred: Float32Array, [, tOut, neurons]: readonly number[], targets: Float32Array, [batch, t]: readonly number[]): void {
    this.preds.push(pred);
    this.n = neurons!;
    if (t! < tOut! || (this.clipLag >= 0 && t! - tOut! !== this.clipLag)) {
      throw new ShapeError(
        `collectPredictions: the model returned ${tOut} frames for targets of ${t} (earlier batches: ${this.clipLag} fewer).`,
      );
    }
    this.clipLag = t! - tOut!;
    this.targs.push(targets);
    const n = this.n;
    const last = new Float32Array(batch! * tOut! * n);
    for (let i = 0; i < batch!; i++) last.set(targets.subarray((i * t! + t! - tOut!) * n, (i + 1) * t! * n), i * tOut! * n);
    this.aligned.push(last);
  }

  result(): CollectedPredictions {
    if (this.n < 0) throw new ShapeError('collectPredictions: no batches.');
    return { ...concatenated(this.preds, this.targs, this.aligned, this.n), clipLag: this.clipLag };
  }
}

/**
 * Runs the model (eval mode) over a session's batches and concatenates outputs and targets; disposes the batches.
 * The responses come from `engine.predict` (default: the model's TF.js forward; e.g. an ONNX Runtime engine).
 */
export async function collectPredictions(
  model: TrainableModel,
  batches: Iterable<SessionBatch>,
  engine: Pick<ComputeEngine, 'predict'> = new TfjsEngine(model),
): Promise<CollectedPredictions> {
  const wasTraining = model.training;
  model.eval();
  const collector = new SessionCollector();
  try {
    for (const b of batches) {
      try {
        const out = await engine.predict(b.inputs, b.session);
        const pred = (await out.data()) as Float32Array;
        out.dispose();
        collector.add(pred, out.shape, (await b.targets.data()) as Float32Array, b.targets.shape);
      } finally {
        tf.dispose([b.inputs, b.targets]);
      }
    }
  } finally {
    model.train(wasTraining);
  }
  return collector.result();
}

/**
 * {@link collectPredictions} for several sessions at once with `predictSessions`: one call per group of batches
 * whose stimuli are equal (sessions recorded with the same movie), each session's batches collected in their order.
 */
async function collectGrouped(
  model: TrainableModel,
  sessions: Readonly<Record<string, SessionSplitData>>,
  predictSessions: NonNullable<ComputeEngine['predictSessions']>,
): Promise<Record<string, CollectedPredictions>> {
  const order = Object.keys(sessions).sort();
  const keyOf: string[] = []; // the sessions-record key of each batch, by index
  function* all(): Generator<SessionBatch> {
    for (const s of order) {
      for (const b of sessions[s]!.batches) {
        keyOf.push(s);
        yield b;
      }
    }
  }
  const byIndex = new Map<number, { pred: Float32Array; predShape: number[]; targets: Float32Array; targetShape: number[] }>();
  const wasTraining = model.training;
  model.eval();
  try {
    for (const group of stimulusGroups(all())) {
      try {
        const outs = await predictSessions(
          group.inputs,
          group.members.map((m) => m.session),
        );
        for (const [i, m] of group.members.entries()) {
          const out = outs[i]!;
          byIndex.set(m.index, {
            pred: (await out.data()) as Float32Array,
            predShape: out.shape,
            targets: (await m.targets.data()) as Float32Array,
            targetShape: m.targets.shape,
          });
        }
        tf.dispose(outs);
      } finally {
        tf.dispose([group.inputs, ...group.members.map((m) => m.targets)]);
      }
    }
  } finally {
    model.train(wasTraining);
  }
  const collectors = new Map(order.map((s) => [s, new SessionCollector()]));
  for (const [index, key] of keyOf.entries()) {
    const b = byIndex.get(index)!;
    collectors.get(key)!.add(b.pred, b.predShape, b.targets, b.targetShape);
  }
  return Object.fromEntries(order.map((s) => [s, collectors.get(s)!.result()]));
}

function concatenated(
  preds: Float32Array[],
  targs: Float32Array[],
  aligned: Float32Array[],
  n: number,
): Omit<CollectedPredictions, 'clipLag'> {
  const cat = (parts: Float32Array[]): Float32Array => {
    const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  const p = cat(preds);
  const t = cat(targs);
  const a = cat(aligned);
  return {
    predictions: { data: p, shape: [p.length / n, n] },
    targets: { data: t, shape: [t.length / n, n] },
    alignedTargets: { data: a, shape: [a.length / n, n] },
  };
}

/** One session of a split for {@link evaluateModel}. */
export interface SessionSplitData {
  batches: Iterable<SessionBatch>;
  /**
   * Trial-averaged responses `[T, N]` of a split served as one clip per batch element from its first frame (a test
   * split). Without them (training and validation splits, served as many clips) each clip's output is compared with
   * that clip's own targets over the frames it predicts.
   */
  averageResponses?: NDArray | undefined;
  /** `[trials, T, N]`, when recorded. */
  responsesByTrial?: NDArray | undefined;
  sessionKwargs?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * Per-neuron results and the cutoff summary of a model on one split (OpenRetina's `openretina eval`, whose
 * `evaluation.data_split` may be train, validation or a test split). The predictions come from `engine.predict`
 * (default: the model's TF.js forward); the metrics are functions of them. Name the split in `options.dataSplit`.
 *
 * For a session without `averageResponses` (train and validation) every clip is aligned with its own targets, so
 * correlations, MSE and Poisson losses compare each predicted frame with the response it predicts. OpenRetina
 * aligns the concatenated clips with the session's whole response trace by one lag, which matches frames only for
 * a split served as a single clip (a test split); its train loader is also shuffled.
 */
export async function evaluateModel(
  model: TrainableModel,
  sessions: Readonly<Record<string, SessionSplitData>>,
  options: SummaryOptions = {},
  engine: Pick<ComputeEngine, 'predict' | 'predictSessions'> = new TfjsEngine(model),
): Promise<{
  rows: NeuronResult[];
  summary: EvaluationSummary;
  kept: NeuronResult[];
  /** What the metrics were computed from, per session (e.g. for figures of the traces, without a second forward). */
  collected: Record<string, CollectedPredictions>;
}> {
  let collected: Record<string, CollectedPredictions> = {};
  if (engine.predictSessions) collected = await collectGrouped(model, sessions, engine.predictSessions.bind(engine));
  else
    for (const session of Object.keys(sessions).sort())
      collected[session] = await collectPredictions(model, sessions[session]!.batches, engine);
  return { ...evaluateCollected(sessions, collected, options), collected };
}

/**
 * The sessions of one split of per-session loaders (`loaders[split]`, e.g. "train" or "validation" of data-io's
 * `multipleMoviesDataloaders`) for {@link evaluateModel}: each clip is compared with its own targets.
 */
export function loaderSplitSessions(
  loaders: LoadersByFold,
  split: string,
  sessionKwargs: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {},
): Record<string, SessionSplitData> {
  const fold = loaders[split];
  if (!fold || Object.keys(fold).length === 0) {
    throw new ConfigError(
      `No loaders for the split "${split}"; the loaders have ${Object.keys(loaders).sort().join(', ') || 'no splits'}.`,
    );
  }
  return Object.fromEntries(
    Object.keys(fold)
      .sort()
      .map((session) => [session, { batches: fold[session]!, sessionKwargs: sessionKwargs[session] }]),
  );
}

function evaluateCollected(
  sessions: Readonly<Record<string, SessionSplitData>>,
  collected: Readonly<Record<string, CollectedPredictions>>,
  options: SummaryOptions,
): { rows: NeuronResult[]; summary: EvaluationSummary; kept: NeuronResult[] } {
  const rows: NeuronResult[] = [];
  const trials: number[] = [];
  let lag = -1;
  for (const session of Object.keys(sessions).sort()) {
    const s = sessions[session]!;
    const { predictions, targets, alignedTargets, clipLag } = collected[session]!;
    const perClip = s.averageResponses === undefined;
    const ev = evaluateSession({
      session,
      predictions,
      targets: perClip ? alignedTargets : targets,
      averageResponses: s.averageResponses ?? alignedTargets,
      responsesByTrial: perClip ? undefined : s.responsesByTrial,
      sessionKwargs: s.sessionKwargs,
      dataSplit: options.dataSplit ?? 'test',
    });
    // Clips aligned one by one are compared at lag 0; the lag to report is then each clip's cut.
    const sessionLag = perClip ? clipLag : ev.lag;
    if (lag >= 0 && sessionLag !== lag) throw new ShapeError(`Inconsistent lag between sessions: ${sessionLag} (${session}) vs ${lag}.`);
    lag = sessionLag;
    trials.push(ev.nTrials);
    rows.push(...ev.rows);
  }
  const { summary, kept } = summarizeEvaluation(rows, { temporalLag: lag, nTrialsPerSession: trials, ...options });
  return { rows, summary, kept };
}

/**
 * Lightning-style test metrics of a split: per session the mean per-clip correlation (`CorrelationLoss3d(avg)`),
 * the per-neuron correlations averaged over clips (`_per_neuron_correlations`, stored as `pretrained_performance`)
 * and the Poisson loss / (B + T_out + N); plus the batch-weighted mean correlation over sessions.
 */
export function testMetrics(
  model: TrainableModel,
  batches: Iterable<SessionBatch>,
): { correlation: number; perSession: Record<string, { correlation: number; perNeuron: Float32Array; loss: number }> } {
  const wasTraining = model.training;
  model.eval();
  const acc = new Map<string, { corrSum: number; lossSum: number; w: number; perNeuron: Float64Array; clips: number }>();
  let total = 0;
  let weight = 0;
  try {
    for (const b of batches) {
      try {
        const [corr, loss] = tf.tidy(() => {
          const out = model.forward(b.inputs, { session: b.session });
          const yT = tf.slice(b.targets, [0, b.targets.shape[1] - out.shape[1], 0], [-1, out.shape[1], -1]);
          const dO = tf.sub(out, tf.mean(out, 1, true));
          const dY = tf.sub(yT, tf.mean(yT, 1, true));
          const c = tf.div(
            tf.mean(tf.mul(dO, dY), 1),
            tf.sqrt(tf.mul(tf.add(tf.mean(tf.square(dO), 1), 1e-16), tf.add(tf.mean(tf.square(dY), 1), 1e-16))),
          );
          const l = tf.div(
            tf.sum(tf.sub(out, tf.mul(yT, tf.log(tf.add(out, 1e-16))))),
            out.shape.reduce((a, d) => a + d, 0),
          );
          return [c, l];
        });
        const c = corr!.dataSync() as Float32Array;
        const l = loss!.dataSync()[0]!;
        tf.dispose([corr!, loss!]);
        const [B, N] = corr!.shape as [number, number];
        let a = acc.get(b.session);
        if (!a) {
          a = { corrSum: 0, lossSum: 0, w: 0, perNeuron: new Float64Array(N), clips: 0 };
          acc.set(b.session, a);
        }
        let mean = 0;
        for (let i = 0; i < B; i++)
          for (let k = 0; k < N; k++) {
            a.perNeuron[k] = a.perNeuron[k]! + c[i * N + k]!;
            mean += c[i * N + k]!;
          }
        mean /= B * N;
        a.clips += B;
        a.corrSum += mean * B;
        a.lossSum += l * B;
        a.w += B;
        total += mean * B;
        weight += B;
      } finally {
        tf.dispose([b.inputs, b.targets]);
      }
    }
  } finally {
    model.train(wasTraining);
  }
  const perSession: Record<string, { correlation: number; perNeuron: Float32Array; loss: number }> = {};
  for (const [s, a] of acc) {
    perSession[s] = { correlation: a.corrSum / a.w, loss: a.lossSum / a.w, perNeuron: Float32Array.from(a.perNeuron, (v) => v / a.clips) };
  }
  return { correlation: weight ? total / weight : NaN, perSession };
}
