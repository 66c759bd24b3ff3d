import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  SPECIFICATION_VERSION,
  ShapeError,
  formatShape,
  type Core,
  type DataInfo,
  type LossParts,
  type MultiReadout,
  type StimulusSpec,
  type TrainableModel,
} from '@openretina/contracts';
import { Module, celltypePoissonLoss, correlationLoss, l1PoissonLoss, mseLoss, poissonLoss } from '@openretina/layers';

/**
 * A loss of a core-readout model (OpenRetina's `model.loss` / `model.evaluation_loss` modules), as a plain,
 * serialisable description. Every loss reduces to a scalar (OpenRetina's `per_neuron=True` gives a vector, which
 * neither backpropagates nor logs there, so it is not offered).
 * - `poisson`: `PoissonLoss3d(bias, avg)`: `Σ o − y·log(o + bias)` (mean with `avg`); the default training loss.
 * - `l1Poisson`: `L1PoissonLoss3d(bias, avg, gamma_l1)`: Poisson + `gammaL1·Σ|o|` (both means with `avg`).
 * - `celltypePoisson`: `CelltypePoissonLoss3d(bias, avg)`: each neuron's Poisson terms weighted by
 *   `(Σcounts / len(counts)) / counts[group − 1]`, with the session's `groupAssignment` (1-based cell types per neuron)
 *   and `groupCounts` (neurons per cell type).
 * - `mse`: `MSE3d`: `Σ (o − y)²`.
 * - `correlation`: `CorrelationLoss3d(bias, avg, negate)`: per-clip, per-neuron correlations, negated with `negate`
 *   (default true), summed (mean with `avg`); the default evaluation loss is `{ type: 'correlation', avg: true, negate: false }`.
 */
export type ModelLoss =
  | { type: 'poisson'; avg?: boolean; bias?: number }
  | { type: 'l1Poisson'; avg?: boolean; bias?: number; gammaL1?: number }
  | {
      type: 'celltypePoisson';
      avg?: boolean;
      bias?: number;
      /** Per session: the 1-based cell type of each neuron. */
      groupAssignment: Readonly<Record<string, ArrayLike<number>>>;
      /** Neurons per cell type (entry g − 1 for type g). */
      groupCounts: ArrayLike<number>;
    }
  | { type: 'mse' }
  | { type: 'correlation'; avg?: boolean; bias?: number; negate?: boolean };

/** OpenRetina's class name of a loss (its logging name in `test_step`). */
export function lossClassName(loss: ModelLoss): string {
  switch (loss.type) {
    case 'poisson':
      return 'PoissonLoss3d';
    case 'l1Poisson':
      return 'L1PoissonLoss3d';
    case 'celltypePoisson':
      return 'CelltypePoissonLoss3d';
    case 'mse':
      return 'MSE3d';
    case 'correlation':
      return 'CorrelationLoss3d';
  }
}

/** The default training loss: `PoissonLoss3d()` (sum, bias 1e-16). */
export const DEFAULT_LOSS: ModelLoss = Object.freeze({ type: 'poisson' }) as ModelLoss;
/** The default evaluation loss: `CorrelationLoss3d(avg=True, negate=False)` (mean per-clip correlation). */
export const DEFAULT_EVALUATION_LOSS: ModelLoss = Object.freeze({ type: 'correlation', avg: true, negate: false }) as ModelLoss;

/** Whether `loss` is the default `PoissonLoss3d()` (Poisson sum, bias 1e-16), the one ONNX engine graphs compute. */
export function isDefaultPoissonLoss(loss: ModelLoss): boolean {
  return loss.type === 'poisson' && !loss.avg && (loss.bias === undefined || loss.bias === 1e-16);
}

