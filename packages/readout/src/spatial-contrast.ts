import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, formatShape } from '@openretina/contracts';
import type { Rng } from '@openretina/layers';
import { toTensor, type TensorInit } from './factorized.js';
import { MultiReadoutBase } from './multi-readout.js';
import { ReadoutBase, type ReadoutInShape } from './readout-base.js';

export interface SpatialContrastReadoutOptions {
  /** Core output `(1, t, h, w)` (a single channel: usually the stimulus itself through a `DummyCore`). */
  inShape: ReadoutInShape;
  outDims: number;
  /** Frozen spatial filters `[N, h, w]`. */
  spatialFilters: TensorInit;
  /** Frozen temporal filters `[N, T_f]`. */
  temporalFilters: TensorInit;
  wInit?: number;
  aInit?: number;
  bInit?: number;
  cInit?: number;
  meanActivity?: Float32Array | undefined;
  /** Neurons processed at once (memory only: the result is the same). */
  neuronChunkSize?: number;
}

/**
 * OpenRetina's `SpatialContrastReadout` (Sridhar et al. 2025): per neuron, the input is filtered in time
 * (valid cross-correlation with its frozen temporal filter), then the spatially weighted mean `I` and the local
 * spatial contrast `sqrt(max(E_sf[x²] − I², 1e-6))` give `a·softplus(b·(I + w·LSC) + c)`.
 * `[B, T, h, w, 1]` → `[B, T − T_f + 1, N]`. Entries: `w`, `nl_a`, `nl_b`, `nl_c` (learnable, `[N]`), `bias [N]`
 * (a frozen, unused parameter), buffers `spatial_filters [N, h, w]`, `temporal_filters [N, T_f]`, `sf_sums [N]`.
 */
export class SpatialContrastReadout extends ReadoutBase {
  readonly outDims: number;
  readonly inShape: ReadoutInShape;
  readonly neuronChunkSize: number;
  readonly w: tf.Variable;
  readonly nlA: tf.Variable;
  readonly nlB: tf.Variable;
  readonly nlC: tf.Variable;
  readonly bias: tf.Variable;
  readonly spatialFilters: tf.Variable;
  readonly temporalFilters: tf.Variable;
  readonly sfSums: tf.Variable;

  constructor(options: SpatialContrastReadoutOptions) {
    super();
    const n = options.outDims;
    const [, , h, w] = options.inShape;
    this.inShape = options.inShape;
    this.outDims = n;
    this.neuronChunkSize = options.neuronChunkSize ?? 32;
    if (!Number.isInteger(this.neuronChunkSize) || this.neuronChunkSize < 1) {
      throw new ConfigError(`neuronChunkSize must be a positive integer, got ${this.neuronChunkSize}.`);
    }
    const spatial = toTensor(options.spatialFilters);
    const temporal = toTensor(options.temporalFilters);
    if (
      spatial.rank !== 3 ||
      spatial.shape[0] !== n ||
      spatial.shape[1] !== h ||
      spatial.shape[2] !== w ||
      temporal.rank !== 2 ||
      temporal.shape[0] !== n
    ) {
      const got = `${formatShape(spatial.shape)} and ${formatShape(temporal.shape)}`;
      spatial.dispose();
      temporal.dispose();
      throw new ShapeError(`SpatialContrastReadout needs spatial filters [${n}, ${h}, ${w}] and temporal filters [${n}, T_f], got ${got}.`);
    }
    this.w = this.registerParameter('w', tf.fill([n], options.wInit ?? 0));
    this.nlA = this.registerParameter('nl_a', tf.fill([n], options.aInit ?? 4));
    this.nlB = this.registerParameter('nl_b', tf.fill([n], options.bInit ?? 1));
    this.nlC = this.registerParameter('nl_c', tf.fill([n], options.cInit ?? -5));
    this.bias = this.registerParameter('bias', tf.zeros([n]), false);
    this.sfSums = tf.tidy(() => tf.sum(spatial, [1, 2]));
    this.spatialFilters = this.registerBuffer('spatial_filters', spatial);
    this.temporalFilters = this.registerBuffer('temporal_filters', temporal);
    this.sfSums = this.registerBuffer('sf_sums', this.sfSums);
    this.initializeBias(options.meanActivity);
  }

  protected get biasVariable(): tf.Variable {
    return this.bias;
  }

  /** OpenRetina's `features` (the contrast weights `w`). */
  get features(): tf.Variable {
    return this.w;
  }

  get temporalFilterLength(): number {
    return this.temporalFilters.shape[1]!;
  }

