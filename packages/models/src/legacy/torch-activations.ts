import * as tf from '@tensorflow/tfjs-core';
import { torchSoftplus } from '@openretina/layers';

/** `torch.nn` activations by class name (the builder's `nonlinearity` option). */
export const TORCH_ACTIVATIONS: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  ELU: (x) => tf.elu(x),
  ReLU: (x) => tf.relu(x),
  ReLU6: (x) => tf.relu6(x),
  LeakyReLU: (x) => tf.leakyRelu(x, 0.01),
  SELU: (x) => tf.selu(x),
  Softplus: (x) => torchSoftplus(x),
  Sigmoid: (x) => tf.sigmoid(x),
  Tanh: (x) => tf.tanh(x),
  SiLU: (x) => tf.mul(x, tf.sigmoid(x)),
  Identity: (x) => tf.clone(x),
};
