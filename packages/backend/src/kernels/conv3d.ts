/**
 * `Conv3DBackpropInputV2` for wasm. The stock wasm kernel of TF.js 4.22.0 returns wrong values (relative
 * error 0.4–1.0 on every shape tried, e.g. filter [2,3] along depth and dy [1,10,100] give
 * [2,23,30,0] instead of [2,23,230,300]), so conv3d input gradients — and with them training and
 * MEI optimisation of every conv3d layer but the last — are silently wrong. The forward Conv3D and
 * Conv3DBackpropFilterV2 of wasm are correct, so the input gradient is rebuilt from the forward op:
 * `dx = conv3d(pad(dy, k-1-p), flip(w) with in/out channels swapped)`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Conv3DBackpropInputV2Attrs, Tensor, Tensor5D } from '@tensorflow/tfjs-core';
import { kernelAttrs, kernelInput, padOrCrop5D, transposedPads, unsupported, type KernelArgs } from './common.js';

export function conv3DBackpropInputV2(args: KernelArgs): Tensor {
  const name = 'Conv3DBackpropInputV2';
  const a = kernelAttrs<Conv3DBackpropInputV2Attrs>(args.attrs);
  return tf.tidy(() => {
    const dy = kernelInput<tf.Rank.R5>(args.inputs, 'dy', name);
    const w = kernelInput<tf.Rank.R5>(args.inputs, 'filter', name);
    // `pad` may be 'valid', 'same' or a number (the cpu backend accepts all three).
    const info = tf.backend_util.computeConv3DInfo(a.inputShape, w.shape, a.strides, 1, a.pad as 'valid' | 'same' | number);
    if (info.strideDepth !== 1 || info.strideHeight !== 1 || info.strideWidth !== 1) {
      unsupported(name, `strides [${info.strideDepth}, ${info.strideHeight}, ${info.strideWidth}]`, { strides: a.strides });
    }
    const p = info.padInfo;
    const [front, back] = transposedPads(info.filterDepth, p.front, info.inDepth, info.outDepth);
    const [top, bottom] = transposedPads(info.filterHeight, p.top, info.inHeight, info.outHeight);
    const [left, right] = transposedPads(info.filterWidth, p.left, info.inWidth, info.outWidth);
    const dyP = padOrCrop5D(dy, { front, back, top, bottom, left, right });
    // [kd,kh,kw,Ci,Co] -> flipped in space, [kd,kh,kw,Co,Ci] (a small tensor: the 5-D transpose is cheap).
    const wT = tf.transpose(tf.reverse(w, [0, 1, 2]), [0, 1, 2, 4, 3]) as Tensor5D;
    return tf.conv3d(dyP, wT, 1, 'valid');
  });
}
