/**
 * Small helpers shared by the replacement kernels: reading kernel inputs/attrs, and turning
 * (possibly negative) explicit padding into "crop, then pad inside the conv".
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedAttrMap, NamedTensorInfoMap, Rank, Tensor, Tensor4D, Tensor5D } from '@tensorflow/tfjs-core';
import { BackendError } from '@openretina/contracts';

/** Padding of the two spatial axes of an NHWC tensor, in elements. May be negative (= crop). */
export interface Pads2D {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Padding of the three spatial axes of an NDHWC tensor, in elements. May be negative (= crop). */
export interface Pads3D extends Pads2D {
  front: number;
  back: number;
}

/** TF.js' explicit padding for NHWC convs: `[[0,0],[top,bottom],[left,right],[0,0]]`. */
export type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

/** The arguments TF.js passes to a kernel function. */
export type KernelArgs = Parameters<KernelFunc>[0];

/**
 * The named input of a kernel call as a `Tensor`. The engine passes the op's tensors straight through,
 * so this is normally the identity; a bare TensorInfo is wrapped (the wrapper only adds a reference
 * and is released by the surrounding `tf.tidy`). Call it inside `tf.tidy`.
 */
export function kernelInput<R extends Rank>(inputs: NamedTensorInfoMap, name: string, kernelName: string): Tensor<R> {
  const info = inputs[name];
  if (info == null) {
    throw new BackendError(`${kernelName}: missing kernel input '${name}'.`, { details: { kernelName, name } });
  }
  if (info instanceof tf.Tensor) return info as Tensor<R>;
  return tf.engine().makeTensorFromTensorInfo(info) as Tensor<R>;
}

/** The kernel attributes typed as the kernel's attribute interface (TF.js passes them untyped). */
export function kernelAttrs<A>(attrs: NamedAttrMap | undefined): A {
  return (attrs ?? {}) as unknown as A;
}

/** Throws a BackendError when a replacement kernel meets attributes it does not implement. */
export function unsupported(kernelName: string, what: string, details: Record<string, unknown>): never {
  throw new BackendError(
    `${kernelName} on the wasm backend (@openretina/backend replacement kernel) supports only stride 1, ` +
      `dilation 1 and NHWC/NDHWC data; got ${what}. Use the 'cpu' backend for this layer, or ` +
      `express the op with stride 1.`,
    { details: { kernelName, ...details } },
  );
}

/** Explicit NHWC padding for the two spatial axes; `'valid'` when all are zero. */
export function explicitPadding(p: Pads2D): ExplicitPadding | 'valid' {
  if (p.top === 0 && p.bottom === 0 && p.left === 0 && p.right === 0) return 'valid';
  return [
    [0, 0],
    [p.top, p.bottom],
    [p.left, p.right],
    [0, 0],
  ];
}

/**
 * Splits padding into a crop (for the negative parts, done with one 4-D slice) and the remaining
 * non-negative padding (which the caller hands to the conv as explicit padding, so no pad pass runs).
 */
export function cropNegative4D(x: Tensor4D, p: Pads2D): { x: Tensor4D; pads: Pads2D } {
  const ct = Math.max(0, -p.top);
  const cb = Math.max(0, -p.bottom);
  const cl = Math.max(0, -p.left);
  const cr = Math.max(0, -p.right);
  const pads = { top: Math.max(0, p.top), bottom: Math.max(0, p.bottom), left: Math.max(0, p.left), right: Math.max(0, p.right) };
  if (ct + cb + cl + cr === 0) return { x, pads };
  const [n, h, w, c] = x.shape;
  return { x: tf.slice(x, [0, ct, cl, 0], [n, h - ct - cb, w - cl - cr, c]), pads };
}

/** Pads (positive entries) and crops (negative entries) the three spatial axes of an NDHWC tensor. */
export function padOrCrop5D(x: Tensor5D, p: Pads3D): Tensor5D {
  const crop = [
    Math.max(0, -p.front),
    Math.max(0, -p.back),
    Math.max(0, -p.top),
    Math.max(0, -p.bottom),
    Math.max(0, -p.left),
    Math.max(0, -p.right),
  ] as const;
  let y = x;
  if (crop.some((v) => v > 0)) {
    const [n, d, h, w, c] = x.shape;
    y = tf.slice(y, [0, crop[0], crop[2], crop[4], 0], [n, d - crop[0] - crop[1], h - crop[2] - crop[3], w - crop[4] - crop[5], c]);
  }
  const pad = [
    Math.max(0, p.front),
    Math.max(0, p.back),
    Math.max(0, p.top),
    Math.max(0, p.bottom),
    Math.max(0, p.left),
    Math.max(0, p.right),
  ] as const;
  if (pad.some((v) => v > 0)) {
    y = tf.pad(y, [
      [0, 0],
      [pad[0], pad[1]],
      [pad[2], pad[3]],
      [pad[4], pad[5]],
      [0, 0],
    ]);
  }
  return y;
}

/**
 * Padding for the "full" correlation that computes an input gradient at stride 1: the gradient of
 * `y = corr(pad(x, before, after), w)` w.r.t. `x` is `corr(pad(dy, k-1-before, ...), flip(w))`, and the
 * trailing pad is whatever makes the result exactly `inSize` long.
 */
export function transposedPads(k: number, before: number, inSize: number, outSize: number): [number, number] {
  const b = k - 1 - before;
  return [b, inSize + k - 1 - outSize - b];
}