  /** `[B, T, h, w, 1]` → `[B, T − T_f + 1, N]`. */
  forward(x: tf.Tensor5D): tf.Tensor3D {
    const [, , h, w] = this.inShape;
    this.checkInput(x, 1, h, w);
    const tf0 = this.temporalFilterLength;
    if (x.shape[1] < tf0) {
      throw new ShapeError(`SpatialContrastReadout needs at least ${tf0} frames (the temporal filter length), got ${x.shape[1]}.`);
    }
    return tf.tidy(() => {
      const [b, t] = x.shape;
      const hw = h * w;
      const tOut = t - tf0 + 1;
      // Every pixel is an independent 1-channel time series: [B·h·w, T, 1].
      const series = tf.reshape(tf.transpose(tf.reshape(x, [b, t, hw]), [0, 2, 1]), [b * hw, t, 1]) as tf.Tensor3D;
      const chunks: tf.Tensor[] = [];
      for (let k0 = 0; k0 < this.outDims; k0 += this.neuronChunkSize) {
        const k = Math.min(this.neuronChunkSize, this.outDims - k0);
        const kernels = tf.reshape(tf.transpose(tf.slice(this.temporalFilters, [k0, 0], [k, tf0])), [tf0, 1, k]) as tf.Tensor3D;
        const filtered = tf.reshape(tf.conv1d(series, kernels, 1, 'valid'), [b, hw, tOut, k]);
        const sf = tf.reshape(tf.transpose(tf.reshape(tf.slice(this.spatialFilters, [k0, 0, 0], [k, h, w]), [k, hw])), [1, hw, 1, k]);
        const denom = tf.add(tf.slice(this.sfSums, [k0], [k]), 1e-8);
        const imean = tf.div(tf.sum(tf.mul(filtered, sf), 1), denom);
        const meanSq = tf.div(tf.sum(tf.mul(tf.square(filtered), sf), 1), denom);
        const lsc = tf.sqrt(tf.maximum(tf.sub(meanSq, tf.square(imean)), 1e-6));
        const combined = tf.add(imean, tf.mul(tf.slice(this.w, [k0], [k]), lsc));
        const inner = tf.add(tf.mul(tf.slice(this.nlB, [k0], [k]), combined), tf.slice(this.nlC, [k0], [k]));
        chunks.push(tf.mul(tf.slice(this.nlA, [k0], [k]), tf.softplus(inner)));
      }
      return (chunks.length === 1 ? chunks[0]! : tf.concat(chunks, -1)) as tf.Tensor3D;
    });
  }

  /** Always 0 (four parameters per neuron need none). */
  regularizer(_reduction?: 'sum' | 'mean'): tf.Scalar {
    return tf.scalar(0);
  }
}

export interface MultiSpatialContrastReadoutOptions {
  inShape: ReadoutInShape;
  nNeuronsDict: Readonly<Record<string, number>>;
  spatialFiltersDict: Readonly<Record<string, TensorInit>>;
  temporalFiltersDict: Readonly<Record<string, TensorInit>>;
  wInit?: number;
  aInit?: number;
  bInit?: number;
  cInit?: number;
  meanActivityDict?: Readonly<Record<string, Float32Array>> | undefined;
  readoutRegAvg?: boolean;
  neuronChunkSize?: number;
  seed?: number | Rng;
}

/**
 * One `SpatialContrastReadout` per session, each with its own filters (OpenRetina's `MultiSpatialContrastReadout`).
 * Sessions added later need their filters in `addFilters` first.
 */
export class MultiSpatialContrastReadout extends MultiReadoutBase<SpatialContrastReadout> {
  private readonly spatialFiltersDict: Record<string, TensorInit>;
  private readonly temporalFiltersDict: Record<string, TensorInit>;

  constructor(options: MultiSpatialContrastReadoutOptions) {
    const spatialDict: Record<string, TensorInit> = { ...options.spatialFiltersDict };
    const temporalDict: Record<string, TensorInit> = { ...options.temporalFiltersDict };
    super(options, ({ session, inShape, outDims, meanActivity }) => {
      const spatialFilters = spatialDict[session];
      const temporalFilters = temporalDict[session];
      if (!spatialFilters || !temporalFilters) {
        throw new ConfigError(`MultiSpatialContrastReadout has no spatial/temporal filters for session "${session}".`);
      }
      return new SpatialContrastReadout({
        inShape,
        outDims,
        spatialFilters,
        temporalFilters,
        meanActivity,
        ...(options.wInit === undefined ? {} : { wInit: options.wInit }),
        ...(options.aInit === undefined ? {} : { aInit: options.aInit }),
        ...(options.bInit === undefined ? {} : { bInit: options.bInit }),
        ...(options.cInit === undefined ? {} : { cInit: options.cInit }),
        ...(options.neuronChunkSize === undefined ? {} : { neuronChunkSize: options.neuronChunkSize }),
      });
    });
    this.spatialFiltersDict = spatialDict;
    this.temporalFiltersDict = temporalDict;
  }

  /** Registers the filters of sessions to add with `addSessions`. */
  addFilters(spatialFiltersDict: Readonly<Record<string, TensorInit>>, temporalFiltersDict: Readonly<Record<string, TensorInit>>): void {
    Object.assign(this.spatialFiltersDict, spatialFiltersDict);
    Object.assign(this.temporalFiltersDict, temporalFiltersDict);
  }
}
