/**
 * Conv2D gradients as forward conv2d calls ("patch2" in the wasm notes). The forward Conv2D of the wasm
 * backend runs on XNNPACK; its `Conv2DBackpropInput` is a scalar loop and `Conv2DBackpropFilter` does
 * not exist at all, so both gradients are rewritten as forward correlations:
 *
 * - input:  `dx = corr(pad(dy, k-1-p), flip(w) with in/out channels swapped)`
 * - filter: `dw[a,b,i,o] = Σ_{n,y,x} xpad[n,y+a,x+b,i] · dy[n,y,x,o]`, i.e. a conv2d in which the input
 *   channels play the batch, the batch plays the channels and `dy` is the filter:
 *   `conv2d(x^T [Ci,H,W,N], dy^T [oH,oW,N,Co]) = [Ci,kh,kw,Co]`.
 *
 * All transposes are done on 3-D reshapes (5-D/4-D transposes are slow on wasm).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Conv2DBackpropFilterAttrs, Conv2DBackpropInputAttrs, Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import { kernelPolicy } from './policy.js';
import { cropNegative4D, explicitPadding, kernelAttrs, kernelInput, transposedPads, unsupported, type KernelArgs } from './common.js';

/** Computes the conv geometry TF.js uses, for NHWC data. */
function convInfo(
  inShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: Pick<Conv2DBackpropInputAttrs, 'strides' | 'pad' | 'dataFormat' | 'dimRoundingMode'>,
  kernelName: string,
) {
  const dataFormat = attrs.dataFormat ?? 'NHWC';
  if (dataFormat !== 'NHWC') unsupported(kernelName, `dataFormat '${dataFormat}'`, { dataFormat });
  return tf.backend_util.computeConv2DInfo(inShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
}

/**
 * Rough cost model (measured on wasm SIMD, one thread) for choosing between our rewrite and the stock
 * wasm `Conv2DBackpropInput`. The stock kernel is a scalar loop (~1.3 GMAC/s) that visits only the
 * taps that hit dy. Our rewrite runs an XNNPACK conv (~18 GMAC/s) but over the fully padded dy
 * (H·W instead of oH·oW output positions) and with the output channels (Ci) rounded up to a
 * SIMD tile of 8. The stock loop wins for large kernels over small images with 1–3 input channels,
 * e.g. an 11×11 filter with Ci = 2 on an 18×16 image (~30 ms vs ~50 ms at N = 200); ours wins
 * everywhere else, by 2–8× (e.g. 3×3, or 21×1 temporal filters).
 */
const STOCK_MACS_PER_S = 1.3e9;
const XNNPACK_MACS_PER_S = 18e9;
const XNNPACK_CHANNEL_TILE = 8;

/** Whether our stride-1 rewrite is expected to beat the stock wasm kernel for this geometry. */
export function rewriteBeatsStock(info: ConvGeometry): boolean {
  return rewriteCost(info) <= stockCost(info);
}

/** The parts of TF.js' Conv2DInfo the cost model needs (stride 1). */
export interface ConvGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  outHeight: number;
  outWidth: number;
  inChannels: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
}

/** Estimated seconds of the stock wasm Conv2DBackpropInput. */
export function stockCost(g: ConvGeometry): number {
  return (g.batchSize * g.outHeight * g.outWidth * g.filterHeight * g.filterWidth * g.inChannels * g.outChannels) / STOCK_MACS_PER_S;
}

/** Estimated seconds of our rewrite (a stride-1 XNNPACK conv over the padded dy). */
export function rewriteCost(g: ConvGeometry): number {
  const ci = Math.max(g.inChannels, XNNPACK_CHANNEL_TILE);
  return (g.batchSize * g.inHeight * g.inWidth * g.filterHeight * g.filterWidth * ci * g.outChannels) / XNNPACK_MACS_PER_S;
}

/**
 * True when our rewrite should run: stride 1, NHWC, and expected to be faster than the stock kernel.
 * Otherwise the registered kernel calls the stock wasm `Conv2DBackpropInput` (which is correct).
 */
