/*
 * Test hooks of the atomic writes, read from the environment only by the fault-injection tests (see
 * docs/reliability.md). Unset, they cost one environment lookup per write and change nothing.
 *
 * - OPENRETINA_TEST_SWAP_PAUSE_MS=<ms>: `replaceDirectoryAtomic` (and its synchronous twin) waits this long between
 *   moving the old folder aside and renaming the new one into place, so that a test can SIGKILL a process inside that
 *   window (when the target folder is missing) deterministically.
 * - OPENRETINA_TEST_ENOSPC=<text>[@<n>]: the n-th atomic write (default the first) of this process whose destination
 *   path contains <text> fails as a write on a full disk does (the system error `ENOSPC`, syscall `write`), after its
 *   temporary file or folder was created, so that the clean-up path runs.
 */

function swapPauseMs(): number {
  return Number(process.env.OPENRETINA_TEST_SWAP_PAUSE_MS ?? 0);
}

/** Waits between the two renames of a folder swap, when the test hook asks for it. */
export async function pauseInsideSwap(): Promise<void> {
  const ms = swapPauseMs();
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
}

/** {@link pauseInsideSwap} for the synchronous swap: the thread sleeps. */
export function pauseInsideSwapSync(): void {
  const ms = swapPauseMs();
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

let faultSpec: string | undefined;
let faultMatches = 0;

/** Throws the error of a full disk when the test hook names `destination` (see above). */
export function injectWriteFault(destination: string): void {
  const spec = process.env.OPENRETINA_TEST_ENOSPC;
  if (!spec) return;
  if (spec !== faultSpec) {
    faultSpec = spec; // a new setting counts from zero
    faultMatches = 0;
  }
  const [text, nth] = spec.split('@');
  if (!text || !destination.includes(text)) return;
  faultMatches++;
  if (faultMatches !== Number(nth ?? 1)) return;
  // the shape of the error Node gives for a failed write(2) on a file descriptor (no path: the caller adds it)
  throw Object.assign(new Error('ENOSPC: no space left on device, write'), { errno: -28, code: 'ENOSPC', syscall: 'write' });
}
