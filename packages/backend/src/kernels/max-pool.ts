/**
 * `MaxPoolGrad` for wasm. The stock TF.js 4.22.0 wasm kernel returns wrong input gradients for some shapes
 * (e.g. a 2×2/2 pool on a 4×4 or 6×6 image), which silently breaks training of cores with max-pooling.
 * This replacement routes each output gradient to the first maximum of its window (scan order h, then w),
 * as the cpu backend and PyTorch do. It runs in JavaScript on the host copies of x and dy: pooling inputs
 * in these models are small and the loop is O(output × window).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MaxPoolGradAttrs, Tensor } from '@tensorflow/tfjs-core';
import { kernelAttrs, kernelInput, unsupported, type KernelArgs } from './common.js';

export function maxPoolGrad(args: KernelArgs): Tensor {
  const name = 'MaxPoolGrad';
  const { filterSize, strides, pad, dimRoundingMode } = kernelAttrs<MaxPoolGradAttrs>(args.attrs);
  return tf.tidy(() => {
    const dy = kernelInput(args.inputs, 'dy', name);
    const x = kernelInput(args.inputs, 'input', name);
    if (x.rank !== 4) unsupported(name, `a rank-${x.rank} input`, { shape: x.shape });
    const info = tf.backend_util.computePool2DInfo(
      x.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const [batch, inH, inW, channels] = x.shape as [number, number, number, number];
    const { outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const xs = x.dataSync();
    const dys = dy.dataSync();
    const dx = new Float32Array(x.size);
    for (let b = 0; b < batch; b++) {
      for (let oh = 0; oh < outHeight; oh++) {
        const h0 = oh * strideHeight - top;
        for (let ow = 0; ow < outWidth; ow++) {
          const w0 = ow * strideWidth - left;
          for (let c = 0; c < channels; c++) {
            let best = -Infinity;
            let bestIndex = -1;
            for (let fh = 0; fh < filterHeight; fh++) {
              const h = h0 + fh;
              if (h < 0 || h >= inH) continue;
              for (let fw = 0; fw < filterWidth; fw++) {
                const w = w0 + fw;
                if (w < 0 || w >= inW) continue;
                const index = ((b * inH + h) * inW + w) * channels + c;
                const v = xs[index]!;
                if (v > best || bestIndex < 0) {
                  best = v;
                  bestIndex = index;
                }
              }
            }
            if (bestIndex >= 0) dx[bestIndex]! += dys[((b * outHeight + oh) * outWidth + ow) * channels + c]!;
          }
        }
      }
    }
    return tf.tensor4d(dx, x.shape as [number, number, number, number]);
  });
}
