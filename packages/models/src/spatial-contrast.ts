import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  SPECIFICATION_VERSION,
  ShapeError,
  formatShape,
  type DataInfo,
  type LossParts,
  type StimulusSpec,
  type TrainableModel,
} from '@openretina/contracts';
import { DummyCore } from '@openretina/core';
import { Module, clipCorrelations, poissonLoss, torchSoftplus } from '@openretina/layers';
import { MultiSpatialContrastReadout, SpatialContrastReadout } from '@openretina/readout';
import { CoreReadout } from './core-readout.js';

/** A filter given as a tensor, a flat row-major array or nested rows. */
export type FilterInit = tf.Tensor | Float32Array | readonly number[] | readonly (readonly number[])[];

function filterTensor(init: FilterInit, shape: readonly number[], what: string): tf.Tensor {
  const t = init instanceof tf.Tensor ? init.clone() : tf.tensor(init as number[] | Float32Array);
  const size = shape.reduce((a, b) => a * b, 1);
  if (t.size !== size || (t.rank !== 1 && t.rank !== shape.length)) {
    const got = formatShape(t.shape);
    t.dispose();
    throw new ShapeError(`${what}: expected ${formatShape(shape)}, got ${got}.`);
  }
  const out = tf.reshape(t, [...shape]);
  t.dispose(); // the reshaped tensor keeps the data
  return out;
}

/** The boundary-safe crop window OpenRetina uses around an RF centre: `[y0, y1, x0, x1]`. */
export function cropBounds(
  size: readonly [number, number],
  crop: readonly [number, number],
  center: readonly [number, number],
): [number, number, number, number] {
  const [h, w] = size;
  const [ch, cw] = crop;
  const [cy, cx] = center;
  let y0 = Math.max(0, cy - Math.floor(ch / 2));
  const y1 = Math.min(h, y0 + ch);
  y0 = Math.max(0, y1 - ch);
  let x0 = Math.max(0, cx - Math.floor(cw / 2));
  const x1 = Math.min(w, x0 + cw);
  x0 = Math.max(0, x1 - cw);
  return [y0, y1, x0, x1];
}

export interface SingleCellSpatialContrastOptions {
  /** Stimulus `[C, T, H, W]`; C must be 1. */
  inShape: readonly [number, number, number, number];
  /** The frozen spatial filter `[H, W]` (OpenRetina derives it from the STA: a Gaussian fit masked at `sigma_contour`). */
  spatialFilter: FilterInit;
  /** The frozen temporal filter `[T_f]` (index 0 = the oldest frame). */
  temporalFilter: FilterInit;
  /** Centre of the fitted Gaussian in pixels (`center_x`, `center_y`): the RF location, needed for `spatCropSize`. */
  rfCenter?: { centerX: number; centerY: number };
  /** `[h, w]` patch around the RF centre that the model looks at (default: the whole stimulus). */
  spatCropSize?: readonly [number, number] | null;
  learningRate?: number;
  wInit?: number;
  aInit?: number;
  bInit?: number;
  cInit?: number;
  /** Session name reported by the ResponseModel interface (the model ignores sessions). */
  session?: string;
}

/**
 * OpenRetina's `SingleCellSpatialContrast` (Sridhar et al. 2025), one neuron:
 * `y = a·softplus(b·(I + w·LSC) + c)` with `I = Σ sf·x_f / (Σ sf + 1e-8)`,
 * `LSC = sqrt(Σ sf·(x_f − I)² / (Σ sf + 1e-8))`, where `x_f` is the stimulus filtered in time (valid
 * cross-correlation with the temporal filter). `[B, T, H, W, 1]` → `[B, T − T_f + 1, 1]`.
 *
 * State dict: `nl_a`, `nl_b`, `nl_c`, `w` (scalars), buffers `spatial_filter [h, w]`, `temporal_filter [T_f]`,
 * `spatial_filter_sum []`. The filters are given (OpenRetina loads an STA file and fits them in its constructor;
 * that fitting is not part of this class).
 */
