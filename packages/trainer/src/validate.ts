import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type ComputeEngine, type SessionBatch, type TrainableModel } from '@openretina/contracts';
import { TfjsEngine } from '@openretina/models';
import { stimulusGroups, type StimulusGroup } from './stimulus-groups.js';
import { WeightedMeans } from './weighted-means.js';

/**
 * The validation values of one batch from the model's output, in logging order: `val_loss` (the training loss
 * divided by B + T_out + N, OpenRetina's quirk), one `val_regularization_loss_<name>` per regularizer,
 * `val_total_loss` (val_loss + the regularizers) and `val_evaluation_loss`.
 */
function validationValues(model: TrainableModel, out: tf.Tensor3D, batch: SessionBatch): { names: string[]; values: tf.Tensor1D } {
  let names: string[] = [];
  const values = tf.tidy(() => {
    const loss = tf.div(
      model.dataLoss(out, batch.targets, batch.session),
      out.shape.reduce((a, b) => a + b, 0),
    );
    const regularizers = model.regularizers(batch.session);
    const keys = Object.keys(regularizers);
    names = ['val_loss', ...keys.map((k) => `val_regularization_loss_${k}`), 'val_total_loss', 'val_evaluation_loss'];
    const regs = keys.map((k) => regularizers[k]!);
    const total = tf.addN([loss, ...regs]);
    const evalLoss = model.evaluationLoss(out, batch.targets, batch.session);
    return tf.stack([loss, ...regs, total, evalLoss]) as tf.Tensor1D;
  });
  return { names, values };
}

/**
 * Validation metrics over all batches (model in eval mode), averaged with batch-size weights as Lightning does:
 * `val_loss` = training loss / (B + T_out + N) (OpenRetina's quirk; the Poisson sum by default),
 * `val_regularization_loss_<name>` per regularizer (`core` and `readout` for a core-readout model),
 * `val_total_loss`, `val_evaluation_loss` (the model's evaluation loss: the mean per-clip correlation by default).
 * The eval-mode responses come from `engine.predict` (default: the model's TF.js forward), or, when the engine has
 * `predictSessions`, one call per group of batches whose stimuli are equal (sessions recorded with the same movie);
 * the losses and metrics of them are computed in TF.js and averaged in the batches' order either way. Disposes the
 * batches.
 */
export async function validate(
  model: TrainableModel,
  batches: Iterable<SessionBatch>,
  engine: Pick<ComputeEngine, 'predict' | 'predictSessions'> = new TfjsEngine(model),
): Promise<Record<string, number>> {
  const wasTraining = model.training;
  model.eval();
  const perBatch: { values: Record<string, number>; weight: number }[] = [];
  try {
    if (engine.predictSessions) await validateGroups(model, stimulusGroups(batches), engine.predictSessions.bind(engine), perBatch);
    else await validateBatches(model, batches, engine, perBatch);
  } finally {
    model.train(wasTraining);
  }
  const means = new WeightedMeans();
  for (const b of perBatch) means.add(b.values, b.weight);
  if (means.empty) throw new ConfigError('Validation produced no batches.');
  return means.values();
}

/** One batch's validation values from its responses (disposes `out`). */
async function batchValues(model: TrainableModel, out: tf.Tensor3D, batch: SessionBatch): Promise<Record<string, number>> {
  let result: { names: string[]; values: tf.Tensor1D };
  try {
    result = validationValues(model, out, batch);
  } finally {
    out.dispose();
  }
  const values = await result.values.data();
  result.values.dispose();
  return Object.fromEntries(result.names.map((k, i) => [k, values[i]!]));
}

async function validateBatches(
  model: TrainableModel,
  batches: Iterable<SessionBatch>,
  engine: Pick<ComputeEngine, 'predict'>,
  perBatch: { values: Record<string, number>; weight: number }[],
): Promise<void> {
  for (const batch of batches) {
    try {
      const out = await engine.predict(batch.inputs, batch.session);
      perBatch.push({ values: await batchValues(model, out, batch), weight: batch.inputs.shape[0] });
    } finally {
      tf.dispose([batch.inputs, batch.targets]);
    }
  }
}

async function validateGroups(
  model: TrainableModel,
  groups: Iterable<StimulusGroup>,
  predictSessions: NonNullable<ComputeEngine['predictSessions']>,
  perBatch: { values: Record<string, number>; weight: number }[],
): Promise<void> {
  for (const group of groups) {
    try {
      const outs = await predictSessions(
        group.inputs,
        group.members.map((m) => m.session),
      );
      for (const [i, m] of group.members.entries()) {
        const batch = { inputs: group.inputs, targets: m.targets, session: m.session };
        perBatch[m.index] = { values: await batchValues(model, outs[i]!, batch), weight: group.inputs.shape[0] };
      }
    } finally {
      tf.dispose([group.inputs, ...group.members.map((m) => m.targets)]);
    }
  }
}
