/*
 * The code of a kernel worker, as text: a worker is started from it (a Blob URL in browsers, `eval` in Node's
 * worker_threads), so that no bundler needs to know about a separate worker file. It instantiates the shared-memory
 * kernels on the memory it is sent, says so, then waits on the control block until the host posts a job (see
 * thread-pool.ts), runs it, counts itself done, watches for the next job for `SPIN_MS` and then sleeps.
 */

/** Control block (Int32 slots at byte 0 of the shared memory). */
export const CONTROL = {
  /** Bumped by the host for every dispatch (workers wait on it). */
  seq: 0,
  /** 1: the workers return. */
  stop: 1,
  /** Workers that finished the current dispatch. */
  done: 2,
  /** The pieces counter of convBlock (its byte offset is `4 · counter`). */
  counter: 3,
  /** Slots of worker w's job: `[op, argument count, ...arguments]`. */
  job: (w: number) => 16 + 32 * w,
  /** Bytes the control block takes (the kernels' data starts after them). */
  bytes: 4096,
} as const;

/** The operations a job names. */
export const OP = { none: 0, convBlock: 1, wake: 2 } as const;

/**
 * How long a worker keeps watching for the next job before it sleeps (ms): the jobs of one prediction (one per
 * layer) come within a fraction of that, and a sleeping thread takes long to wake on a virtual machine (a cold
 * 2-thread prediction took as long as a 1-thread one in Chromium here, bench/ANALYSIS.md).
 */
export const SPIN_MS = 2;

export const WORKER_SOURCE = `
const start = (message, reply) => {
  const { module, memory, id } = message;
  const kernels = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('kernel abort'); } } }).exports;
  const control = new Int32Array(memory.buffer, 0, ${CONTROL.bytes / 4});
  const base = ${CONTROL.job(0)} + 32 * id;
  let seq = Atomics.load(control, ${CONTROL.seq});
  const next = () => {
    const until = performance.now() + ${SPIN_MS};
    while (performance.now() < until) if (Atomics.load(control, ${CONTROL.seq}) !== seq) return;
    Atomics.wait(control, ${CONTROL.seq}, seq);
  };
  reply('ready');
  for (;;) {
    next();
    seq = Atomics.load(control, ${CONTROL.seq});
    if (Atomics.load(control, ${CONTROL.stop}) === 1) return;
    const op = control[base];
    if (op === ${OP.wake}) continue; // only woken ahead of a job: watch for it
    if (op === ${OP.convBlock}) kernels.convBlock(...control.subarray(base + 2, base + 2 + control[base + 1]));
    Atomics.add(control, ${CONTROL.done}, 1);
    Atomics.notify(control, ${CONTROL.done});
  }
};
if (typeof require === 'function') {
  const { parentPort } = require('node:worker_threads');
  parentPort.once('message', (m) => start(m, (r) => parentPort.postMessage(r)));
} else {
  self.onmessage = (e) => start(e.data, (r) => self.postMessage(r));
}
`;