function checkLoss(loss: ModelLoss, what: string): ModelLoss {
  const known = ['poisson', 'l1Poisson', 'celltypePoisson', 'mse', 'correlation'];
  if (!loss || typeof loss !== 'object' || !known.includes((loss as { type?: string }).type ?? '')) {
    throw new ConfigError(`${what} must be one of the losses ${known.join(', ')}, got ${JSON.stringify(loss)}.`);
  }
  if ('perNeuron' in loss && (loss as { perNeuron?: unknown }).perNeuron) {
    throw new ConfigError(`${what}: per-neuron losses are vectors; a training or evaluation loss must be a scalar.`);
  }
  if (loss.type === 'celltypePoisson') {
    const counts = Array.from(loss.groupCounts);
    if (counts.length === 0 || counts.some((c) => !(c >= 0))) {
      throw new ConfigError(`${what}: groupCounts must be neuron counts per cell type, got [${counts.join(', ')}].`);
    }
    for (const [s, g] of Object.entries(loss.groupAssignment)) {
      for (const x of Array.from(g)) {
        if (!Number.isInteger(x) || x < 1 || x > counts.length) {
          throw new ConfigError(`${what}: session ${s} has the cell type ${x}; expected 1-based types in 1..${counts.length}.`);
        }
        if (!(counts[x - 1]! > 0)) throw new ConfigError(`${what}: session ${s} has the cell type ${x}, whose count is ${counts[x - 1]}.`);
      }
    }
  }
  return loss;
}

/** `loss(output, target)` for one session's batch: a scalar. */
export function applyModelLoss(loss: ModelLoss, output: tf.Tensor, target: tf.Tensor, session: string): tf.Scalar {
  return tf.tidy(() => {
    switch (loss.type) {
      case 'poisson':
        return poissonLoss(output, target, { avg: loss.avg ?? false, bias: loss.bias ?? 1e-16 }) as tf.Scalar;
      case 'l1Poisson': {
        // L1PoissonLoss3d: Poisson (sum or mean) + gamma·(Σ|o| or mean|o|), the same reduction as one elementwise sum
        return l1PoissonLoss(output, target, {
          avg: loss.avg ?? false,
          bias: loss.bias ?? 1e-16,
          gammaL1: loss.gammaL1 ?? 0.001,
        }) as tf.Scalar;
      }
      case 'celltypePoisson': {
        const groups = loss.groupAssignment[session];
        if (groups === undefined)
          throw new ConfigError(
            `CelltypePoissonLoss3d has no cell types for session ${session} (sessions: ${Object.keys(loss.groupAssignment).join(', ')}).`,
          );
        const n = output.shape[output.rank - 1];
        if (groups.length !== n)
          throw new ShapeError(`CelltypePoissonLoss3d: session ${session} has ${groups.length} cell types for ${n} neurons.`);
        return celltypePoissonLoss(output, target, groups, loss.groupCounts, {
          avg: loss.avg ?? false,
          bias: loss.bias ?? 1e-16,
        }) as tf.Scalar;
      }
      case 'mse':
        return mseLoss(output, target);
      case 'correlation':
        return correlationLoss(output, target, {
          avg: loss.avg ?? false,
          bias: loss.bias ?? 1e-16,
          negate: loss.negate ?? true,
        }) as tf.Scalar;
    }
  });
}

export interface CoreReadoutOptions {
  /** Any core satisfying the contracts' `Core` (ours, or a third party's without our base class). */
  core: Core;
  /** Any multi-session readout satisfying the contracts' `MultiReadout`. */
  readout: MultiReadout;
  /** Stimulus `[C, H, W]` the model was built for. */
  inputShape: readonly [number, number, number];
  dataInfo?: DataInfo | undefined;
  learningRate?: number;
  /** The training loss (OpenRetina's `loss`); default `PoissonLoss3d()`, the Poisson sum. */
  loss?: ModelLoss;
  /** The evaluation loss (OpenRetina's `evaluation_loss`); default `CorrelationLoss3d(avg=True, negate=False)`. */
  evaluationLoss?: ModelLoss;
}

/**
 * A core shared by all sessions plus per-session readouts (OpenRetina's `BaseCoreReadout` /
 * `UnifiedCoreReadout`). State-dict keys are `core.*` and `readout.<session>.*`, as in PyTorch. The core and the
 * readout may be any objects satisfying the contracts (they are reached through the contracts only).
 */
