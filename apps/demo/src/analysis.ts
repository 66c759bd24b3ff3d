import * as tf from '@tensorflow/tfjs-core';
import type { Movie } from '@openretina/contracts';
import type { CoreReadout } from '@openretina/models';

/** Predicted responses `[T_out, N]` of one session for a whole movie (output frame i ↔ input frame i + framesCut). */
export async function predictResponses(
  model: CoreReadout,
  movie: Movie,
  session: string,
): Promise<{ data: Float32Array; frames: number; neurons: number }> {
  const [t, h, w, c] = movie.shape;
  if (t <= model.framesCut) throw new Error(`The stimulus has ${t} frames; the model needs more than ${model.framesCut}.`);
  const out = tf.tidy(() => model.forward(tf.tensor5d(movie.data, [1, t, h, w, c]), { session }));
  const data = (await out.data()) as Float32Array;
  const [, frames, neurons] = out.shape;
  out.dispose();
  return { data, frames, neurons };
}

/** One neuron's trace from responses `[T, N]`. */
export function trace(r: { data: Float32Array; frames: number; neurons: number }, neuron: number): Float32Array {
  const out = new Float32Array(r.frames);
  for (let i = 0; i < r.frames; i++) out[i] = r.data[i * r.neurons + neuron]!;
  return out;
}

/**
 * Direction tuning from moving-bar responses: the mean response of each neuron during each sweep (sweep k covers input
 * frames [k·S, (k+1)·S); output frame i is input frame i + framesCut). Returns `[directions][neurons]` and the
 * direction selectivity index |Σ r e^{iθ}| / Σ r per neuron.
 */
export function directionTuning(
  r: { data: Float32Array; frames: number; neurons: number },
  framesCut: number,
  sweepFrames: number,
  directions: readonly number[],
): { means: Float32Array[]; dsi: Float32Array; preferred: Float32Array } {
  const means = directions.map(() => new Float32Array(r.neurons));
  const counts = new Array<number>(directions.length).fill(0);
  for (let i = 0; i < r.frames; i++) {
    const k = Math.floor((i + framesCut) / sweepFrames);
    if (k >= directions.length) break;
    counts[k]! += 1;
    for (let n = 0; n < r.neurons; n++) means[k]![n]! += r.data[i * r.neurons + n]!;
  }
  means.forEach((m, k) => {
    if (counts[k]! > 0) for (let n = 0; n < m.length; n++) m[n] = m[n]! / counts[k]!;
  });
  const dsi = new Float32Array(r.neurons);
  const preferred = new Float32Array(r.neurons);
  for (let n = 0; n < r.neurons; n++) {
    let x = 0,
      y = 0,
      s = 0;
    directions.forEach((d, k) => {
      const v = Math.max(0, means[k]![n]!);
      x += v * Math.cos((d * Math.PI) / 180);
      y += v * Math.sin((d * Math.PI) / 180);
      s += v;
    });
    dsi[n] = s > 0 ? Math.hypot(x, y) / s : 0;
    preferred[n] = ((Math.atan2(y, x) * 180) / Math.PI + 360) % 360;
  }
  return { means, dsi, preferred };
}

export interface LayerFilters {
  name: string;
  /** [out][in] spatial maps (kh × kw) and temporal traces (kt). */
  spatial: Float32Array[][];
  temporal: Float32Array[][];
  kh: number;
  kw: number;
  kt: number;
  /** 'separable': exact factors; 'rank-1': the peak-pixel trace and peak-time map of a full 3-D kernel. */
  method: 'separable' | 'rank-1';
}

interface SeparableLike {
  temporalKernel(session?: string): tf.Tensor3D;
  weightSpatial: tf.Variable;
}

function isSeparable(m: unknown): m is SeparableLike {
  return typeof (m as SeparableLike).temporalKernel === 'function' && (m as SeparableLike).weightSpatial instanceof tf.Variable;
}

