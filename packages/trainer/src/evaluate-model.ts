import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, type ComputeEngine, type SessionBatch, type TrainableModel } from '@openretina/contracts';
import { TfjsEngine } from '@openretina/models';
import { evaluateSession, summarizeEvaluation, type EvaluationSummary, type NeuronResult, type SummaryOptions } from './evaluation.js';
import type { NDArray } from './metrics.js';

/** Model output and targets of a session's batches, batch and time flattened and concatenated (as `openretina eval`). */
export interface CollectedPredictions {
  /** `[Σ B·T_out, N]` */
  predictions: { data: Float32Array; shape: [number, number] };
  /** `[Σ B·T, N]` */
  targets: { data: Float32Array; shape: [number, number] };
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
  const preds: Float32Array[] = [];
  const targs: Float32Array[] = [];
  let n = -1;
  try {
    for (const b of batches) {
      try {
        const out = await engine.predict(b.inputs, b.session);
        preds.push((await out.data()) as Float32Array);
        n = out.shape[2];
        out.dispose();
        targs.push((await b.targets.data()) as Float32Array);
      } finally {
        tf.dispose([b.inputs, b.targets]);
      }
    }
  } finally {
    model.train(wasTraining);
  }
  if (n < 0) throw new ShapeError('collectPredictions: no batches.');
  return concatenated(preds, targs, n);
}

function concatenated(preds: Float32Array[], targs: Float32Array[], n: number): CollectedPredictions {
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
  return { predictions: { data: p, shape: [p.length / n, n] }, targets: { data: t, shape: [t.length / n, n] } };
}

/** One session of a split for {@link evaluateModel}. */
export interface SessionSplitData {
  batches: Iterable<SessionBatch>;
  /** Trial-averaged responses `[T, N]` of the split (the loader's responses). */
  averageResponses: NDArray;
  /** `[trials, T, N]`, when recorded. */
  responsesByTrial?: NDArray | undefined;
  sessionKwargs?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * Per-neuron results and the cutoff summary of a model on one split (OpenRetina's `openretina eval`). The
 * predictions come from `engine.predict` (default: the model's TF.js forward); the metrics are functions of them.
 */
export async function evaluateModel(
  model: TrainableModel,
  sessions: Readonly<Record<string, SessionSplitData>>,
  options: SummaryOptions = {},
  engine: Pick<ComputeEngine, 'predict'> = new TfjsEngine(model),
): Promise<{ rows: NeuronResult[]; summary: EvaluationSummary; kept: NeuronResult[] }> {
  const collected: Record<string, CollectedPredictions> = {};
  for (const session of Object.keys(sessions).sort())
    collected[session] = await collectPredictions(model, sessions[session]!.batches, engine);
  return evaluateCollected(sessions, collected, options);
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
    const { predictions, targets } = collected[session]!;
    const ev = evaluateSession({
      session,
      predictions,
      targets,
      averageResponses: s.averageResponses,
      responsesByTrial: s.responsesByTrial,
      sessionKwargs: s.sessionKwargs,
      dataSplit: options.dataSplit ?? 'test',
    });
    if (lag >= 0 && ev.lag !== lag) throw new ShapeError(`Inconsistent lag between sessions: ${ev.lag} (${session}) vs ${lag}.`);
    lag = ev.lag;
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