export class CoreReadout extends Module implements TrainableModel {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly core: Core;
  readonly readout: MultiReadout;
  readonly stimulus: StimulusSpec;
  dataInfo: DataInfo | undefined;
  readonly learningRate: number;
  private trainingLoss: ModelLoss = DEFAULT_LOSS;
  private evalLoss: ModelLoss = DEFAULT_EVALUATION_LOSS;

  constructor(options: CoreReadoutOptions) {
    super();
    this.core = this.registerModule('core', options.core);
    this.readout = this.registerModule('readout', options.readout);
    const [c, h, w] = options.inputShape;
    this.stimulus = { channels: c, height: h, width: w };
    this.dataInfo = options.dataInfo;
    this.learningRate = options.learningRate ?? 0.001;
    this.setLosses({
      ...(options.loss ? { loss: options.loss } : {}),
      ...(options.evaluationLoss ? { evaluationLoss: options.evaluationLoss } : {}),
    });
  }

  /** The training loss (`loss` of {@link CoreReadoutOptions}). */
  get lossFunction(): ModelLoss {
    return this.trainingLoss;
  }

  /** The evaluation loss (`evaluationLoss` of {@link CoreReadoutOptions}). */
  get evaluationLossFunction(): ModelLoss {
    return this.evalLoss;
  }

  /** Whether the training loss is the default Poisson sum (what ONNX engine graphs compute). */
  get usesDefaultLoss(): boolean {
    return isDefaultPoissonLoss(this.trainingLoss);
  }

  /** Replaces the training and/or evaluation loss (e.g. for a model loaded from a checkpoint); omitted ones stay. */
  setLosses(losses: { loss?: ModelLoss; evaluationLoss?: ModelLoss }): void {
    if (losses.loss !== undefined) this.trainingLoss = checkLoss(losses.loss, 'loss');
    if (losses.evaluationLoss !== undefined) this.evalLoss = checkLoss(losses.evaluationLoss, 'evaluationLoss');
  }

  /** The training loss of an output `[B, T_out, N]` against targets `[B, T, N]` of one session (no regularizers). */
  dataLoss(output: tf.Tensor3D, targets: tf.Tensor3D, session: string): tf.Scalar {
    return applyModelLoss(this.trainingLoss, output, targets, session);
  }

  /** The evaluation loss of an output against targets of one session (the mean per-clip correlation by default). */
  evaluationLoss(output: tf.Tensor3D, targets: tf.Tensor3D, session: string): tf.Scalar {
    return applyModelLoss(this.evalLoss, output, targets, session);
  }

  get sessions(): readonly string[] {
    return this.readout.sessions;
  }

  get neuronsPerSession(): Record<string, number> {
    return Object.fromEntries(this.sessions.map((s) => [s, this.readout.numNeurons(s)]));
  }

  /** Frames lost at the start (temporal receptive field − 1 plus cut frames). */
  get framesCut(): number {
    return this.core.framesCut;
  }

  stimulusShape(frames: number, batch = 1): [number, number, number, number, number] {
    return [batch, frames, this.stimulus.height, this.stimulus.width, this.stimulus.channels];
  }

  /**
   * Throws a `ShapeError` when `session`'s readout declares that it reads other core features (its `inShape`,
   * OpenRetina's `(c, t, h, w)`) than the core gives for this model's stimulus; a readout that declares none passes.
   * What lays a readout's weights out against the core's output (the ONNX engine and export, `WasmPredictor`) checks
   * with it first. The TF.js forward does not need it: each readout checks the features it gets, and some read any
   * size (a point-Gaussian readout samples at relative positions).
   */
  checkReadoutInput(session: string): void {
    this.readout.numNeurons(session); // an unknown session → its own clear error
    const declared = this.readout.readout?.(session).inShape;
    if (!declared) return;
    const [c, , h, w] = declared;
    const { channels, height, width } = this.stimulus;
    const [, hOut, wOut, cOut] = this.core.outputShape([this.framesCut + 1, height, width, channels]);
    if (c !== cOut || h !== hOut || w !== wOut) {
      throw new ShapeError(
        `The readout of session ${session} reads ${c} channels of ${h}×${w}, but the core gives ${cOut} of ${hOut}×${wOut}.`,
      );
    }
  }

