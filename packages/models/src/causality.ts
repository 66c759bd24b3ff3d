import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type ResponseModel } from '@openretina/contracts';

/** Options of {@link isModelCausal}; the defaults are OpenRetina's. */
export interface CausalityCheckOptions {
  /** Frames of the unchanged stimulus before the change (default 40). */
  framesSame?: number;
  /** Frames after the change (default 20). */
  framesDifferent?: number;
  /** The session whose responses are compared (default: the first in sorted order). */
  session?: string;
}

/** A model whose train/eval mode the check may switch (TF.js models; ONNX models have none). */
type MaybeTrainable = ResponseModel & { readonly training?: boolean; train?(mode?: boolean): unknown };

/**
 * OpenRetina's `is_model_causal`: whether a change of the stimulus at frame `framesSame` leaves every earlier
 * response unchanged. The model (in eval mode, restored afterwards) sees a constant stimulus of ones, then the same
 * stimulus with the last `framesDifferent` frames set to 2; every response whose window ends before the change —
 * output frames `0 … framesSame − framesCut − 1`, each neuron of the session — must be exactly equal. Works with any
 * `ResponseModel` (TF.js, ONNX, ensembles).
 *
 * OpenRetina compares neuron 0 only and, through `argmax` of the differences, calls a model whose responses never
 * change non-causal; here every neuron counts, and a model that does not react to the change is causal (no frame
 * changed an earlier output).
 */
export async function isModelCausal(model: ResponseModel, options: CausalityCheckOptions = {}): Promise<boolean> {
  const same = options.framesSame ?? 40;
  const different = options.framesDifferent ?? 20;
  if (!Number.isInteger(same) || !Number.isInteger(different) || same < 1 || different < 1) {
    throw new ConfigError(`isModelCausal needs positive integer frame counts, got framesSame ${same} and framesDifferent ${different}.`);
  }
  const unchanged = same - model.framesCut;
  if (unchanged < 1) {
    throw new ConfigError(
      `isModelCausal: the change at frame ${same} comes before the first response (the model cuts ${model.framesCut} frames); use framesSame > ${model.framesCut}.`,
    );
  }
  const session = options.session ?? [...model.sessions].sort()[0];
  const m = model as MaybeTrainable;
  const wasTraining = m.training;
  if (typeof m.train === 'function') m.train(false);
  try {
    const constant = tf.ones(model.stimulusShape(same + different)) as tf.Tensor5D;
    const changed = tf.tidy(
      () => tf.concat([tf.ones(model.stimulusShape(same)), tf.fill(model.stimulusShape(different), 2)], 1) as tf.Tensor5D,
    );
    const predictOptions = session === undefined ? {} : { session };
    let before: tf.Tensor3D | undefined;
    let after: tf.Tensor3D | undefined;
    try {
      before = await model.predict(constant, predictOptions);
      after = await model.predict(changed, predictOptions);
      const neurons = before.shape[2];
      const a = (await before.data()).subarray(0, unchanged * neurons);
      const b = (await after.data()).subarray(0, unchanged * neurons);
      return a.every((v, i) => v === b[i] || (Number.isNaN(v) && Number.isNaN(b[i]!)));
    } finally {
      tf.dispose([constant, changed, ...(before ? [before] : []), ...(after ? [after] : [])]);
    }
  } finally {
    if (typeof m.train === 'function' && wasTraining !== undefined) m.train(wasTraining);
  }
}
