import * as tf from '@tensorflow/tfjs-core';

/**
 * A tensor's values on the host: `dataSync` on the cpu and wasm backends (a plain read there, faster than the
 * promise of `data()`), `data()` elsewhere. Read only: on the cpu backend this is the tensor's own storage.
 */
export async function readFloats(t: tf.Tensor): Promise<Float32Array> {
  const backend = tf.getBackend();
  return (backend === 'cpu' || backend === 'wasm' ? t.dataSync() : await t.data()) as Float32Array;
}
