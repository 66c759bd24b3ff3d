import * as tf from '@tensorflow/tfjs-core';
import type { StateDtype, StateTensor } from '@openretina/contracts';

/*
 * Conversions between TF.js tensors and state-dict entries: the variables hold float32 or int32, while a state dict
 * carries PyTorch's dtypes (int64 buffers, float64 or bool from foreign checkpoints).
 */

/** A state-dict entry from a TF.js tensor, in the dtype the state dict reports (int64 values become bigints). */
export function toStateTensor(v: tf.Tensor, dtype: StateDtype): StateTensor {
  const values = v.dataSync();
  const shape = [...v.shape];
  switch (dtype) {
    case 'int64':
      return { shape, dtype, data: BigInt64Array.from(values as Int32Array, (x) => BigInt(x)) };
    case 'int32':
      return { shape, dtype, data: Int32Array.from(values) };
    default:
      return { shape, dtype: 'float32', data: Float32Array.from(values) };
  }
}

/** A TF.js tensor from a state-dict entry, converting int64/float64/bool to the variable's dtype. */
export function fromStateTensor(entry: StateTensor, dtype: tf.DataType = 'float32'): tf.Tensor {
  const { data, shape } = entry;
  let values: Float32Array | Int32Array;
  if (data instanceof BigInt64Array) {
    values = dtype === 'int32' ? Int32Array.from(data, (x) => Number(x)) : Float32Array.from(data, (x) => Number(x));
  } else if (dtype === 'int32') {
    values = data instanceof Int32Array ? data : Int32Array.from(data);
  } else {
    values = data instanceof Float32Array ? data : Float32Array.from(data);
  }
  return tf.tensor(values, [...shape], dtype === 'int32' ? 'int32' : 'float32');
}

/** Makes a state-dict entry from a TF.js tensor (float32). */
export function toStateEntry(t: tf.Tensor): StateTensor {
  return toStateTensor(t, t.dtype === 'int32' ? 'int32' : 'float32');
}
