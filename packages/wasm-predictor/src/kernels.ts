import { BackendError } from '@openretina/contracts';
import { KERNELS_WASM_BASE64, SHARED_KERNELS_WASM_BASE64, SHARED_MAXIMUM_PAGES } from './kernels-binary.js';
import { ThreadPool } from './thread-pool.js';
import { CONTROL } from './worker-source.js';

/*
 * The compiled kernels (assembly/kernels.ts, embedded as base64 so that every bundler and runtime loads them without
 * fetching a file) and one instance of them: on a memory of its own (one thread), or on a shared memory with worker
 * threads that take shares of each layer.
 */

/** The kernels' exports; pointers are byte offsets into the instance's memory (see assembly/kernels.ts). */
export interface KernelExports {
  convBlock(...args: number[]): void;
  readout(z: number, R: number, S: number, t0: number, w: number, N4: number, out: number, nT: number): void;
  toTimeLast(src: number, T: number, P: number, C: number, dst: number, S: number, off: number): void;
}

export interface Kernels {
  readonly exports: KernelExports;
  readonly memory: WebAssembly.Memory;
  /** Threads that share each layer (1: no pool). */
  readonly threads: number;
  /** Wakes the worker threads ahead of jobs (nothing with one thread). */
  wake(): void;
  /** Runs `jobs[t]` (convBlock's arguments) on thread t and returns when all are done. */
  runConvBlocks(jobs: readonly (readonly number[] | undefined)[]): void;
  /** Grows the memory to at least `bytes`; throws a `BackendError` past what the memory can hold. */
  reserve(bytes: number): void;
  dispose(): void;
}

const compiled = new Map<string, Promise<WebAssembly.Module>>();

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

let runtimeGap: string | null | undefined;

/** Why this runtime cannot run the kernels (no WebAssembly, or none with SIMD), or undefined when it can. */
export function runtimeUnsupported(): string | undefined {
  if (runtimeGap === undefined) {
    if (typeof WebAssembly !== 'object') runtimeGap = 'this runtime has no WebAssembly';
    else if (!WebAssembly.validate(decodeBase64(KERNELS_WASM_BASE64))) {
      runtimeGap = "this runtime's WebAssembly has no SIMD (Node ≥ 16.4, Chrome ≥ 91, Firefox ≥ 89, Safari ≥ 16.4 have it)";
    } else runtimeGap = null;
  }
  return runtimeGap ?? undefined;
}

/** A kernels module, compiled once per process or page. */
function kernelModule(base64: string): Promise<WebAssembly.Module> {
  let module = compiled.get(base64);
  if (!module) {
    module = (async () => {
      const gap = runtimeUnsupported();
      if (gap) throw new BackendError(`The WebAssembly predictor cannot run here: ${gap}.`);
      return WebAssembly.compile(decodeBase64(base64));
    })();
    module.catch(() => compiled.delete(base64)); // a failed compile is retried by the next caller
    compiled.set(base64, module);
  }
  return module;
}

const PAGE = 65536;

/** Whether this context can share memory with workers (browsers: only cross-origin isolated pages). */
export function canShareMemory(): boolean {
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return false;
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;
}

/**
 * Threads by default: half the cores the runtime reports, at most 4, 1 without shared memory. Half, because a
 * thread that the system preempts holds up the others at the end of each layer: on this project's 2-core virtual
 * machine, 2 threads in Chromium took 4.1–4.5 ms in some runs and 11–12 ms in others (median 11.3) where 1 thread
 * took 6.1–7.6 ms (bench/ANALYSIS.md, round ten), so a machine needs cores to spare for the browser's and the
 * system's own threads.
 */
export function defaultThreads(): number {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  return canShareMemory() ? Math.max(1, Math.min(4, Math.floor(cores / 2))) : 1;
}

/** A fresh instance of the kernels with `threads` threads (1: its own memory, no workers). */
export async function instantiateKernels(threads: number): Promise<Kernels> {
  const abort = () => {
    throw new BackendError('The WebAssembly predictor aborted (a kernel assertion failed).');
  };
  const shared = threads > 1;
  if (shared && !canShareMemory()) {
    throw new BackendError('Threads need shared memory: SharedArrayBuffer (in browsers, a cross-origin isolated page). Use threads: 1.');
  }
  const memory = shared
    ? new WebAssembly.Memory({ initial: 16, maximum: SHARED_MAXIMUM_PAGES, shared: true })
    : new WebAssembly.Memory({ initial: 16 });
  const module = await kernelModule(shared ? SHARED_KERNELS_WASM_BASE64 : KERNELS_WASM_BASE64);
  const exports = (await WebAssembly.instantiate(module, { env: { memory, abort } })).exports as unknown as KernelExports;
  const pool = shared ? await ThreadPool.start(threads, module, memory, exports.convBlock) : undefined;
  return {
    exports,
    memory,
    threads,
    wake() {
      pool?.wake();
    },
    runConvBlocks(jobs) {
      if (pool) pool.runConvBlocks(jobs);
      else if (jobs[0]) {
        new Int32Array(memory.buffer, 0, CONTROL.bytes / 4)[CONTROL.counter] = 0;
        exports.convBlock(...jobs[0]);
      }
    },
    reserve(bytes: number) {
      const have = memory.buffer.byteLength;
      if (bytes <= have) return;
      const pages = Math.ceil((bytes - have) / PAGE);
      try {
        memory.grow(pages);
      } catch (e) {
        throw new BackendError(
          `The WebAssembly predictor needs ${(bytes / 2 ** 20).toFixed(0)} MiB for this stimulus, more than its memory can grow to: predict shorter pieces of it.`,
          { cause: e },
        );
      }
    },
    dispose() {
      pool?.stop();
    },
  };
}
