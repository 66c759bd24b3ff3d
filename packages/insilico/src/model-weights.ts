// What a core-readout model learned, as plain numbers: each conv layer's spatial and temporal kernels (OpenRetina's
// `plot_weights` shows the same) and each session's readout masks.
import * as tf from '@tensorflow/tfjs-core';
import type { StateDict } from '@openretina/contracts';

export interface LayerWeights {
  /** The layer's module name, e.g. `features.layer0.conv`. */
  name: string;
  /** `[out][in]` spatial maps (`kh × kw`, row-major) and temporal kernels (`kt`, index 0 = oldest frame). */
  spatial: Float32Array[][];
  temporal: Float32Array[][];
  kh: number;
  kw: number;
  kt: number;
  /** `separable`: the exact factors of a space-time separable conv; `rank-1`: the peak-time map and peak-pixel trace of a full 3-D kernel. */
  method: 'separable' | 'rank-1';
}

interface SeparableLike {
  temporalKernel(session?: string): tf.Tensor3D;
  weightSpatial: tf.Variable;
}

function isSeparable(m: unknown): m is SeparableLike {
  return typeof (m as SeparableLike).temporalKernel === 'function' && (m as SeparableLike).weightSpatial instanceof tf.Variable;
}

/** The parts of a core-readout model these analyses read (any `CoreReadout` of @openretina/models has them). */
export interface InspectableModel {
  core: unknown;
  readout: unknown;
  stateDict(): StateDict;
}

/** The core's spatial and temporal kernels per conv layer, output and input channel. */
export async function coreWeights(model: InspectableModel): Promise<LayerWeights[]> {
  const layers: LayerWeights[] = [];
  const modules = (model.core as { namedModules?: () => Map<string, unknown> }).namedModules?.() ?? new Map<string, unknown>();
  for (const [name, module] of modules) {
    if (!isSeparable(module)) continue;
    const temporal = module.temporalKernel();
    const [O, I, L] = temporal.shape;
    const [, , , kh, kw] = module.weightSpatial.shape as [number, number, number, number, number];
    const tData = (await temporal.data()) as Float32Array;
    temporal.dispose();
    const sData = (await module.weightSpatial.data()) as Float32Array;
    const sp: Float32Array[][] = [];
    const te: Float32Array[][] = [];
    for (let o = 0; o < O; o++) {
      sp.push([]);
      te.push([]);
      for (let i = 0; i < I; i++) {
        sp[o]!.push(sData.slice((o * I + i) * kh * kw, (o * I + i + 1) * kh * kw));
        te[o]!.push(tData.slice((o * I + i) * L, (o * I + i + 1) * L));
      }
    }
    layers.push({ name, spatial: sp, temporal: te, kh, kw, kt: L, method: 'separable' });
  }
  if (layers.length > 0) return layers;
  // Any other core: every 5-D conv weight [O, I, kt, kh, kw] of its state dict, as a rank-1 summary.
  for (const [key, entry] of model.stateDict()) {
    if (!key.startsWith('core.') || !key.endsWith('weight') || entry.shape.length !== 5) continue;
    const [O, I, L, kh, kw] = entry.shape as [number, number, number, number, number];
    const data = Float32Array.from(entry.data as ArrayLike<number>);
    const sp: Float32Array[][] = [];
    const te: Float32Array[][] = [];
    for (let o = 0; o < O; o++) {
      sp.push([]);
      te.push([]);
      for (let i = 0; i < I; i++) {
        const base = (o * I + i) * L * kh * kw;
        let best = 0;
        let bt = 0;
        let bp = 0;
        for (let t = 0; t < L; t++)
          for (let p = 0; p < kh * kw; p++) {
            const v = Math.abs(data[base + t * kh * kw + p]!);
            if (v > best) [best, bt, bp] = [v, t, p];
          }
        sp[o]!.push(data.slice(base + bt * kh * kw, base + (bt + 1) * kh * kw));
        const tr = new Float32Array(L);
        for (let t = 0; t < L; t++) tr[t] = data[base + t * kh * kw + bp]!;
        te[o]!.push(tr);
      }
    }
    layers.push({ name: key.slice('core.'.length, -'.weight'.length), spatial: sp, temporal: te, kh, kw, kt: L, method: 'rank-1' });
  }
  return layers;
}

export interface ReadoutMasks {
  /** `[N][h·w]` masks over the core's output grid. */
  masks: Float32Array[];
  h: number;
  w: number;
}

/** One session's readout masks (Gaussian-mask readouts), or undefined for readouts without a spatial mask. */
export async function readoutMasks(model: InspectableModel, session: string): Promise<ReadoutMasks | undefined> {
  const readout = (model.readout as { namedChildren?: () => Map<string, unknown> }).namedChildren?.().get(session) as
    | { mask?: () => tf.Tensor3D }
    | undefined;
  if (!readout || typeof readout.mask !== 'function') return undefined;
  const m = readout.mask();
  const [n, h, w] = m.shape;
  const data = (await m.data()) as Float32Array;
  m.dispose();
  return { masks: Array.from({ length: n }, (_, i) => data.slice(i * h * w, (i + 1) * h * w)), h, w };
}

/** Centre of mass of the positive part of a map (x, y in pixels of that map, pixel centres at +0.5). */
export function centreOfMass(map: ArrayLike<number>, h: number, w: number): { x: number; y: number } {
  let s = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = Math.max(0, map[y * w + x]!);
      s += v;
      sx += v * (x + 0.5);
      sy += v * (y + 0.5);
    }
  return s > 0 ? { x: sx / s, y: sy / s } : { x: w / 2, y: h / 2 };
}