export class SingleCellSpatialContrast extends Module implements TrainableModel {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly inShape: readonly [number, number, number, number];
  readonly learningRate: number;
  readonly session: string;
  readonly rfLocation: readonly [number, number] | undefined;
  /** `[y0, y1, x0, x1]` of the crop, when the model crops. */
  readonly cropBounds: readonly [number, number, number, number] | undefined;
  readonly nlA: tf.Variable;
  readonly nlB: tf.Variable;
  readonly nlC: tf.Variable;
  readonly w: tf.Variable;
  readonly spatialFilter: tf.Variable;
  readonly temporalFilter: tf.Variable;
  readonly spatialFilterSum: tf.Variable;

  constructor(options: SingleCellSpatialContrastOptions) {
    super();
    const [C, , H, W] = options.inShape;
    if (C > 1) {
      throw new ConfigError(`The spatial contrast model only supports a single input channel, got ${C}; average the channels first.`);
    }
    this.inShape = options.inShape;
    this.learningRate = options.learningRate ?? 1e-3;
    this.session = options.session ?? 'default';
    let spatial = filterTensor(options.spatialFilter, [H, W], 'spatialFilter');
    const tfLen =
      options.temporalFilter instanceof tf.Tensor ? options.temporalFilter.size : (options.temporalFilter as ArrayLike<number>).length;
    const temporal = filterTensor(options.temporalFilter, [tfLen], 'temporalFilter');
    const crop = options.spatCropSize;
    const center = options.rfCenter;
    this.rfLocation = center ? [Math.trunc(center.centerY), Math.trunc(center.centerX)] : undefined;
    if (crop && (crop[0] !== H || crop[1] !== W)) {
      if (!this.rfLocation) throw new ConfigError('spatCropSize needs rfCenter (the fitted RF centre) to place the crop.');
      this.cropBounds = cropBounds([H, W], crop, this.rfLocation);
      const [y0, y1, x0, x1] = this.cropBounds;
      const cropped = tf.slice(spatial, [y0, x0], [y1 - y0, x1 - x0]);
      spatial.dispose();
      spatial = cropped;
    }
    this.nlA = this.registerParameter('nl_a', tf.scalar(options.aInit ?? 1));
    this.nlB = this.registerParameter('nl_b', tf.scalar(options.bInit ?? 1));
    this.nlC = this.registerParameter('nl_c', tf.scalar(options.cInit ?? 0));
    this.w = this.registerParameter('w', tf.scalar(options.wInit ?? 0));
    const sum = tf.sum(spatial);
    this.spatialFilter = this.registerBuffer('spatial_filter', spatial);
    this.temporalFilter = this.registerBuffer('temporal_filter', temporal);
    this.spatialFilterSum = this.registerBuffer('spatial_filter_sum', sum);
  }

  get sessions(): readonly string[] {
    return [this.session];
  }

  get neuronsPerSession(): Record<string, number> {
    return { [this.session]: 1 };
  }

  get stimulus(): StimulusSpec {
    return { channels: 1, height: this.inShape[2], width: this.inShape[3] };
  }

  get framesCut(): number {
    return this.temporalFilter.size - 1;
  }

  stimulusShape(frames: number, batch = 1): [number, number, number, number, number] {
    return [batch, frames, this.inShape[2], this.inShape[3], 1];
  }

  /** The patch around the RF that the model looks at (the input itself without a crop). */
  cropInput(x: tf.Tensor5D): tf.Tensor5D {
    if (!this.cropBounds) return tf.clone(x);
    const [y0, y1, x0, x1] = cropBounds(
      [x.shape[2], x.shape[3]],
      [this.cropBounds[1] - this.cropBounds[0], this.cropBounds[3] - this.cropBounds[2]],
      this.rfLocation!,
    );
    return tf.slice(x, [0, 0, y0, x0, 0], [-1, -1, y1 - y0, x1 - x0, -1]);
  }

