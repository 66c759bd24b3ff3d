import * as tf from '@tensorflow/tfjs-core';
import type { ComputeEngine, InputGradient, LossAndGradients, TrainableModel } from '@openretina/contracts';

/**
 * The reference compute engine: the model's own TF.js forward and `tf.variableGrads` over its `loss`. It covers
 * every `TrainableModel` on every TF.js backend (the browser included); `train()` uses it when given no engine.
 */
export class TfjsEngine implements ComputeEngine {
  readonly name = 'tfjs';

  constructor(readonly model: TrainableModel) {}

  /**
   * `model.loss` on one batch and the gradients of its total for `params` (default `model.parametersForSession`).
   * The gradients are computed before the returned promise settles (callers may take the next batch meanwhile).
   */
  async lossAndGrads(
    inputs: tf.Tensor5D,
    targets: tf.Tensor3D,
    session: string,
    params?: ReadonlyMap<string, tf.Variable>,
  ): Promise<LossAndGradients> {
    const vars = params ?? this.model.parametersForSession(session);
    let kept: tf.Scalar[] = [];
    let names: string[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const parts = this.model.loss(inputs, targets, session);
      names = Object.keys(parts.regularizers);
      kept = [tf.keep(parts.data), ...names.map((k) => tf.keep(parts.regularizers[k]!))];
      return parts.total;
    }, [...vars.values()]);
    const stacked = tf.stack([value, ...kept]);
    const values = await stacked.data();
    tf.dispose([stacked, value, ...kept]);
    const byName = new Map<string, tf.Tensor>();
    for (const [name, v] of vars) {
      const g = grads[v.name];
      if (g) byName.set(name, g);
    }
    return {
      total: values[0]!,
      data: values[1]!,
      regularizers: Object.fromEntries(names.map((k, i) => [k, values[i + 2]!])),
      grads: byName,
    };
  }

  /** The model's responses (in its current mode) and `∂⟨responses, cotangent⟩/∂x`. */
  async inputGradient(x: tf.Tensor5D, session: string, cotangent: tf.Tensor3D): Promise<InputGradient> {
    let output: tf.Tensor3D | undefined;
    const grad = tf.grad((s: tf.Tensor) => {
      const out = this.model.forward(s as tf.Tensor5D, { session });
      output = tf.keep(tf.clone(out));
      return tf.sum(tf.mul(out, cotangent));
    })(x) as tf.Tensor5D;
    return { output: output!, grad };
  }

  /** The model's forward (in its current mode: call with the model in eval mode for predictions). */
  async predict(x: tf.Tensor5D, session: string): Promise<tf.Tensor3D> {
    return this.model.forward(x, { session });
  }

  /** Nothing to free: the model stays the caller's. */
  dispose(): void {}
}
