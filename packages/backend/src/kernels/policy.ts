/**
 * Internal switches for the kernels that choose between two correct implementations by a cost model.
 * `'auto'` (the default) lets the cost model decide; tests force each path to check both. Not part of
 * the public API.
 */
export const kernelPolicy: {
  /** `Conv2DBackpropInput` on wasm: our XNNPACK rewrite, the stock scalar kernel, or the cost model. */
  conv2DBackpropInput: 'auto' | 'rewrite' | 'stock';
  /** `DepthwiseConv2dNativeBackpropInput` (multiplier > 1): depthwise + sum, a block-diagonal dense conv, or the cost model. */
  depthwiseBackpropInput: 'auto' | 'depthwise' | 'dense';
} = { conv2DBackpropInput: 'auto', depthwiseBackpropInput: 'auto' };