  /** `[B, T, H, W, C]` → `[B, T − framesCut, N]` for one session, or all sessions concatenated (sorted) without one. */
  forward(x: tf.Tensor5D, options: { session?: string; tap?: (name: string, t: tf.Tensor5D) => void } = {}): tf.Tensor3D {
    const { channels, height, width } = this.stimulus;
    if (x.rank !== 5 || x.shape[2] !== height || x.shape[3] !== width || x.shape[4] !== channels) {
      throw new ShapeError(
        `The model expects a stimulus [batch, time, ${height}, ${width}, ${channels}] (channels last), got ${formatShape(x.shape)}.`,
      );
    }
    if (options.session !== undefined) this.readout.numNeurons(options.session); // unknown session → clear error before any work
    return tf.tidy(() => {
      const session = options.session === undefined ? {} : { session: options.session };
      // Like OpenRetina's BaseCoreReadout, the core is called without the session (a batch-adapted GRU core
      // inside a core-readout therefore uses its default log-speed, as in PyTorch).
      const coreForward = this.core.forward as (x: tf.Tensor5D, o: object) => tf.Tensor5D;
      const features = coreForward.call(this.core, x, options.tap ? { tap: options.tap } : {});
      options.tap?.('core', features);
      return this.readout.forward(features, session);
    });
  }

  async predict(x: tf.Tensor5D, options: { session?: string } = {}): Promise<tf.Tensor3D> {
    return this.forward(x, options);
  }

  /** The penalties of a step on `session`: `core` (the core's regularizer) and `readout` (that session's readout's). */
  regularizers(session: string): { core: tf.Scalar; readout: tf.Scalar } {
    return { core: this.core.regularizer(), readout: this.readout.regularizer(session) };
  }

  /**
   * The training objective on one batch: `data` (the training loss, Poisson sum by default) + `regularizers.core` +
   * `regularizers.readout` (the session's readout).
   */
  loss(inputs: tf.Tensor5D, targets: tf.Tensor3D, session: string): LossParts & { regularizers: { core: tf.Scalar; readout: tf.Scalar } } {
    return tf.tidy(() => {
      const out = this.forward(inputs, { session });
      const data = this.dataLoss(out, targets, session);
      const regularizers = this.regularizers(session);
      const total = tf.addN([data, regularizers.core, regularizers.readout]) as tf.Scalar;
      return { total, data, regularizers };
    });
  }

  /**
   * The trainable parameters a step on `session` touches: the core's and that session's readout's (other sessions'
   * readouts, `readout.<other>.*`, get no gradient, so the optimizer leaves them alone as PyTorch does).
   */
  parametersForSession(session: string): Map<string, tf.Variable> {
    const others = this.sessions.filter((s) => s !== session).map((s) => `readout.${s}.`);
    return new Map([...this.trainableParameters()].filter(([name]) => !others.some((p) => name.startsWith(p))));
  }

  /** The evaluation loss of a batch (by default the mean per-clip correlation, OpenRetina's evaluation metric). */
  evaluationMetric(inputs: tf.Tensor5D, targets: tf.Tensor3D, session: string): tf.Scalar {
    return tf.tidy(() => this.evaluationLoss(this.forward(inputs, { session }), targets, session));
  }

  /** Adds readouts for new sessions (fine-tuning on new recordings) and records them in the data info. */
  addSessions(nNeurons: Readonly<Record<string, number>>, meanActivity?: Readonly<Record<string, Float32Array>>): void {
    this.readout.addSessions(nNeurons, meanActivity);
    if (this.dataInfo) {
      this.dataInfo = {
        ...this.dataInfo,
        nNeuronsDict: { ...this.dataInfo.nNeuronsDict, ...nNeurons },
        meanActivityDict: { ...this.dataInfo.meanActivityDict, ...(meanActivity ?? {}) },
      };
    }
  }
}
