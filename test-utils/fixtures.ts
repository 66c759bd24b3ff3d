// Test helpers shared by the packages' test suites (not published). Plain data only: no package imports,
// so any package's tests can use them through a relative path.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const OPENRETINA_FIXTURES = join(REPO_ROOT, 'fixtures', 'openretina-1.1.1');
/** OpenRetina's experiment configs composed by reference/pytorch/make_config_fixtures.py. */
export const CONFIG_FIXTURES = join(REPO_ROOT, 'fixtures', 'configs');

export interface RawTensor {
  shape: number[];
  dtype: string;
  data: Float32Array | BigInt64Array;
}

/** Reads a safetensors file into raw arrays (independent of the library's reader, to test it too). */
export function readRawSafetensors(path: string): Map<string, RawTensor> {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out = new Map<string, RawTensor>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [a, b] = info.data_offsets;
    const buf = bytes.buffer.slice(bytes.byteOffset + 8 + n + a, bytes.byteOffset + 8 + n + b);
    const data = info.dtype === 'I64' ? new BigInt64Array(buf) : new Float32Array(buf);
    out.set(name, { shape: info.shape, dtype: info.dtype, data });
  }
  return out;
}

let cache: Map<string, RawTensor> | undefined;
/** The 102 reference tensors produced by OpenRetina 1.1.1 (see fixtures/README.md). */
export function referenceTensors(): Map<string, RawTensor> {
  cache ??= readRawSafetensors(join(OPENRETINA_FIXTURES, 'fixtures.safetensors'));
  return cache;
}

export function ref(name: string): RawTensor {
  const t = referenceTensors().get(name);
  if (!t) throw new Error(`no reference tensor "${name}"`);
  return t;
}

/** The scalar fixture `scalars/<name>`. */
export function refScalar(name: string): number {
  return (ref(`scalars/${name}`).data as Float32Array)[0]!;
}

/** max |a − b| / max |b|: the tolerance measure of the fixtures README. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
    maxRef = Math.max(maxRef, Math.abs(expected[i]!));
  }
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}

/** `(B, C, T, H, W)` → `[B, T, H, W, C]` on raw data. */
export function ncdhwToNdhwc(t: RawTensor): { data: Float32Array; shape: [number, number, number, number, number] } {
  const [b, c, tt, h, w] = t.shape as [number, number, number, number, number];
  const src = t.data as Float32Array;
  const out = new Float32Array(src.length);
  const plane = tt * h * w;
  for (let bi = 0; bi < b; bi++)
    for (let ci = 0; ci < c; ci++) for (let p = 0; p < plane; p++) out[bi * c * plane + p * c + ci] = src[bi * c * plane + ci * plane + p]!;
  return { data: out, shape: [b, tt, h, w, c] };
}

/** `[B, T, H, W, C]` → `(B, C, T, H, W)` on raw data. */
export function ndhwcToNcdhw(data: ArrayLike<number>, shape: readonly number[]): Float32Array {
  const [b, tt, h, w, c] = shape as [number, number, number, number, number];
  const out = new Float32Array(data.length);
  const plane = tt * h * w;
  for (let bi = 0; bi < b; bi++)
    for (let ci = 0; ci < c; ci++)
      for (let p = 0; p < plane; p++) out[bi * c * plane + ci * plane + p] = data[bi * c * plane + p * c + ci]!;
  return out;
}

/**
 * The architecture of the fixture model (hoefling_2024 low-res core-readout, 3 sessions), in the option names of
 * `SimpleCoreWrapper` and `MultiGaussianMaskReadout`.
 */
export const FIXTURE_MODEL = {
  inputShape: [2, 18, 16] as [number, number, number],
  nNeuronsDict: { session_1: 20, session_2: 35, session_3: 50 } as Record<string, number>,
  core: {
    channels: [2, 16, 16],
    temporalKernelSizes: [21, 11],
    spatialKernelSizes: [11, 5],
    gammaInput: 0,
    gammaHidden: 0,
    gammaInSparse: 0,
    gammaTemporal: 40,
    inputPadding: 0,
    hiddenPadding: [0, 2, 2] as [number, number, number],
    convolutionType: 'custom_separable',
    cutFirstNFrames: 0,
    dropoutRate: 0,
  },
  readout: {
    inShape: [16, 120, 8, 6] as [number, number, number, number],
    scale: true,
    bias: true,
    gaussianMeanScale: 6,
    gaussianVarScale: 4,
    positive: true,
    maskL1Reg: 1,
    featureWeightsL1Reg: 1,
    readoutRegAvg: false,
  },
};
