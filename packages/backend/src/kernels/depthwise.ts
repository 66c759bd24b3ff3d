/**
 * Depthwise conv2d gradients for wasm (both kernels are missing in TF.js 4.22.0), built from the forward
 * `DepthwiseConv2dNative`, which runs on XNNPACK, with channel multiplier M ≥ 1.
 *
 * - Input: `dx[n,y,x,c] = Σ_m corr(pad(dy[..., c·M+m], k-1-p), flip(f[..., c, m]))`: a multiplier-1
 *   depthwise conv over the C·M channels of dy with the flipped filter reshaped to `[kh,kw,C·M,1]`,
 *   followed by a sum over m.
 * - Filter: `df[a,b,c,m] = Σ_{n,y,x} xpad[n,y+a,x+b,c] · dy[n,y,x,c·M+m]`: move the batch into the
 *   channels (`x → [1,H,W,N·C]`) and use dy as a depthwise filter (`[oH,oW,N·C,M]`), then sum over n.
 *   When the filter is 1 wide (`[k,1,C,M]`, a temporal conv) and there is no width padding, the width is
 *   folded into the channels as well (`[1,H,1,N·W·C]`), which turns dy into a 1-D filter of oH taps
 *   (and likewise for `[1,k,C,M]`).
 *
 * Both use {@link depthwiseConvExplicit} with tap padding, so 1-D multiplier-1 filters with slow tap
 * counts are padded to 3/4/9/25 taps or split into chunks of 25. All transposes are 3-D. For large
 * 2-D filters with M > 1 the input gradient goes through a block-diagonal dense Conv2DBackpropInput
 * instead, when a cost model says that is cheaper (see `denseBeatsDepthwise`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type {
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  NamedAttrMap,
  Tensor,
  Tensor4D,
} from '@tensorflow/tfjs-core';
import { depthwiseConvExplicit, fastTapCount, isFastTapCount } from '../depthwise.js';
import { rewriteCost, stockCost } from './conv2d.js';
import { kernelPolicy } from './policy.js';
import { kernelAttrs, kernelInput, transposedPads, unsupported, type KernelArgs } from './common.js';

type Attrs = DepthwiseConv2dNativeBackpropInputAttrs | DepthwiseConv2dNativeBackpropFilterAttrs;

function depthwiseInfo(
  inShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  a: Attrs,
  kernelName: string,
) {
  const info = tf.backend_util.computeConv2DInfo(inShape, filterShape, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true);
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    unsupported(
      kernelName,
      `strides [${info.strideHeight}, ${info.strideWidth}] and dilations [${info.dilationHeight}, ${info.dilationWidth}]`,
      { strides: a.strides, dilations: a.dilations },
    );
  }
  return info;
}

/** Measured XNNPACK depthwise throughput (wasm SIMD, one thread) for fast and for other tap counts. */
const DW_FAST_MACS_PER_S = 4e9;
const DW_SLOW_MACS_PER_S = 1.1e9;

/**
 * Whether the input gradient of a depthwise conv with multiplier M > 1 is cheaper as a dense
 * `Conv2DBackpropInput` with a block-diagonal `[kh,kw,C,C·M]` filter than as a multiplier-1 depthwise
 * conv over C·M channels followed by a sum. The depthwise route computes C·M channels over the fully
 * padded dy, with XNNPACK's slow generic path for 2-D filters like 7×7 or 11×11; the dense route does
 * C times more MACs but (through the stock kernel) only where filter taps hit dy. Measured: for the
 * spatial 11×11 layer of the retina model (C = 2, M = 16, 8×6 → 18×16) the dense route is ~3–4×
 * faster (N = 50: 13 ms vs 51 ms); for 5×5 with C = 16, M = 16 the depthwise route is ~4× faster
 * (N = 400: 74 ms vs 299 ms).
 */
function denseBeatsDepthwise(
  n: number,
  h: number,
  w: number,
  oh: number,
  ow: number,
  c: number,
  m: number,
  kh: number,
  kw: number,
): boolean {
  if (m === 1) return false;
  const oneD = kh === 1 || kw === 1;
  const taps = oneD ? fastTapCount(kh * kw) : kh * kw;
  const fast = oneD || isFastTapCount(taps);
  const depthwise = (n * h * w * c * m * taps) / (fast ? DW_FAST_MACS_PER_S : DW_SLOW_MACS_PER_S);
  const g = {
    batchSize: n,
    inHeight: h,
    inWidth: w,
    outHeight: oh,
    outWidth: ow,
    inChannels: c,
    outChannels: c * m,
    filterHeight: kh,
    filterWidth: kw,
  };
  return Math.min(stockCost(g), rewriteCost(g)) < depthwise;
}

