/**
 * @openretina/backend: chooses and initialises the TF.js backend (tfjs-node-gpu → tfjs-node → wasm → cpu)
 * and registers corrected or missing kernels on the wasm backend, so that training and MEI optimisation
 * get correct (and fast) gradients there.
 */
export { initBackend, currentBackend, BACKEND_ENV_VAR } from './init.js';
export type { BackendInfo, BackendKind, BackendRequest } from './init.js';
export { registerWasmKernels, stockWasmKernel, WASM_KERNELS } from './wasm-kernels.js';
export type { WasmKernelInfo } from './wasm-kernels.js';
export { fastDepthwiseConv2d, fastTapCount } from './depthwise.js';
export type { DepthwisePadding } from './depthwise.js';
export type { ExplicitPadding } from './kernels/common.js';
