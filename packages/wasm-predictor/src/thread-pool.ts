import { BackendError } from '@openretina/contracts';
import { CONTROL, OP, WORKER_SOURCE } from './worker-source.js';

/*
 * Worker threads that run kernel jobs on the shared memory, the calling thread taking the first share. Jobs are
 * posted through the control block at byte 0 of the memory, not by messages: a dispatch is a store and a notify, and
 * the caller waits for the workers by watching the done counter (a browser's main thread may not block in
 * `Atomics.wait`; its own share takes as long as theirs, so the wait is short).
 */

/** What the pool needs of a Worker (the browser's or worker_threads'). */
interface WorkerLike {
  postMessage(message: unknown): void;
  terminate(): unknown;
}

async function startWorker(id: number, module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<WorkerLike> {
  const message = { module, memory, id };
  const node = typeof process === 'object' && typeof process.versions?.node === 'string';
  if (!node) {
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    const worker = new Worker(url);
    try {
      await new Promise<void>((resolve, reject) => {
        worker.onmessage = () => resolve();
        worker.onerror = (e) => reject(new BackendError(`A kernel worker failed to start: ${e.message}`));
        worker.postMessage(message);
      });
    } finally {
      URL.revokeObjectURL(url);
    }
    return worker;
  }
  // Node: worker_threads, imported by a computed name so that browser bundles leave it out
  const name = 'node:worker_threads';
  const threads = (await import(/* @vite-ignore */ name)) as typeof import('node:worker_threads');
  const worker = new threads.Worker(WORKER_SOURCE, { eval: true });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', (e) => reject(new BackendError(`A kernel worker failed to start: ${e.message}`)));
    worker.postMessage(message);
  });
  worker.unref(); // an idle pool does not keep the process alive
  return worker;
}

export class ThreadPool {
  private readonly control: Int32Array;
  private stopped = false;

  private constructor(
    private readonly workers: readonly WorkerLike[],
    memory: WebAssembly.Memory,
    private readonly convBlock: (...args: number[]) => void,
  ) {
    this.control = new Int32Array(memory.buffer, 0, CONTROL.bytes / 4);
  }

  /** `threads − 1` workers on `memory` (shared), each with its own instance of `module`. */
  static async start(
    threads: number,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    convBlock: (...args: number[]) => void,
  ): Promise<ThreadPool> {
    const workers = await Promise.all(Array.from({ length: threads - 1 }, (_, w) => startWorker(w + 1, module, memory)));
    return new ThreadPool(workers, memory, convBlock);
  }

  /** Threads that share a dispatch, the caller's included. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * Wakes the workers ahead of the next jobs (they then watch for them for `SPIN_MS`): the caller's work before its
   * first dispatch hides their wake-up.
   */
  wake(): void {
    if (this.stopped) return;
    const c = this.control;
    for (let w = 1; w < this.threads; w++) c[CONTROL.job(w)] = OP.wake;
    Atomics.add(c, CONTROL.seq, 1);
    Atomics.notify(c, CONTROL.seq);
  }

  /** Runs `jobs[t]` (arguments of `convBlock`, or undefined: nothing) on thread t, the first here; returns when all are done. */
  runConvBlocks(jobs: readonly (readonly number[] | undefined)[]): void {
    if (this.stopped) throw new BackendError('The kernel threads were stopped.');
    const c = this.control;
    for (let w = 1; w < this.threads; w++) {
      const base = CONTROL.job(w);
      const job = jobs[w];
      c[base] = job ? OP.convBlock : OP.none;
      c[base + 1] = job?.length ?? 0;
      if (job) c.set(job, base + 2);
    }
    Atomics.store(c, CONTROL.done, 0);
    Atomics.store(c, CONTROL.counter, 0);
    Atomics.add(c, CONTROL.seq, 1);
    Atomics.notify(c, CONTROL.seq);
    const own = jobs[0];
    if (own) this.convBlock(...own);
    const others = this.workers.length;
    while (Atomics.load(c, CONTROL.done) < others) {
      // the workers' shares end about when ours did
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    Atomics.store(this.control, CONTROL.stop, 1);
    Atomics.add(this.control, CONTROL.seq, 1);
    Atomics.notify(this.control, CONTROL.seq);
    for (const w of this.workers) void w.terminate();
  }
}
