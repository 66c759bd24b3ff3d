import * as tf from '@tensorflow/tfjs-core';
import { DataError, ShapeError, formatShape } from '@openretina/contracts';
import { StateRecord, floatStateVariables, readFloats, readStateSync } from '@openretina/layers';
import type { CoreReadout } from '@openretina/models';
import { type EvalWeights, type ReadoutNonlinearity, checkSupported, evalWeights } from './eval-weights.js';
import { type Kernels, defaultThreads, instantiateKernels, runtimeUnsupported } from './kernels.js';
import { type Layout, planLayout } from './layout.js';
import { CONTROL } from './worker-source.js';

export interface WasmPredictorOptions {
  /**
   * Threads that share each layer (the caller's and `threads − 1` workers on a shared memory). Default: half the
   * cores the runtime reports, at most 4, where memory can be shared (Node; browsers in a cross-origin isolated
   * page), else 1.
   */
  threads?: number;
}

/** Responses `[B, T_out, N]`, row-major, as {@link WasmPredictor.predictValues} returns them. */
export interface PredictedValues {
  readonly data: Float32Array;
  readonly shape: readonly [number, number, number];
}

interface CachedWeights {
  /** The model's float parameters and buffers the weights were computed from. */
  readonly state: StateRecord;
  readonly weights: EvalWeights;
}

function applyNonlinearity(nl: ReadoutNonlinearity, v: number): number {
  switch (nl) {
    case 'softplus':
      return v > 20 ? v : Math.log1p(Math.exp(v));
    case 'exp':
      return Math.exp(v);
    case 'relu':
      return Math.max(v, 0);
    case 'elu':
      return v > 0 ? v : Math.expm1(v);
    default:
      return v;
  }
}

/**
 * Eval-mode predictions of a core-readout model on SIMD WebAssembly kernels of our own: a space-time separable core
 * (`SimpleCoreWrapper` with `custom_separable` convolutions, BatchNorm, ELU) and Gaussian-mask readouts, computed
 * without any runtime besides the JavaScript engine. Each layer runs its per-pair spatial and temporal products
 * directly on the frames (no dense placement matrices, no zeros multiplied), fused per output position; four frames
 * per SIMD lane group; threads take a layer's pieces (4 output channels × 1 output row) as they come free. Same responses as `model.forward` in eval mode, to float32 rounding; the model is
 * read, never changed. The eval weights are read again only when a parameter or buffer of the model changed.
 */
export class WasmPredictor {
  private readonly cache = new Map<string, CachedWeights>();
  private resident: { weights: EvalWeights; layout: Layout } | undefined;
  private disposed = false;

  private constructor(
    readonly model: CoreReadout,
    private readonly kernels: Kernels,
  ) {}

