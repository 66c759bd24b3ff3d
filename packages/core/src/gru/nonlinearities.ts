import * as tf from '@tensorflow/tfjs-core';

/*
 * The nonlinearities a conv-GRU core accepts, by their `torch.nn` class name.
 */

/** Nonlinearities by their `torch.nn` class name (OpenRetina's `nonlinearity` option). */
export const NONLINEARITIES: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  ELU: (x) => tf.elu(x),
  ReLU: (x) => tf.relu(x),
  ReLU6: (x) => tf.relu6(x),
  LeakyReLU: (x) => tf.leakyRelu(x, 0.01),
  SELU: (x) => tf.selu(x),
  Softplus: (x) => tf.softplus(x),
  Sigmoid: (x) => tf.sigmoid(x),
  Tanh: (x) => tf.tanh(x),
  SiLU: (x) => tf.mul(x, tf.sigmoid(x)),
  Identity: (x) => tf.clone(x),
};
