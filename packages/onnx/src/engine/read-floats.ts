import * as tf from '@tensorflow/tfjs-core';

/**
 * A tensor's values on the host. On the cpu and wasm backends `dataSync` is a plain copy, several times faster than
 * the promise of `data()` (2.7 vs 0.8 ms for a 32×50-frame stimulus on wasm); `session.run` blocks the thread anyway.
 */
export async function readFloats(t: tf.Tensor): Promise<Float32Array> {
  const backend = tf.getBackend();
  return (backend === 'wasm' || backend === 'cpu' ? t.dataSync() : await t.data()) as Float32Array;
}