export function useConv2DBackpropInputRewrite(args: KernelArgs): boolean {
  const a = kernelAttrs<Conv2DBackpropInputAttrs>(args.attrs);
  const filter = args.inputs.filter;
  if ((a.dataFormat ?? 'NHWC') !== 'NHWC' || filter == null) return false;
  const info = convInfo(a.inputShape, filter.shape as [number, number, number, number], a, 'Conv2DBackpropInput');
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return false;
  const policy = kernelPolicy.conv2DBackpropInput;
  return policy === 'auto' ? rewriteBeatsStock(info) : policy === 'rewrite';
}

/** `Conv2DBackpropInput` (stride 1) as one forward conv2d with a flipped, channel-swapped filter. */
export function conv2DBackpropInput(args: KernelArgs): Tensor {
  const name = 'Conv2DBackpropInput';
  const a = kernelAttrs<Conv2DBackpropInputAttrs>(args.attrs);
  return tf.tidy(() => {
    const dy = kernelInput<tf.Rank.R4>(args.inputs, 'dy', name);
    const w = kernelInput<tf.Rank.R4>(args.inputs, 'filter', name);
    const info = convInfo(a.inputShape, w.shape, a, name);
    if (info.strideHeight !== 1 || info.strideWidth !== 1)
      unsupported(name, `strides [${info.strideHeight}, ${info.strideWidth}]`, { strides: a.strides });
    const { filterHeight: kh, filterWidth: kw, inHeight, inWidth, outHeight, outWidth, padInfo } = info;
    const [top, bottom] = transposedPads(kh, padInfo.top, inHeight, outHeight);
    const [left, right] = transposedPads(kw, padInfo.left, inWidth, outWidth);
    // [kh,kw,Ci,Co] -> flipped in space, [kh,kw,Co,Ci]. The filter is small: a 4-D transpose is fine.
    const wT = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]) as Tensor4D;
    const c = cropNegative4D(dy, { top, bottom, left, right });
    return tf.conv2d(c.x, wT, 1, explicitPadding(c.pads));
  });
}

/** `Conv2DBackpropFilter` (stride 1), missing on wasm, as one forward conv2d over the batch. */
export function conv2DBackpropFilter(args: KernelArgs): Tensor {
  const name = 'Conv2DBackpropFilter';
  const a = kernelAttrs<Conv2DBackpropFilterAttrs>(args.attrs);
  return tf.tidy(() => {
    const x = kernelInput<tf.Rank.R4>(args.inputs, 'x', name);
    const dy = kernelInput<tf.Rank.R4>(args.inputs, 'dy', name);
    const info = convInfo(x.shape, a.filterShape, a, name);
    if (info.strideHeight !== 1 || info.strideWidth !== 1)
      unsupported(name, `strides [${info.strideHeight}, ${info.strideWidth}]`, { strides: a.strides });
    const [n, h, w, ci] = x.shape;
    const [, oh, ow, co] = dy.shape;
    const { filterHeight: kh, filterWidth: kw, padInfo } = info;
    // x [N,H,W,Ci] -> [Ci,H,W,N]: the input channels become the batch, the batch the channels.
    const xT = tf.reshape(tf.transpose(tf.reshape(x, [n, h * w, ci]), [2, 1, 0]), [ci, h, w, n]) as Tensor4D;
    // dy [N,oH,oW,Co] -> [oH,oW,N,Co]: dy becomes a filter with N input and Co output channels.
    const dyT = tf.reshape(tf.transpose(tf.reshape(dy, [n, oh * ow, co]), [1, 0, 2]), [oh, ow, n, co]) as Tensor4D;
    // Forward padding is never negative; the "valid" extent of this conv is exactly kh × kw.
    const g = tf.conv2d(xT, dyT, 1, explicitPadding(padInfo)); // [Ci, kh, kw, Co]
    return tf.reshape(tf.transpose(tf.reshape(g, [ci, kh * kw, co]), [1, 0, 2]), [kh, kw, ci, co]);
  });
}