  /** `[B, T, H, W, 1]` → `[B, T − T_f + 1, 1]`. */
  forward(x: tf.Tensor5D, _options: { session?: string } = {}): tf.Tensor3D {
    const [, , H, W] = this.inShape;
    const Tf = this.temporalFilter.size;
    if (x.rank !== 5 || x.shape[4] !== 1 || x.shape[2] !== H || x.shape[3] !== W || x.shape[1] < Tf) {
      throw new ShapeError(`SingleCellSpatialContrast expects [batch, time ≥ ${Tf}, ${H}, ${W}, 1], got ${formatShape(x.shape)}.`);
    }
    return tf.tidy(() => {
      const xc = this.cropBounds ? this.cropInput(x) : x;
      const [B, T, h, w] = xc.shape;
      const filtered = tf.conv2d(
        tf.reshape(xc, [B, T, h * w, 1]) as tf.Tensor4D,
        tf.reshape(this.temporalFilter, [Tf, 1, 1, 1]) as tf.Tensor4D,
        1,
        'valid',
      ); // [B, T', h·w, 1]
      const T2 = T - Tf + 1;
      const flat = tf.reshape(filtered, [B * T2, h * w]) as tf.Tensor2D;
      const sf = tf.reshape(this.spatialFilter, [h * w, 1]) as tf.Tensor2D;
      const denom = tf.add(this.spatialFilterSum, 1e-8);
      const imean = tf.div(tf.matMul(flat, sf), denom); // [B·T', 1]
      const dev = tf.square(tf.sub(flat, imean));
      const lsc = tf.sqrt(tf.div(tf.matMul(dev as tf.Tensor2D, sf), denom));
      const combined = tf.add(imean, tf.mul(this.w, lsc));
      const out = tf.mul(this.nlA, torchSoftplus(tf.add(tf.mul(this.nlB, combined), this.nlC)));
      return tf.reshape(out, [B, T2, 1]) as tf.Tensor3D;
    });
  }

  async predict(x: tf.Tensor5D, options: { session?: string } = {}): Promise<tf.Tensor3D> {
    return this.forward(x, options);
  }

  /** No regularization (four parameters). */
  regularizer(): tf.Scalar {
    return tf.scalar(0);
  }

  /** Every trainable parameter (the model has one neuron and ignores sessions). */
  parametersForSession(_session?: string): Map<string, tf.Variable> {
    return this.trainableParameters();
  }

  /** The training loss of OpenRetina's step: per-neuron mean Poisson loss divided by the number of outputs. */
  dataLoss(output: tf.Tensor3D, targets: tf.Tensor3D, _session?: string): tf.Scalar {
    return tf.tidy(() => tf.div(tf.sum(poissonLoss(output, targets, { perNeuron: true })), output.size) as tf.Scalar);
  }

  /** None (four parameters, no penalty). */
  regularizers(_session?: string): Record<string, tf.Scalar> {
    return {};
  }

  /** The training objective of one batch: {@link dataLoss} of the output (no regularizers). */
  loss(inputs: tf.Tensor5D, targets: tf.Tensor3D, _session?: string): LossParts {
    return tf.tidy(() => {
      const data = this.dataLoss(this.forward(inputs), targets);
      return { total: tf.clone(data), data, regularizers: {} };
    });
  }

  /** Mean correlation of an output with the targets (`val_correlation`). */
  evaluationLoss(output: tf.Tensor3D, targets: tf.Tensor3D, _session?: string): tf.Scalar {
    return tf.tidy(() => tf.mean(clipCorrelations(output, targets)) as tf.Scalar);
  }

  /** {@link evaluationLoss} of the model's output on `inputs`. */
  evaluationMetric(inputs: tf.Tensor5D, targets: tf.Tensor3D): tf.Scalar {
    return tf.tidy(() => this.evaluationLoss(this.forward(inputs), targets));
  }

  /** What OpenRetina's `optimizer_step` does after each step: clamp `w ≥ 0`. */
  clampParameters(): void {
    tf.tidy(() => this.w.assign(tf.maximum(this.w, 0)));
  }

  /** The trainer's hook after every optimizer step: {@link clampParameters}. */
  afterOptimizerStep(): void {
    this.clampParameters();
  }
}

