import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, formatShape, type DifferentiableResponseModel } from '@openretina/contracts';
import { Linear, Module, toRng, torchAbs, type Rng } from '@openretina/layers';

/**
 * OpenRetina's `SparsityMSELoss` (Anthropic's "monosemantic features" recipe): `mse = mean over examples of
 * Σ_last (x − x̂)²`, `sparsity = mean over examples of Σ_last |z|`, `total = mse + λ·sparsity`.
 */
export class SparsityMSELoss {
  constructor(readonly sparsityFactor: number) {}

  static mseLoss(x: tf.Tensor, xHat: tf.Tensor): tf.Scalar {
    return tf.tidy(() => tf.mean(tf.sum(tf.squaredDifference(x, xHat), -1)) as tf.Scalar);
  }

  static sparsityLoss(z: tf.Tensor): tf.Scalar {
    return tf.tidy(() => tf.mean(tf.sum(torchAbs(z), -1)) as tf.Scalar);
  }

  forward(x: tf.Tensor, z: tf.Tensor, xHat: tf.Tensor): { total: tf.Scalar; mse: tf.Scalar; sparsity: tf.Scalar } {
    return tf.tidy(() => {
      const mse = SparsityMSELoss.mseLoss(x, xHat);
      const sparsity = SparsityMSELoss.sparsityLoss(z);
      return { total: tf.add(mse, tf.mul(sparsity, this.sparsityFactor)) as tf.Scalar, mse, sparsity };
    });
  }
}

export interface AutoencoderOptions {
  inputDim: number;
  hiddenDim: number;
  loss: SparsityMSELoss;
  learningRate?: number;
  /** Stored for compatibility; unused (as in OpenRetina). */
  unitNormLossFactor?: number;
  seed?: number | Rng;
}

/** What one training step of the autoencoder reports (OpenRetina logs the same quantities). */
export interface AutoencoderStepParts {
  total: tf.Scalar;
  mse: tf.Scalar;
  sparsity: tf.Scalar;
  /** Mean number of active hidden units per example (L0). */
  activeNeurons: tf.Scalar;
  /** `Σ |1 − ‖decoder column‖|`. */
  decoderNormDiff: tf.Scalar;
}

/**
 * OpenRetina's sparse `Autoencoder`: `encode(x) = relu(W_e·(x − b) + b_e)`, `decode(z) = W_d·z + b`.
 * State dict: `bias [in]`, `encoder.weight [hid, in]`, `encoder.bias [hid]`, `decoder.weight [in, hid]`
 * (PyTorch `nn.Linear` initialisation, `bias` zeros).
 *
 * The training recipe around it: `normalizeDecoder()` before each step (unit-norm decoder columns), `stepLoss(x)`,
 * then `projectDecoderGradient(grad)` on the decoder's gradient (OpenRetina's `on_after_backward`) before the
 * optimizer (Adam, `learningRate`) applies it.
 */
export class Autoencoder extends Module {
  readonly loss: SparsityMSELoss;
  readonly learningRate: number;
  readonly unitNormLossFactor: number;
  readonly bias: tf.Variable;
  readonly encoder: Linear;
  readonly decoder: Linear;

  constructor(options: AutoencoderOptions) {
    super();
    const rng = toRng(options.seed);
    this.loss = options.loss;
    this.learningRate = options.learningRate ?? 5e-4;
    this.unitNormLossFactor = options.unitNormLossFactor ?? 1;
    this.bias = this.registerParameter('bias', tf.zeros([options.inputDim]));
    this.encoder = this.registerModule('encoder', new Linear(options.inputDim, options.hiddenDim, { bias: true, rng }));
    this.decoder = this.registerModule('decoder', new Linear(options.hiddenDim, options.inputDim, { bias: false, rng }));
  }

  get inputDim(): number {
    return this.encoder.inFeatures;
  }

  get hiddenDim(): number {
    return this.encoder.outFeatures;
  }

