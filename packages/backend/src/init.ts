/**
 * Backend selection: tfjs-node-gpu → tfjs-node → wasm → cpu.
 *
 * `@tensorflow/tfjs-node(-gpu)` are optional peer dependencies: they download libtensorflow at install
 * time, so most installs will not have them. They are loaded with a dynamic `import()` of a computed
 * specifier, so bundlers and type checkers never require them. `@tensorflow/tfjs-backend-wasm` is a
 * regular dependency but is also imported lazily: importing it registers wasm as the highest-priority
 * backend, which would make the first tensor op start an uninitialised wasm backend.
 */
import * as tf from '@tensorflow/tfjs-core';
// Registers the 'cpu' backend (the last resort of 'auto'); tfjs-core alone has no backend.
import '@tensorflow/tfjs-backend-cpu';
// TF.js gradients (tfjs-core registers none by itself); training needs them on every backend.
import '@openretina/layers/register-gradients';
import { BackendError } from '@openretina/contracts';
import { registerWasmKernels } from './wasm-kernels.js';

/** A concrete backend to ask for. `'tensorflow-gpu'` and `'tensorflow'` both run as TF.js' `'tensorflow'` backend. */
export type BackendKind = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
/** What {@link initBackend} accepts: `'auto'` or a concrete kind. */
export type BackendRequest = 'auto' | BackendKind;

/** The outcome of {@link initBackend}. */
export interface BackendInfo {
  /** TF.js' name of the active backend: `'tensorflow'`, `'wasm'` or `'cpu'` (what `tf.getBackend()` returns). */
  readonly name: string;
  /** Which kind was taken (`'other'` for a backend set outside `initBackend`, e.g. `'webgl'`). */
  readonly kind: BackendKind | 'other';
  /** Human-readable account of what was tried and why this one was taken. */
  readonly reason: string;
}

/** Environment variable that overrides `initBackend('auto')` (values: auto, tensorflow-gpu, tensorflow, wasm, cpu). */
export const BACKEND_ENV_VAR = 'OPENRETINA_BACKEND';

const KINDS: readonly BackendKind[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

const NODE_PACKAGES = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
} as const;

/** Result of one attempt: either the backend is active, or why not. */
type Attempt = { ok: true; note: string } | { ok: false; note: string; cause: unknown };

let lastInfo: BackendInfo | null = null;

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

function envValue(name: string): string | undefined {
  if (typeof process === 'undefined' || process.env == null) return undefined;
  const v = process.env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function messageOf(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] ?? msg;
}

/** True when `err` says that `pkg` itself (not one of its dependencies) could not be found. */
function isNotInstalled(err: unknown, pkg: string): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  const msg = messageOf(err);
  const notFound =
    code === 'ERR_MODULE_NOT_FOUND' ||
    code === 'MODULE_NOT_FOUND' ||
    /Cannot find (module|package)|Could not resolve|Failed to (load|resolve)/i.test(msg);
  return notFound && msg.includes(pkg);
}

