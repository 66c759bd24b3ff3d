/**
 * Depthwise convolution with the XNNPACK "tap count" workaround.
 *
 * On the wasm backend (TF.js 4.22.0, XNNPACK) a depthwise conv with channel multiplier 1 is fast only
 * when the filter has 3, 4, 9 or 25 taps (kh·kw); every other tap count falls back to a generic path that
 * is 3–12× slower (measured: `[8,30,48,128]` input, 9 taps 4 ms, 25 taps 10 ms, 11 taps 24 ms, 21 taps
 * 38 ms; with 2048 channels 25 taps 12 ms vs 21 taps 269 ms). With a channel multiplier > 1 the tap
 * count does not matter. For 1-D filters (`[k,1,C,1]` or `[1,k,C,1]`) we therefore zero-pad the taps up
 * to the next fast count (and extend the input padding on that side by the same amount, so the output
 * is unchanged), and split filters longer than 25 taps into chunks of 25 whose outputs are summed.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor4D } from '@tensorflow/tfjs-core';
import { BackendError } from '@openretina/contracts';
import { cropNegative4D, explicitPadding, type ExplicitPadding, type Pads2D } from './kernels/common.js';

/** Tap counts for which XNNPACK has a fast depthwise micro-kernel (measured, multiplier 1). */
const FAST_TAPS: readonly number[] = [3, 4, 9, 25];
/** Largest fast tap count; longer 1-D filters are split into chunks of this many taps. */
const MAX_FAST_TAPS = 25;

/**
 * The tap count a 1-D depthwise filter of `k` taps is padded to on wasm: `k` itself when it is 1 or
 * already fast, otherwise the next of 3, 4, 9, 25 (above 25 the filter is split into chunks of 25).
 */
export function fastTapCount(k: number): number {
  if (k <= 1 || FAST_TAPS.includes(k)) return k;
  for (const t of FAST_TAPS) if (t >= k) return t;
  return Math.ceil(k / MAX_FAST_TAPS) * MAX_FAST_TAPS;
}

/** True when XNNPACK has a fast multiplier-1 depthwise kernel for this many taps. */
export function isFastTapCount(taps: number): boolean {
  return FAST_TAPS.includes(taps);
}

/** Which axis of a `[kh,kw,C,1]` filter should get tap padding: 0 (height), 1 (width) or none. */
function slowTapAxis(kh: number, kw: number, multiplier: number): 0 | 1 | null {
  if (multiplier !== 1) return null;
  if (kw === 1 && kh > 1 && !FAST_TAPS.includes(kh)) return 0;
  if (kh === 1 && kw > 1 && !FAST_TAPS.includes(kw)) return 1;
  return null;
}

/**
 * Depthwise correlation at stride 1 / dilation 1 with explicit (possibly negative) padding, using tap
 * padding / chunking when `tapPadding` is set. Differentiable (built from tf ops). Call inside `tf.tidy`.
 */
export function depthwiseConvExplicit(x: Tensor4D, filter: Tensor4D, pads: Pads2D, tapPadding: boolean): Tensor4D {
  const [kh, kw, , multiplier] = filter.shape;
  const axis = tapPadding ? slowTapAxis(kh, kw, multiplier) : null;
  if (axis === null) {
    const c = cropNegative4D(x, pads);
    return tf.depthwiseConv2d(c.x, filter, 1, explicitPadding(c.pads));
  }
  const k = axis === 0 ? kh : kw;
  const before = axis === 0 ? pads.top : pads.left;
  const after = axis === 0 ? pads.bottom : pads.right;
  const withTapPads = (b: number, a: number): Pads2D => (axis === 0 ? { ...pads, top: b, bottom: a } : { ...pads, left: b, right: a });

  if (k <= MAX_FAST_TAPS) {
    // Zero taps appended at the end read `extra` more input rows: pad those rows at the far side.
    const extra = fastTapCount(k) - k;
    const f = tf.pad(
      filter,
      axis === 0
        ? [
            [0, extra],
            [0, 0],
            [0, 0],
            [0, 0],
          ]
        : [
            [0, 0],
            [0, extra],
            [0, 0],
            [0, 0],
          ],
    );
    const c = cropNegative4D(x, withTapPads(before, after + extra));
    return tf.depthwiseConv2d(c.x, f, 1, explicitPadding(c.pads));
  }

  // Chunk [s, e) of the taps sees the input shifted by s: the output keeps its length when the
  // leading pad shrinks by s and the trailing pad shrinks by the taps after the chunk (k - e).
  const parts: Tensor4D[] = [];
  const inLength = x.shape[axis + 1] as number;
  for (let s = 0; s < k; s += MAX_FAST_TAPS) {
    const e = Math.min(k, s + MAX_FAST_TAPS);
    const b = before - s;
    const a = after - (k - e);
    // A chunk whose window lies entirely in the zero padding contributes nothing (and cannot be cropped).
    if (inLength + Math.min(0, b) + Math.min(0, a) <= 0) continue;
    const chunk = axis === 0 ? tf.slice(filter, [s, 0, 0, 0], [e - s, -1, -1, -1]) : tf.slice(filter, [0, s, 0, 0], [-1, e - s, -1, -1]);
    parts.push(depthwiseConvExplicit(x, chunk, withTapPads(b, a), true));
  }
  if (parts.length === 0) {
    const [n, h, w, c] = x.shape;
    return tf.zeros([n, h + pads.top + pads.bottom - kh + 1, w + pads.left + pads.right - kw + 1, c * multiplier]);
  }
  return parts.length === 1 ? (parts[0] as Tensor4D) : tf.addN(parts);
}

/** Padding accepted by {@link fastDepthwiseConv2d}: TF.js' modes, a number, or explicit NHWC padding. */
export type DepthwisePadding = 'valid' | 'same' | number | ExplicitPadding;

/**
 * `tf.depthwiseConv2d(x, filter, 1, pad)`, but fast on wasm for 1-D filters with awkward tap counts.
 *
 * Use it for the temporal depthwise conv of a space–time separable layer: `x` is `[B, T, H·W, C]`
 * and `filter` `[kt, 1, C, 1]` (kt = 21 or 11 pads to 25 taps; 30 or 50 taps are split into chunks of
 * 25). On other backends, for 2-D filters and for channel multipliers > 1 it simply calls
 * `tf.depthwiseConv2d`. Stride and dilation are 1. The result is identical (up to float32 rounding,
 * since zero taps add exact zeros) and differentiable with respect to `x` and `filter`.
 *
 * @param x NHWC input `[N, H, W, C]`.
 * @param filter `[kh, kw, C, M]`.
 * @param pad `'valid'` (default), `'same'`, a number, or `[[0,0],[top,bottom],[left,right],[0,0]]`.
 */
export function fastDepthwiseConv2d(x: Tensor4D, filter: Tensor4D, pad: DepthwisePadding = 'valid'): Tensor4D {
  if (x.rank !== 4 || filter.rank !== 4) {
    throw new BackendError(`fastDepthwiseConv2d: expected a rank-4 input and filter, got ranks ${x.rank} and ${filter.rank}.`, {
      details: { xShape: x.shape, filterShape: filter.shape },
    });
  }
  if (tf.getBackend() !== 'wasm') return tf.depthwiseConv2d(x, filter, 1, pad);
  const [kh, kw, , multiplier] = filter.shape;
  if (slowTapAxis(kh, kw, multiplier) === null) return tf.depthwiseConv2d(x, filter, 1, pad);
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(x.shape, filter.shape, 1, 1, pad, undefined, true);
    return depthwiseConvExplicit(x, filter, info.padInfo, true);
  });
}