/** `DepthwiseConv2dNativeBackpropInput` (stride 1, dilation 1, any multiplier). */
export function depthwiseConv2dNativeBackpropInput(args: KernelArgs): Tensor {
  const name = 'DepthwiseConv2dNativeBackpropInput';
  const a = kernelAttrs<DepthwiseConv2dNativeBackpropInputAttrs>(args.attrs);
  return tf.tidy(() => {
    const dy = kernelInput<tf.Rank.R4>(args.inputs, 'dy', name);
    const f = kernelInput<tf.Rank.R4>(args.inputs, 'filter', name);
    const info = depthwiseInfo(a.inputShape, f.shape, a, name);
    const [kh, kw, c, m] = f.shape;
    const [n, h, w] = a.inputShape;
    const policy = kernelPolicy.depthwiseBackpropInput;
    const dense =
      m > 1 && (policy === 'auto' ? denseBeatsDepthwise(n, h, w, info.outHeight, info.outWidth, c, m, kh, kw) : policy === 'dense');
    if (dense) {
      // Block-diagonal dense filter [kh,kw,C,C·M]: W[a,b,c',c·M+m] = δ(c',c)·f[a,b,c,m]. Runs the
      // (wasm) Conv2DBackpropInput kernel, i.e. our rewrite or the stock loop, whichever is faster.
      const eye = tf.reshape(tf.eye(c), [1, c, c, 1]);
      const wDense = tf.reshape(tf.mul(tf.reshape(f, [kh * kw, 1, c, m]), eye), [kh, kw, c, c * m]);
      const attrs = { strides: 1, pad: a.pad, dataFormat: 'NHWC', dimRoundingMode: a.dimRoundingMode, inputShape: a.inputShape };
      return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: wDense }, attrs as unknown as NamedAttrMap) as Tensor;
    }
    const [top, bottom] = transposedPads(kh, info.padInfo.top, h, info.outHeight);
    const [left, right] = transposedPads(kw, info.padInfo.left, w, info.outWidth);
    // Channel c·M+m of dy meets filter[.., c, m]: the flipped filter as a multiplier-1 filter over C·M channels.
    const fT = tf.reshape(tf.reverse(f, [0, 1]), [kh, kw, c * m, 1]) as Tensor4D;
    const z = depthwiseConvExplicit(dy, fT, { top, bottom, left, right }, true); // [N,H,W,C·M]
    if (m === 1) return z;
    // Sum over the multiplier: a 2-D reduction over the innermost axis.
    return tf.reshape(tf.sum(tf.reshape(z, [n * h * w * c, m]), 1), [n, h, w, c]);
  });
}

/** `DepthwiseConv2dNativeBackpropFilter` (stride 1, dilation 1, any multiplier). */
export function depthwiseConv2dNativeBackpropFilter(args: KernelArgs): Tensor {
  const name = 'DepthwiseConv2dNativeBackpropFilter';
  const a = kernelAttrs<DepthwiseConv2dNativeBackpropFilterAttrs>(args.attrs);
  return tf.tidy(() => {
    const x = kernelInput<tf.Rank.R4>(args.inputs, 'x', name);
    const dy = kernelInput<tf.Rank.R4>(args.inputs, 'dy', name);
    const info = depthwiseInfo(x.shape, a.filterShape, a, name);
    const [kh, kw, c, m] = a.filterShape;
    const [n, h, w] = x.shape;
    const [, oh, ow] = dy.shape;
    const p = info.padInfo;

    // Fold an axis into the channels when the filter is 1 long on it and that axis is not padded:
    // then input and output have the same length on it and it behaves like another batch axis.
    const foldWidth = kw === 1 && p.left === 0 && p.right === 0;
    const foldHeight = !foldWidth && kh === 1 && p.top === 0 && p.bottom === 0;

    let xr: Tensor4D;
    let dr: Tensor4D;
    let pads = { top: p.top, bottom: p.bottom, left: p.left, right: p.right };
    let groups: number; // how many partial filters are summed: N, N·W or N·H
    if (foldWidth) {
      // x [N,H,W,C] -> [H, N·W·C] -> [1,H,1,N·W·C]; dy [N,oH,W,C·M] -> [oH,1,N·W·C,M].
      groups = n * w;
      xr = tf.reshape(n === 1 ? x : tf.transpose(tf.reshape(x, [n, h, w * c]), [1, 0, 2]), [1, h, 1, groups * c]);
      dr = tf.reshape(n === 1 ? dy : tf.transpose(tf.reshape(dy, [n, oh, w * c * m]), [1, 0, 2]), [oh, 1, groups * c, m]);
      pads = { ...pads, left: 0, right: 0 };
    } else if (foldHeight) {
      // x [N·H, W, C] -> [W, N·H·C] -> [1,1,W,N·H·C]; dy [N·H, oW, C·M] -> [1,oW,N·H·C,M].
      groups = n * h;
      xr = tf.reshape(tf.transpose(tf.reshape(x, [n * h, w, c]), [1, 0, 2]), [1, 1, w, groups * c]);
      dr = tf.reshape(tf.transpose(tf.reshape(dy, [n * h, ow, c * m]), [1, 0, 2]), [1, ow, groups * c, m]);
      pads = { ...pads, top: 0, bottom: 0 };
    } else {
      // x [N,H,W,C] -> [H·W, N·C] -> [1,H,W,N·C]; dy [N,oH,oW,C·M] -> [oH,oW,N·C,M].
      groups = n;
      xr = tf.reshape(n === 1 ? x : tf.transpose(tf.reshape(x, [n, h * w, c]), [1, 0, 2]), [1, h, w, n * c]);
      dr = tf.reshape(n === 1 ? dy : tf.transpose(tf.reshape(dy, [n, oh * ow, c * m]), [1, 0, 2]), [oh, ow, n * c, m]);
    }
    // [1, kh, kw, groups·C·M]: the valid extent of this correlation is exactly the filter size.
    const g = depthwiseConvExplicit(xr, dr, pads, true);
    if (groups === 1) return tf.reshape(g, [kh, kw, c, m]);
    // Sum over the groups (a middle axis): a broadcast batched matMul with ones is ~4× faster on wasm
    // than tf.sum over a middle axis.
    const ones = tf.ones([1, 1, groups]);
    return tf.reshape(tf.matMul(ones, tf.reshape(g, [kh * kw, groups, c * m])), [kh, kw, c, m]);
  });
}