/** Dynamic import of a module whose name is not known to bundlers / tsc (optional peers, Node built-ins). */
async function importOptional(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tf.setBackend('${name}') returned false (the backend failed to initialise; see the warning above)`);
  await tf.ready();
}

async function tryTensorflow(kind: 'tensorflow-gpu' | 'tensorflow'): Promise<Attempt> {
  const pkg = NODE_PACKAGES[kind];
  const short = pkg.replace('@tensorflow/', '');
  if (!isNode()) return { ok: false, note: `${short} skipped (not running in Node.js)`, cause: undefined };
  try {
    await importOptional(pkg);
  } catch (err) {
    const what = isNotInstalled(err, pkg) ? 'not installed' : 'failed to load';
    return { ok: false, note: `${short} ${what} (${messageOf(err)})`, cause: err };
  }
  if (tf.findBackendFactory('tensorflow') == null) {
    const err = new Error(
      `${pkg} loaded, but its 'tensorflow' backend is not registered with this copy of @tensorflow/tfjs-core ` +
        `(the versions must match: @tensorflow/tfjs-core ${tf.version_core})`,
    );
    return { ok: false, note: `${short} unusable (${err.message})`, cause: err };
  }
  try {
    await activate('tensorflow');
  } catch (err) {
    return { ok: false, note: `${short} failed to initialise (${messageOf(err)})`, cause: err };
  }
  return { ok: true, note: `using ${short}` };
}

interface WasmModule {
  setWasmPaths(prefixOrFileMap: string | Record<string, string>, usePlatformFetch?: boolean): void;
}

/** Directory holding the installed `.wasm` binaries, for `setWasmPaths` (Node only). */
async function wasmDistDir(): Promise<string | undefined> {
  if (!isNode()) return undefined;
  // Computed specifiers, like the optional peers': browser bundlers must not try to resolve Node built-ins.
  const { createRequire } = (await importOptional('node:module')) as typeof import('node:module');
  const { dirname, join } = (await importOptional('node:path')) as typeof import('node:path');
  // In the CJS build tsup shims import.meta.url (tsup `shims: true`).
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return `${join(dirname(pkgJson), 'dist')}/`;
}

async function tryWasm(): Promise<Attempt> {
  try {
    const mod = (await import('@tensorflow/tfjs-backend-wasm')) as unknown as WasmModule & { default?: WasmModule };
    const setWasmPaths = mod.setWasmPaths ?? mod.default?.setWasmPaths;
    // Paths must be set before the wasm backend initialises; afterwards they no longer matter.
    if (tf.engine().registry.wasm == null && setWasmPaths !== undefined) {
      const dir = await wasmDistDir();
      if (dir !== undefined) setWasmPaths(dir);
    }
    await activate('wasm');
    registerWasmKernels();
  } catch (err) {
    return { ok: false, note: `wasm failed (${messageOf(err)})`, cause: err };
  }
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return { ok: true, note: `using wasm (${simd ? 'SIMD' : 'no SIMD'}; corrected kernels registered)` };
}

async function tryCpu(): Promise<Attempt> {
  try {
    await activate('cpu');
  } catch (err) {
    return { ok: false, note: `cpu failed (${messageOf(err)})`, cause: err };
  }
  return { ok: true, note: 'using cpu' };
}

function attempt(kind: BackendKind): Promise<Attempt> {
  switch (kind) {
    case 'tensorflow-gpu':
    case 'tensorflow':
      return tryTensorflow(kind);
    case 'wasm':
      return tryWasm();
    case 'cpu':
      return tryCpu();
  }
}

function parseRequest(value: string, source: string): BackendRequest {
  if (value === 'auto' || (KINDS as readonly string[]).includes(value)) return value as BackendRequest;
  throw new BackendError(`Unknown backend '${value}' (from ${source}). Expected one of: auto, ${KINDS.join(', ')}.`, {
    details: { value, source },
  });
}

function done(info: BackendInfo): BackendInfo {
  lastInfo = info;
  return info;
}

/**
 * Chooses and initialises the TF.js backend.
 *
 * - `'auto'` (default) tries `@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node`, then `wasm`,
 *   then `cpu`, and reports in `reason` what it took and why, e.g.
 *   `"tfjs-node-gpu not installed (Cannot find package ...); tfjs-node not installed (...); using wasm (SIMD; ...)"`.
 *   The environment variable `OPENRETINA_BACKEND` (auto | tensorflow-gpu | tensorflow | wasm | cpu)
 *   overrides `'auto'`.
 * - An explicit kind is taken or fails with a {@link BackendError} naming the kind and the cause.
 *
 * On wasm it also registers the corrected and missing kernels ({@link registerWasmKernels}).
 * Await it before creating any tensor.
 */
export async function initBackend(kind: BackendRequest = 'auto'): Promise<BackendInfo> {
  let request = parseRequest(kind, 'initBackend argument');
  let prefix = '';
  if (request === 'auto') {
    const env = envValue(BACKEND_ENV_VAR);
    if (env !== undefined) {
      request = parseRequest(env, `environment variable ${BACKEND_ENV_VAR}`);
      if (request !== 'auto') prefix = `${BACKEND_ENV_VAR}=${env}; `;
    }
  }

  if (request !== 'auto') {
    const r = await attempt(request);
    if (!r.ok) {
      throw new BackendError(`Backend '${request}' is unavailable: ${r.note}.`, { cause: r.cause, details: { kind: request } });
    }
    return done({ name: tf.getBackend(), kind: request, reason: `${prefix}requested '${request}'; ${r.note}` });
  }

  const notes: string[] = [];
  for (const k of KINDS) {
    const r = await attempt(k);
    notes.push(r.note);
    if (r.ok) return done({ name: tf.getBackend(), kind: k, reason: notes.join('; ') });
  }
  throw new BackendError(`No TF.js backend could be initialised: ${notes.join('; ')}.`);
}

function kindOf(name: string): BackendKind | 'other' {
  return name === 'wasm' || name === 'cpu' || name === 'tensorflow' ? name : 'other';
}

/**
 * The active backend, or `null` when none is initialised yet. Returns what the last
 * {@link initBackend} call reported while that backend is still active; a backend set by other means
 * (`tf.setBackend`) is reported with a reason saying so. Has no side effects (unlike `tf.getBackend()`,
 * it does not initialise a backend).
 */
export function currentBackend(): BackendInfo | null {
  const name = tf.engine().backendName as string | null | undefined;
  if (name == null) return null;
  if (lastInfo !== null && lastInfo.name === name) return lastInfo;
  return { name, kind: kindOf(name), reason: `'${name}' was set outside initBackend()` };
}
