/**
 * Registration of the corrected / missing kernels on TF.js' `wasm` backend.
 *
 * Every replacement is built only from forward ops that wasm has (conv2d, conv3d, depthwiseConv2d,
 * matMul, pad, slice, reverse, 3-D transposes, sum); the kernel functions call tf ops inside `tf.tidy`,
 * so intermediates are released and only the result tensor survives. Ops called inside a kernel are
 * not recorded on the gradient tape (TF.js stops recording while a kernel runs).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { BackendError } from '@openretina/contracts';
import type { KernelArgs } from './kernels/common.js';
import { conv2DBackpropFilter, conv2DBackpropInput, useConv2DBackpropInputRewrite } from './kernels/conv2d.js';
import { conv3DBackpropInputV2 } from './kernels/conv3d.js';
import { depthwiseConv2dNativeBackpropFilter, depthwiseConv2dNativeBackpropInput } from './kernels/depthwise.js';
import { maxPoolGrad } from './kernels/max-pool.js';
import { unsortedSegmentSum } from './kernels/segment.js';

/** Marks our kernel functions, so that registration is idempotent even across package copies (ESM + CJS). */
const OURS = Symbol.for('@openretina/backend:wasm-kernel');

/** The kernels we register on wasm, why, and how. */
export interface WasmKernelInfo {
  readonly kernelName: string;
  /** `'replaced'`: wasm has a stock kernel that we override; `'added'`: wasm has none. */
  readonly action: 'replaced' | 'added';
  readonly why: string;
}

export const WASM_KERNELS: readonly WasmKernelInfo[] = [
  {
    kernelName: 'Conv3DBackpropInputV2',
    action: 'replaced',
    why: 'stock wasm kernel returns wrong values (TF.js 4.22.0); rebuilt as conv3d of the padded dy with the flipped filter',
  },
  {
    kernelName: 'Conv2DBackpropInput',
    action: 'replaced',
    why: 'stock wasm kernel is a scalar loop; rewritten as one XNNPACK conv2d, 2–8× faster (the stock kernel still runs for strides > 1 and where a cost model says it is faster)',
  },
  { kernelName: 'Conv2DBackpropFilter', action: 'added', why: 'missing on wasm; rewritten as one conv2d over the batch' },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropInput',
    action: 'added',
    why: 'missing on wasm; multiplier-1 depthwise conv of dy with the flipped filter, then a sum over the multiplier',
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropFilter',
    action: 'added',
    why: 'missing on wasm; depthwise conv of x (batch in channels) with dy as the filter',
  },
  { kernelName: 'UnsortedSegmentSum', action: 'added', why: 'missing on wasm (gradient of tf.gather); oneHot(ids)^T · x' },
  {
    kernelName: 'MaxPoolGrad',
    action: 'replaced',
    why: 'stock wasm kernel returns wrong input gradients for some shapes (TF.js 4.22.0); routes each gradient to the first maximum of its window',
  },
];

/** Stock wasm kernels we replaced, kept for diagnostics and for falling back on unsupported attributes. */
const stockKernels = new Map<string, KernelConfig>();
/** Backends on which a stock kernel's setupFunc has run (it may not have, if we replaced it before init). */
const stockSetupDone = new WeakMap<KernelConfig, WeakSet<object>>();

/** Calls a saved stock kernel, running its setup function for this backend first if needed. */
function callStock(kernelName: string, args: KernelArgs): TensorInfo | TensorInfo[] {
  const stock = stockKernels.get(kernelName);
  if (stock === undefined) {
    throw new BackendError(`${kernelName}: no stock wasm kernel to fall back on for these attributes.`, { details: { kernelName } });
  }
  let done = stockSetupDone.get(stock);
  if (done === undefined) {
    done = new WeakSet();
    stockSetupDone.set(stock, done);
  }
  if (!done.has(args.backend)) {
    stock.setupFunc?.(args.backend);
    done.add(args.backend);
  }
  return stock.kernelFunc(args);
}

function kernelFuncs(): Record<string, KernelFunc> {
  return {
    Conv3DBackpropInputV2: conv3DBackpropInputV2,
    Conv2DBackpropInput: (args) =>
      useConv2DBackpropInputRewrite(args) ? conv2DBackpropInput(args) : callStock('Conv2DBackpropInput', args),
    Conv2DBackpropFilter: conv2DBackpropFilter,
    DepthwiseConv2dNativeBackpropInput: depthwiseConv2dNativeBackpropInput,
    DepthwiseConv2dNativeBackpropFilter: depthwiseConv2dNativeBackpropFilter,
    MaxPoolGrad: maxPoolGrad,
    UnsortedSegmentSum: unsortedSegmentSum,
  };
}

function isOurs(config: KernelConfig | undefined): boolean {
  return config !== undefined && (config.kernelFunc as unknown as Record<symbol, unknown>)[OURS] === true;
}

/**
 * Registers the corrected and missing kernels (see {@link WASM_KERNELS}) on the `wasm` backend.
 * Idempotent. `initBackend('wasm' | 'auto')` calls it; call it yourself only when you set the wasm
 * backend up without `initBackend`. `@tensorflow/tfjs-backend-wasm` must already be loaded (its import
 * registers the stock kernels, which would otherwise overwrite ours later).
 *
 * @returns the names of the kernels that are now ours on wasm.
 * @throws BackendError when `@tensorflow/tfjs-backend-wasm` has not been loaded yet.
 */
export function registerWasmKernels(): string[] {
  if (tf.getKernelsForBackend('wasm').length === 0) {
    throw new BackendError(
      "registerWasmKernels(): @tensorflow/tfjs-backend-wasm is not loaded yet. Call initBackend('wasm') " +
        "(which loads it and registers the kernels) or import '@tensorflow/tfjs-backend-wasm' first.",
    );
  }
  const funcs = kernelFuncs();
  for (const { kernelName } of WASM_KERNELS) {
    const existing = tf.getKernel(kernelName, 'wasm') as KernelConfig | undefined;
    if (isOurs(existing)) continue;
    if (existing !== undefined) {
      if (!stockKernels.has(kernelName)) stockKernels.set(kernelName, existing);
      tf.unregisterKernel(kernelName, 'wasm');
    }
    const func = funcs[kernelName];
    if (func === undefined) throw new BackendError(`internal: no replacement for ${kernelName}`);
    const marked: KernelFunc = (args) => func(args);
    Object.defineProperty(marked, OURS, { value: true });
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: marked });
  }
  return WASM_KERNELS.map((k) => k.kernelName);
}

/**
 * The stock wasm kernel that {@link registerWasmKernels} replaced (`undefined` if none was replaced).
 * For diagnostics and tests, e.g. to check whether upstream has fixed `Conv3DBackpropInputV2`. If the
 * wasm backend was initialised after the replacement, run `config.setupFunc?.(tf.backend())` before
 * calling `config.kernelFunc`.
 */
export function stockWasmKernel(kernelName: string): KernelConfig | undefined {
  return stockKernels.get(kernelName);
}
