import * as tf from '@tensorflow/tfjs-core';
import type { ComputeEngine, Movie } from '@openretina/contracts';
import type { CoreReadout } from '@openretina/models';
import { WasmPredictor } from '@openretina/wasm-predictor';
import type { Responses } from './state.js';

/** What computes eval predictions off TF.js's own forward: an `OnnxEngine`, or the kernels' `WasmPredictor`. */
export type Predictor = Pick<ComputeEngine, 'predict'> | WasmPredictor;

/**
 * Predicted responses `[T_out, N]` of one session for a whole movie (output frame i ↔ input frame i + framesCut),
 * by `engine` (the kernels or ONNX Runtime) when given, else by the model's TF.js forward.
 */
export async function predictResponses(model: CoreReadout, movie: Movie, session: string, engine?: Predictor): Promise<Responses> {
  const [t, h, w, c] = movie.shape;
  if (t <= model.framesCut) throw new Error(`The stimulus has ${t} frames; the model needs more than ${model.framesCut}.`);
  if (engine instanceof WasmPredictor) {
    // the movie's own array in, a plain array out: no TF.js tensor on the way
    const r = engine.predictValues(movie.data, [1, t, h, w, c], session);
    return { data: r.data, frames: r.shape[1], neurons: r.shape[2] };
  }
  let out: tf.Tensor3D;
  if (engine) {
    const x = tf.tensor5d(movie.data, [1, t, h, w, c]);
    try {
      out = await engine.predict(x, session);
    } finally {
      x.dispose();
    }
  } else out = tf.tidy(() => model.forward(tf.tensor5d(movie.data, [1, t, h, w, c]), { session }));
  const data = (await out.data()) as Float32Array;
  const [, frames, neurons] = out.shape;
  out.dispose();
  return { data, frames, neurons };
}

/** One neuron's trace from responses `[T, N]`. */
export function trace(r: Responses, neuron: number): Float32Array {
  const out = new Float32Array(r.frames);
  for (let i = 0; i < r.frames; i++) out[i] = r.data[i * r.neurons + neuron]!;
  return out;
}