export interface SpatialContrastCoreReadoutOptions {
  /** Stimulus `[C, T, H, W]` (C = 1). */
  inShape: readonly [number, number, number, number];
  nNeuronsDict: Readonly<Record<string, number>>;
  /** Per session: frozen spatial filters `[N, H, W]` (OpenRetina builds them from STA files). */
  spatialFiltersDict: Readonly<Record<string, FilterInit>>;
  /** Per session: frozen temporal filters `[N, T_f]`. */
  temporalFiltersDict: Readonly<Record<string, FilterInit>>;
  cutFirstNFrames?: number;
  wInit?: number;
  aInit?: number;
  bInit?: number;
  cInit?: number;
  learningRate?: number;
  neuronChunkSize?: number;
  dataInfo?: DataInfo;
  meanActivityDict?: Readonly<Record<string, Float32Array>>;
}

/**
 * OpenRetina's `SpatialContrastCoreReadout`: `DummyCore` + `MultiSpatialContrastReadout`, trained with the
 * **mean** Poisson loss (`PoissonLoss3d(avg=True)`, its training loss by default), and `nl_a ≥ 0` clamped after
 * every optimizer step (`clampParameters`, run by the trainer through `afterOptimizerStep`). State dict: `readout.<session>.{w, nl_a, nl_b, nl_c, bias, spatial_filters, temporal_filters, sf_sums}`.
 */
export class SpatialContrastCoreReadout extends CoreReadout {
  private readonly contrastReadout: MultiSpatialContrastReadout;

  constructor(options: SpatialContrastCoreReadoutOptions) {
    const [C, T, H, W] = options.inShape;
    const spatial = Object.fromEntries(
      Object.entries(options.spatialFiltersDict).map(([k, v]) => [
        k,
        filterTensor(v, [options.nNeuronsDict[k] ?? 0, H, W], `spatial filters of "${k}"`),
      ]),
    );
    const temporal: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(options.temporalFiltersDict)) {
      const n = options.nNeuronsDict[k] ?? 0;
      const t = v instanceof tf.Tensor ? v.clone() : tf.tensor(v as number[] | Float32Array);
      temporal[k] = tf.tidy(() => tf.reshape(t, [n, t.size / Math.max(n, 1)]));
      t.dispose();
    }
    const meanActivity = options.meanActivityDict ?? options.dataInfo?.meanActivityDict;
    try {
      super({
        core: new DummyCore(C, { cutFirstNFrames: options.cutFirstNFrames ?? 0 }),
        readout: new MultiSpatialContrastReadout({
          inShape: [C, T, H, W],
          nNeuronsDict: options.nNeuronsDict,
          spatialFiltersDict: spatial,
          temporalFiltersDict: temporal,
          ...(options.wInit === undefined ? {} : { wInit: options.wInit }),
          aInit: options.aInit ?? 4,
          bInit: options.bInit ?? 1,
          cInit: options.cInit ?? -5,
          ...(meanActivity ? { meanActivityDict: meanActivity } : {}),
          neuronChunkSize: options.neuronChunkSize ?? 32,
        }),
        inputShape: [C, H, W],
        dataInfo: options.dataInfo,
        learningRate: options.learningRate ?? 0.01,
      });
    } finally {
      tf.dispose([...Object.values(spatial), ...Object.values(temporal)]);
    }
    this.contrastReadout = this.readout as MultiSpatialContrastReadout;
    // OpenRetina's default loss for this model: the mean Poisson loss.
    this.setLosses({ loss: { type: 'poisson', avg: true } });
  }

  /** What OpenRetina's `optimizer_step` does after each step: clamp `nl_a ≥ 0` in every session's readout. */
  clampParameters(): void {
    tf.tidy(() => {
      for (const m of this.contrastReadout.namedModules().values()) {
        if (m instanceof SpatialContrastReadout) m.nlA.assign(tf.maximum(m.nlA, 0));
      }
    });
  }

  /** The trainer's hook after every optimizer step: {@link clampParameters}. */
  afterOptimizerStep(): void {
    this.clampParameters();
  }
}
