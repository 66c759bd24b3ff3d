import * as tf from '@tensorflow/tfjs';
import {
  SPECIFICATION_VERSION,
  ShapeError,
  formatShape,
  type Core,
  type DataInfo,
  type DifferentiableResponseModel,
  type MultiReadout,
  type StimulusSpec,
} from '@openretina/contracts';
import { Module, clipCorrelations, poissonLoss } from '@openretina/layers';

/** What `CoreReadout.loss` reports: the training objective and its parts. */
export interface LossParts {
  /** Poisson loss (sum) + core regularizer + readout regularizer: what the training step minimises. */
  total: tf.Scalar;
  poisson: tf.Scalar;
  coreRegularizer: tf.Scalar;
  readoutRegularizer: tf.Scalar;
}

export interface CoreReadoutOptions {
  core: Core & Module;
  readout: MultiReadout & Module;
  /** Stimulus `[C, H, W]` the model was built for. */
  inputShape: readonly [number, number, number];
  dataInfo?: DataInfo | undefined;
  learningRate?: number;
}

/**
 * A core shared by all sessions plus per-session readouts (OpenRetina's `BaseCoreReadout` /
 * `UnifiedCoreReadout`). State-dict keys are `core.*` and `readout.<session>.*`, as in PyTorch.
 */
export class CoreReadout extends Module implements DifferentiableResponseModel {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly core: Core & Module;
  readonly readout: MultiReadout & Module;
  readonly stimulus: StimulusSpec;
  dataInfo: DataInfo | undefined;
  readonly learningRate: number;

  constructor(options: CoreReadoutOptions) {
    super();
    this.core = this.registerModule('core', options.core);
    this.readout = this.registerModule('readout', options.readout);
    const [c, h, w] = options.inputShape;
    this.stimulus = { channels: c, height: h, width: w };
    this.dataInfo = options.dataInfo;
    this.learningRate = options.learningRate ?? 0.001;
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

  /** The training objective on one batch: Poisson (sum) + core regularizer + the session's readout regularizer. */
  loss(inputs: tf.Tensor5D, targets: tf.Tensor3D, session: string): LossParts {
    const parts = tf.tidy(() => {
      const out = this.forward(inputs, { session });
      const poisson = poissonLoss(out, targets) as tf.Scalar;
      const coreRegularizer = this.core.regularizer();
      const readoutRegularizer = this.readout.regularizer(session);
      const total = tf.addN([poisson, coreRegularizer, readoutRegularizer]) as tf.Scalar;
      return { total, poisson, coreRegularizer, readoutRegularizer };
    });
    return parts;
  }

  /** Mean per-clip correlation (OpenRetina's evaluation metric) of a batch. */
  evaluationMetric(inputs: tf.Tensor5D, targets: tf.Tensor3D, session: string): tf.Scalar {
    return tf.tidy(() => tf.mean(clipCorrelations(this.forward(inputs, { session }), targets)) as tf.Scalar);
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