  /** Whether this runtime can run the kernels and they cover `model` (every session's readout), and why not. */
  static supports(model: CoreReadout): { ok: true } | { ok: false; reason: string } {
    const gap = runtimeUnsupported();
    if (gap) return { ok: false, reason: gap };
    try {
      checkSupported(model);
      return { ok: true };
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
  }

  /**
   * A predictor of `model` (compiles the kernels on first use in the process or page, starts its worker threads).
   * Throws an `UnsupportedError` for a model the kernels do not cover, a `BackendError` where WebAssembly SIMD is
   * missing or where `threads > 1` and memory cannot be shared.
   */
  static async create(model: CoreReadout, options: WasmPredictorOptions = {}): Promise<WasmPredictor> {
    checkSupported(model);
    const threads = options.threads ?? defaultThreads();
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}.`);
    return new WasmPredictor(model, await instantiateKernels(threads));
  }

  /** Threads that share each layer. */
  get threads(): number {
    return this.kernels.threads;
  }

  /** Eval-mode responses `[B, T_out, N]` of `session` to a channels-last stimulus `x` `[B, T, H, W, C]`. */
  async predict(x: tf.Tensor5D, session: string): Promise<tf.Tensor3D> {
    this.checkShape(x.shape);
    const { data, shape } = this.predictValues(await readFloats(x), x.shape, session);
    return tf.tensor3d(data, [...shape]);
  }

  /**
   * {@link predict} on host arrays: `stimulus` holds `shape` `[B, T, H, W, C]` (channels last, row-major). Returns a
   * new array the caller owns. Throws a `ShapeError` for a stimulus of another size, too short for the core, or
   * an array of another length, a `DataError` for a value that is not finite, `UnknownSessionError` for a session
   * the model has not.
   */
  predictValues(stimulus: Float32Array, shape: readonly number[], session: string): PredictedValues {
    if (this.disposed) throw new Error('This WasmPredictor was disposed.');
    this.kernels.wake();
    this.checkShape(shape);
    const [B, T, H, W, C] = shape as [number, number, number, number, number];
    if (stimulus.length !== B * T * H * W * C) {
      throw new ShapeError(`A stimulus of shape ${formatShape(shape)} has ${B * T * H * W * C} values; the array has ${stimulus.length}.`);
    }
    for (let i = 0; i < stimulus.length; i++) {
      if (!Number.isFinite(stimulus[i]!)) {
        const per = T * H * W * C;
        throw new DataError(
          `The stimulus holds ${stimulus[i]} at sample ${Math.floor(i / per)}, frame ${Math.floor((i % per) / (H * W * C))}: predictions need finite values.`,
        );
      }
    }
    const weights = this.weights(session);
    const layout = this.place(weights, T);
    const N = weights.readout.N;
    const out = new Float32Array(B * layout.tOut * N);
    const frame = T * H * W * C;
    for (let b = 0; b < B; b++)
      this.forward(stimulus.subarray(b * frame, (b + 1) * frame), weights, layout, out.subarray(b * layout.tOut * N));
    return { data: out, shape: [B, layout.tOut, N] };
  }

  /** Stops the worker threads and frees the kernels' memory (the model stays the caller's). */
  dispose(): void {
    if (!this.disposed) this.kernels.dispose();
    this.disposed = true;
    this.cache.clear();
    this.resident = undefined;
  }

  private checkShape(shape: readonly number[]): void {
    const { channels, height, width } = this.model.stimulus;
    if (shape.length !== 5 || shape[2] !== height || shape[3] !== width || shape[4] !== channels) {
      throw new ShapeError(
        `The model expects a stimulus [batch, time, ${height}, ${width}, ${channels}] (channels last), got ${formatShape(shape)}.`,
      );
    }
  }

  /**
   * The eval weights of `session`. While every parameter and buffer holds the data it held at the last call, they are
   * reused as they are; otherwise the values are compared (a positive readout's TF.js forward assigns its clamped
   * features anew, same values: reading the weights again costs ~3 ms in a page, comparing ~0.2) and the weights are
   * read again only when some value changed.
   */
  private weights(session: string): EvalWeights {
    const variables = floatStateVariables(this.model);
    const known = this.cache.get(session);
    if (known?.state.holdsData(variables)) return known.weights;
    const reading = readStateSync(variables);
    if (known?.state.matches(reading)) return known.weights;
    const weights = evalWeights(this.model, session);
    this.cache.set(session, { state: new StateRecord(reading), weights });
    return weights;
  }

  /** Lays out `weights` for `T` frames and writes them into the kernels' memory, unless they are there already. */
  private place(weights: EvalWeights, T: number): Layout {
    if (this.resident?.weights === weights && this.resident.layout.T === T) return this.resident.layout;
    const layout = planLayout(weights, T, this.kernels.threads);
    this.kernels.reserve(layout.bytes);
    const f32 = new Float32Array(this.kernels.memory.buffer);
    weights.layers.forEach((p, l) => {
      const at = layout.layers[l]!;
      // spatial kernels four output channels side by side: [O/4][I][kh][kw][4]
      const taps = p.kh * p.kw;
      const ws = f32.subarray(at.ws / 4, at.ws / 4 + p.O * p.I * taps);
      for (let o = 0; o < p.O; o++)
        for (let i = 0; i < p.I; i++)
          for (let k = 0; k < taps; k++) ws[(((o >> 2) * p.I + i) * taps + k) * 4 + (o & 3)] = p.spatial[(o * p.I + i) * taps + k]!;
      f32.set(p.temporal, at.wt / 4);
      f32.set(p.scale, at.scale / 4);
      f32.set(p.shift, at.shift / 4);
    });
    // readout weights four neurons side by side: [N4/4][R][4], zero for the padding neurons
    const { N, weights: rw } = weights.readout;
    const R = layout.R;
    const w = f32.subarray(layout.readoutWeights / 4, layout.readoutWeights / 4 + layout.N4 * R);
    w.fill(0);
    for (let n = 0; n < N; n++) for (let r = 0; r < R; r++) w[((n >> 2) * R + r) * 4 + (n & 3)] = rw[n * R + r]!;
    this.resident = { weights, layout };
    return layout;
  }

  /** One sample: `stimulus` `[T, H, W, C]` → `out` `[T_out, N]`. */
  private forward(stimulus: Float32Array, weights: EvalWeights, layout: Layout, out: Float32Array): void {
    const k = this.kernels.exports;
    const f32 = new Float32Array(this.kernels.memory.buffer);
    const { C, H, W } = weights;
    const { S, T } = layout;
    f32.set(stimulus, layout.stage / 4);
    f32.fill(0, layout.input / 4, layout.input / 4 + C * H * W * S);
    k.toTimeLast(layout.stage, T, H * W, C, layout.input, S, weights.layers[0]!.pt[0]);
    weights.layers.forEach((p, l) => {
      const at = layout.layers[l]!;
      f32.fill(0, at.y / 4, at.y / 4 + p.O * at.Ho * at.Wo * S);
      // every thread takes pieces (4 channels × 1 row) until none is left; each has its own scratch rows
      const args = [at.x, p.I, at.H, at.W, S, at.ws, at.wt, p.O, p.kh, p.kw, p.ph[0], p.pw[0], p.L, at.y, at.yOff, at.Ho, at.Wo];
      this.kernels.runConvBlocks(layout.scratch.map((u) => [...args, u, at.nU, at.nY, at.scale, at.shift, at.tOut, 4 * CONTROL.counter]));
    });
    const last = layout.layers.at(-1)!;
    k.readout(last.y, layout.R, S, weights.cut, layout.readoutWeights, layout.N4, layout.readoutOut, layout.nT);
    const { N, bias, nonlinearity } = weights.readout;
    const tOut = layout.tOut;
    const base = layout.readoutOut / 4;
    for (let n = 0; n < N; n++) {
      const row = base + n * S;
      for (let t = 0; t < tOut; t++) out[t * N + n] = applyNonlinearity(nonlinearity, f32[row + t]! + bias[n]!);
    }
  }
}
