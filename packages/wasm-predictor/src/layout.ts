import { ShapeError } from '@openretina/contracts';
import type { EvalWeights } from './eval-weights.js';
import { CONTROL } from './worker-source.js';

/*
 * Where everything lives in the kernels' memory for one stimulus length: the threads' control block, the weights,
 * then the activations, each region 64-byte aligned. Activations are rows of `S` frames (see assembly/kernels.ts); a layer's input rows hold its
 * front temporal padding as zeros, then the frames, then zeros.
 */

export interface LayerLayout {
  /** Input / output frame size. */
  readonly H: number;
  readonly W: number;
  readonly Ho: number;
  readonly Wo: number;
  /** Valid output frames; output frames the kernel computes (multiple of 16); spatial-stage frames (multiple of 8). */
  readonly tOut: number;
  readonly nY: number;
  readonly nU: number;
  /** Where the output's frames start in its rows (the next layer's front padding). */
  readonly yOff: number;
  /** Byte offsets: input rows (the previous layer's output), output rows, and the weights. */
  readonly x: number;
  readonly y: number;
  readonly ws: number;
  readonly wt: number;
  readonly scale: number;
  readonly shift: number;
}

export interface Layout {
  /** Frames of the stimulus and of the responses. */
  readonly T: number;
  readonly tOut: number;
  /** Frames per activation row. */
  readonly S: number;
  /** The channels-last stimulus of one sample, its time-last rows, each thread's scratch rows (spatial stage). */
  readonly stage: number;
  readonly input: number;
  readonly scratch: readonly number[];
  readonly layers: readonly LayerLayout[];
  /** Readout: neurons rounded up to 4, rows (channels × positions), weights `[N4/4][R][4]`, output `[N4][S]`. */
  readonly N4: number;
  readonly R: number;
  readonly readoutWeights: number;
  readonly readoutOut: number;
  /** Frames of the readout's output computed (multiple of 8). */
  readonly nT: number;
  readonly bytes: number;
}

const up = (n: number, k: number) => Math.ceil(n / k) * k;

/**
 * The layout of `weights` for a `T`-frame stimulus and `threads` threads; throws a `ShapeError` when `T` leaves no
 * output frame.
 */
export function planLayout(weights: EvalWeights, T: number, threads: number): Layout {
  const { C, H, W, layers, cut, readout } = weights;
  let top = CONTROL.bytes;
  const region = (floats: number) => {
    const at = top;
    top += up(floats * 4, 64);
    return at;
  };
  let [t, h, w] = [T, H, W];
  let S = T + (layers[0]?.pt[0] ?? 0);
  const shapes = layers.map((p, l) => {
    const tIn = t + p.pt[0] + p.pt[1];
    const tOut = tIn - p.L + 1;
    const Ho = h + p.ph[0] + p.ph[1] - p.kh + 1;
    const Wo = w + p.pw[0] + p.pw[1] - p.kw + 1;
    if (tOut < 1 || Ho < 1 || Wo < 1) {
      throw new ShapeError(`A ${T}-frame ${H}×${W} stimulus is too small for layer ${l} of the core (output ${tOut} frames, ${Ho}×${Wo}).`);
    }
    const nY = up(tOut, 16);
    const nU = up(nY + p.L - 1, 8);
    const yOff = layers[l + 1]?.pt[0] ?? 0;
    S = Math.max(S, nU, yOff + nY);
    const shape = { H: h, W: w, Ho, Wo, tOut, nY, nU, yOff };
    [t, h, w] = [tOut, Ho, Wo];
    return shape;
  });
  const tOut = t - cut;
  if (tOut < 1)
    throw new ShapeError(
      `A ${T}-frame stimulus leaves no response frame: the core's output has ${t} frame${t === 1 ? '' : 's'} and drops the first ${cut}.`,
    );
  const nT = up(tOut, 8);
  S = up(Math.max(S, cut + nT), 8);
  const N4 = up(readout.N, 4);
  const c = layers.at(-1)?.O ?? C;
  const R = c * h * w;
  // weights
  const layerWeights = layers.map((p) => ({
    ws: region(p.O * p.I * p.kh * p.kw),
    wt: region(p.O * p.I * p.L),
    scale: region(p.O),
    shift: region(p.O),
  }));
  const readoutWeights = region(N4 * R);
  // activations
  const stage = region(T * H * W * C);
  const input = region(C * H * W * S);
  const scratch = Array.from({ length: threads }, () => region(4 * S));
  let x = input;
  const placed = shapes.map((s, l) => {
    const y = region(layers[l]!.O * s.Ho * s.Wo * S);
    const out = { ...s, ...layerWeights[l]!, x, y };
    x = y;
    return out;
  });
  const readoutOut = region(N4 * S);
  return { T, tOut, S, stage, input, scratch, layers: placed, N4, R, readoutWeights, readoutOut, nT, bytes: top };
}