/** The core's spatial and temporal filters per layer and channel (any core whose conv layers are 3-D). */
export async function coreFilters(model: CoreReadout): Promise<LayerFilters[]> {
  const layers: LayerFilters[] = [];
  for (const [name, module] of (model.core as unknown as { namedModules(): Map<string, unknown> }).namedModules()) {
    if (isSeparable(module)) {
      const temporal = module.temporalKernel();
      const [O, I, L] = temporal.shape;
      const ws = module.weightSpatial; // [O, I, 1, kh, kw]
      const [, , , kh, kw] = ws.shape as [number, number, number, number, number];
      const tData = (await temporal.data()) as Float32Array;
      const sData = (await ws.data()) as Float32Array;
      temporal.dispose();
      const sp: Float32Array[][] = [],
        te: Float32Array[][] = [];
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
  }
  if (layers.length > 0) return layers;
  // Generic: any 5-D conv weight [O, I, kt, kh, kw] in the state dict.
  for (const [key, entry] of model.stateDict()) {
    if (!key.startsWith('core.') || !key.endsWith('weight') || entry.shape.length !== 5) continue;
    const [O, I, L, kh, kw] = entry.shape as [number, number, number, number, number];
    const data = Float32Array.from(entry.data as ArrayLike<number>);
    const sp: Float32Array[][] = [],
      te: Float32Array[][] = [];
    for (let o = 0; o < O; o++) {
      sp.push([]);
      te.push([]);
      for (let i = 0; i < I; i++) {
        const base = (o * I + i) * L * kh * kw;
        let best = 0,
          bt = 0,
          bp = 0;
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
    layers.push({ name: key.slice(5, -'.weight'.length), spatial: sp, temporal: te, kh, kw, kt: L, method: 'rank-1' });
  }
  return layers;
}

/** Readout masks `[N][h·w]` of one session (Gaussian-mask readouts), or undefined for readouts without a mask. */
export async function readoutMasks(
  model: CoreReadout,
  session: string,
): Promise<{ masks: Float32Array[]; h: number; w: number } | undefined> {
  const readout = (model.readout as unknown as { namedChildren(): Map<string, unknown> }).namedChildren().get(session) as
    | { mask?: () => tf.Tensor3D }
    | undefined;
  if (!readout || typeof readout.mask !== 'function') return undefined;
  const m = readout.mask();
  const [n, h, w] = m.shape;
  const data = (await m.data()) as Float32Array;
  m.dispose();
  return { masks: Array.from({ length: n }, (_, i) => data.slice(i * h * w, (i + 1) * h * w)), h, w };
}

/** Centre of mass of a non-negative map (x, y in pixels of that map). */
export function centreOfMass(map: Float32Array, h: number, w: number): { x: number; y: number } {
  let s = 0,
    sx = 0,
    sy = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = Math.max(0, map[y * w + x]!);
      s += v;
      sx += v * (x + 0.5);
      sy += v * (y + 0.5);
    }
  return s > 0 ? { x: sx / s, y: sy / s } : { x: w / 2, y: h / 2 };
}

/** Splits a stimulus `[T, H, W, C]` into the spatial map (at the frame of largest variance) and temporal traces per channel. */
export function spatioTemporal(movie: Movie): { spatial: Float32Array[]; temporal: Float32Array[]; peakFrame: number } {
  const [t, h, w, c] = movie.shape;
  const fs = h * w * c;
  let peak = 0,
    best = -1;
  for (let f = 0; f < t; f++) {
    let s = 0;
    for (let i = 0; i < fs; i++) s += movie.data[f * fs + i]! ** 2;
    if (s > best) [best, peak] = [s, f];
  }
  const spatial = Array.from({ length: c }, (_, k) => {
    const m = new Float32Array(h * w);
    for (let p = 0; p < h * w; p++) m[p] = movie.data[peak * fs + p * c + k]!;
    return m;
  });
  // Temporal trace: the stimulus projected on the peak frame's spatial map, per channel.
  const temporal = Array.from({ length: c }, (_, k) => {
    const tr = new Float32Array(t);
    const m = spatial[k]!;
    let norm = 0;
    for (const v of m) norm += v * v;
    norm = Math.sqrt(norm) || 1;
    for (let f = 0; f < t; f++) {
      let s = 0;
      for (let p = 0; p < h * w; p++) s += movie.data[f * fs + p * c + k]! * m[p]!;
      tr[f] = s / norm;
    }
    return tr;
  });
  return { spatial, temporal, peakFrame: peak };
}