  private check(x: tf.Tensor, n: number, what: string): void {
    if (x.rank < 1 || x.shape[x.rank - 1] !== n)
      throw new ShapeError(`Autoencoder.${what} expects [..., ${n}], got ${formatShape(x.shape)}.`);
  }

  /** `[..., in]` → hidden units `[..., hid]`. */
  encode(x: tf.Tensor): tf.Tensor {
    this.check(x, this.inputDim, 'encode');
    return tf.tidy(() => tf.relu(this.encoder.forward(tf.sub(x, this.bias))));
  }

  /** `[..., hid]` → reconstruction `[..., in]`. */
  decode(z: tf.Tensor): tf.Tensor {
    this.check(z, this.hiddenDim, 'decode');
    return tf.tidy(() => tf.add(this.decoder.forward(z), this.bias));
  }

  /** The reconstruction `decode(encode(x))`. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.decode(this.encode(x)));
  }

  /** `Σ |1 − ‖decoder column‖₂|` over the hidden units. */
  decoderNormDiffFromUnitNorm(): tf.Scalar {
    return tf.tidy(() => tf.sum(tf.abs(tf.sub(1, tf.norm(this.decoder.weight, 'euclidean', 0)))) as tf.Scalar);
  }

  /** Rescales every decoder column (one per hidden unit) to unit norm, in place (start of each training step). */
  normalizeDecoder(): void {
    tf.tidy(() => this.decoder.weight.assign(tf.div(this.decoder.weight, tf.norm(this.decoder.weight, 'euclidean', 0, true))));
  }

  /** Removes from a decoder-weight gradient `[in, hid]` its component parallel to each decoder column. */
  projectDecoderGradient(grad: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const unit = tf.div(this.decoder.weight, tf.norm(this.decoder.weight, 'euclidean', 0, true));
      return tf.sub(grad, tf.mul(tf.sum(tf.mul(grad, unit), 0, true), unit));
    });
  }

  /** The loss of one training step on activations `x [..., in]` and the statistics OpenRetina logs. */
  stepLoss(x: tf.Tensor): AutoencoderStepParts {
    return tf.tidy(() => {
      const z = this.encode(x);
      const xHat = this.decode(z);
      const { total, mse, sparsity } = this.loss.forward(x, z, xHat);
      const activeNeurons = tf.mean(tf.sum(tf.cast(tf.greater(z, 0), 'float32'), -1)) as tf.Scalar;
      return { total, mse, sparsity, activeNeurons, decoderNormDiff: this.decoderNormDiffFromUnitNorm() };
    });
  }

  /** Fraction of hidden units whose maximum activation over an epoch is ≤ `threshold`. */
  fractionNeuronsBelowThreshold(epochMax: ArrayLike<number>, threshold: number): number {
    let n = 0;
    for (let i = 0; i < epochMax.length; i++) if (epochMax[i]! <= threshold) n++;
    return n / this.hiddenDim;
  }
}

/**
 * OpenRetina's `AutoencoderWithModel`: the hidden units of an autoencoder trained on a response model's outputs.
 * `forward(x)` runs the model for every session (sorted), concatenates the responses along the neuron axis and
 * encodes them: `[B, T, H, W, C]` → `[B, T', hid]`. State dict: `model.*`, `autoencoder.*`.
 */
export class AutoencoderWithModel extends Module {
  readonly model: DifferentiableResponseModel & Module;
  readonly autoencoder: Autoencoder;

  constructor(model: DifferentiableResponseModel & Module, autoencoder: Autoencoder) {
    super();
    this.model = this.registerModule('model', model);
    this.autoencoder = this.registerModule('autoencoder', autoencoder);
  }

  forward(x: tf.Tensor5D): tf.Tensor3D {
    return tf.tidy(() => {
      const outs = [...this.model.sessions].sort().map((s) => this.model.forward(x, { session: s }));
      const activations = outs.length === 1 ? outs[0]! : tf.concat(outs, -1);
      return this.autoencoder.encode(activations) as tf.Tensor3D;
    });
  }
}
