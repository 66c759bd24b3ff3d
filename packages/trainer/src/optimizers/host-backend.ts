import * as tf from '@tensorflow/tfjs-core';

/** Backends whose `dataSync` is a plain copy from host memory (not a GPU read-back). */
export function hostBackend(): boolean {
  const b = tf.getBackend();
  return b === 'cpu' || b === 'wasm';
}
