import { ConfigError } from '@openretina/contracts';
import { OnnxGraph } from '../graph-builder.js';
import type { OrtLike } from '../ort.js';

/**
 * Where ONNX Runtime runs the engine's graphs (`--device`): `cpu` (MLAS, the default), `cuda` (onnxruntime-node's
 * CUDA execution provider: an NVIDIA GPU, CUDA 12 + cuDNN 9, and the provider library, which onnxruntime-node's
 * install script downloads on linux-x64 only when asked: `ONNXRUNTIME_NODE_INSTALL=cuda12`) or `webgpu`
 * (onnxruntime-node 1.30 bundles Dawn's WebGPU; in a browser, onnxruntime-web where `navigator.gpu` exists).
 */
export type Device = 'cpu' | 'cuda' | 'webgpu';

export const DEVICES: readonly Device[] = ['cpu', 'cuda', 'webgpu'];

/** Validates a device name (from `--device` or a config key). */
export function parseDevice(value: string | undefined, what = '--device'): Device {
  const v = value ?? 'cpu';
  if (!(DEVICES as readonly string[]).includes(v)) throw new ConfigError(`${what} must be cpu, cuda or webgpu, got "${v}".`);
  return v as Device;
}

/**
 * The execution providers of a device, in onnxruntime's order of preference: the device's own, then the CPU for
 * the nodes it does not implement (ONNX Runtime assigns each node to the first provider that has a kernel for it).
 */
export function executionProvidersFor(device: Device): string[] {
  return device === 'cpu' ? ['cpu'] : [device, 'cpu'];
}

/** What a device needs, said when it does not load. */
const NEEDS: Record<Device, string> = {
  cpu: 'onnxruntime',
  cuda: "an NVIDIA GPU with CUDA 12 and cuDNN 9 libraries on the library path, and onnxruntime-node's CUDA provider (linux-x64: reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12; its install script downloads the provider library)",
  webgpu:
    'a WebGPU adapter (onnxruntime-node ≥ 1.22 bundles Dawn on Windows, macOS and linux-x64 with Vulkan; in a browser, onnxruntime-web where navigator.gpu exists)',
};

/** A one-node graph (y = x + x) that every provider implements, to see whether a provider loads. */
function probeGraph(): Uint8Array {
  const g = new OnnxGraph();
  const x = g.input('x', [1, 4]);
  g.output('y', g.add(x, x), [1, 4]);
  return g.encode('device-probe');
}

/**
 * Whether onnxruntime can run graphs on `device`: the runtime's own list of backends when it has one
 * (onnxruntime-node's `listSupportedBackends`), then a session of a one-node graph on that provider alone, run once.
 */
export async function probeDevice(ort: OrtLike, device: Device): Promise<{ ok: true } | { ok: false; reason: string }> {
  const listed = (ort as { listSupportedBackends?: () => { name: string }[] }).listSupportedBackends?.();
  if (listed && !listed.some((b) => b.name === device))
    return { ok: false, reason: `this onnxruntime has no ${device} provider (it lists ${listed.map((b) => b.name).join(', ')})` };
  try {
    const session = await ort.InferenceSession.create(probeGraph(), { executionProviders: [device] });
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [1, 4]) });
    await session.release?.();
    const y = out.y?.data as Float32Array | undefined;
    if (y?.[3] !== 8) return { ok: false, reason: `the ${device} provider loaded but computed a wrong probe result` };
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `the ${device} provider did not load (${firstLine(e)})` };
  }
}

/** Throws a `ConfigError` naming what is missing when `device` does not load. */
export async function checkDevice(ort: OrtLike, device: Device): Promise<void> {
  if (device === 'cpu') return;
  const probe = await probeDevice(ort, device);
  if (!probe.ok) throw new ConfigError(`--device ${device}: ${probe.reason}. It needs ${NEEDS[device]}. Use --device cpu.`);
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e)
    .split('\n')[0]!
    .slice(0, 300);
}
