import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@openretina/contracts';
import { GaussianLaplaceL2, LaplaceL2norm, Module, torchAbs, toRng, xavierNormal, type Rng } from '@openretina/layers';
import { ReadoutBase, type ReadoutInShape } from './readout-base.js';

/** `torch.exp` for "exp", otherwise the `torch.nn.functional` function of that name (the common ones). */
export type LnpNonlinearity =
  | 'exp'
  | 'softplus'
  | 'relu'
  | 'elu'
  | 'selu'
  | 'sigmoid'
  | 'tanh'
  | 'leaky_relu'
  | ((x: tf.Tensor) => tf.Tensor);

export interface LNPReadoutOptions {
  /** Core output `(c, t, h, w)`: the kernel covers the whole `h × w` map. */
  inShape: ReadoutInShape;
  outDims: number;
  meanActivity?: Float32Array | undefined;
  smoothWeight?: number;
  sparseWeight?: number;
  smoothRegularizer?: 'LaplaceL2norm' | 'GaussianLaplaceL2';
  laplacePadding?: number | null;
  nonlinearity?: LnpNonlinearity;
  bias?: boolean;
  seed?: number | Rng;
}

/** The `nn.Conv3d(c, N, (1, h, w))` of the LNP readout: entries `weight [N, c, 1, h, w]` and `bias [N]`. */
export class InnerProductKernel extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;
  constructor(c: number, n: number, h: number, w: number, bias: boolean, rng: Rng) {
    super();
    // PyTorch's Conv3d default bias init U(±1/√fan_in); its weight init is replaced by xavier_normal_.
    const bound = 1 / Math.sqrt(c * h * w);
    this.weight = this.registerParameter('weight', xavierNormal(rng, [n, c, 1, h, w]));
    this.bias = bias ? this.registerParameter('bias', rng.rand([n], -bound, bound)) : undefined;
  }
}

/**
 * OpenRetina's `LNPReadout`: a per-frame spatial linear filter per neuron over all channels (a `(1, h, w)` conv
 * covering the map), then a static nonlinearity (`exp` by default). No temporal filter. `[B, T, h, w, c]` →
 * `[B, T, N]`. Entries: `inner_product_kernel.weight [N, c, 1, h, w]`, `inner_product_kernel.bias [N]` (with
 * `bias`), `_smooth_reg_fn.laplace.filter [1, 1, 3, 3]`.
 */
export class LNPReadout extends ReadoutBase {
  readonly outDims: number;
  readonly inShape: ReadoutInShape;
  readonly smoothWeight: number;
  readonly sparseWeight: number;
  readonly nonlinearity: LnpNonlinearity;
  readonly innerProductKernel: InnerProductKernel;
  readonly smoothRegularizer: LaplaceL2norm | GaussianLaplaceL2;

  constructor(options: LNPReadoutOptions) {
    super();
    const rng = toRng(options.seed);
    const [c, , h, w] = options.inShape;
    const n = options.outDims;
    this.inShape = options.inShape;
    this.outDims = n;
    this.smoothWeight = options.smoothWeight ?? 0;
    this.sparseWeight = options.sparseWeight ?? 0;
    this.nonlinearity = options.nonlinearity ?? 'exp';
    if (typeof this.nonlinearity !== 'function' && !(this.nonlinearity in NONLINEARITIES)) {
      throw new ConfigError(`Unknown LNP nonlinearity "${String(this.nonlinearity)}".`);
    }
    this.innerProductKernel = this.registerModule('inner_product_kernel', new InnerProductKernel(c, n, h, w, options.bias ?? false, rng));
    const padding = options.laplacePadding ?? null;
    const kind = options.smoothRegularizer ?? 'LaplaceL2norm';
    if (kind === 'LaplaceL2norm') {
      this.smoothRegularizer = this.registerModule('_smooth_reg_fn', new LaplaceL2norm({ padding }));
    } else if (kind === 'GaussianLaplaceL2') {
      this.smoothRegularizer = this.registerModule('_smooth_reg_fn', new GaussianLaplaceL2([h, w], { padding }));
    } else {
      throw new ConfigError(`Unknown smoothRegularizer "${String(kind)}": expected LaplaceL2norm or GaussianLaplaceL2.`);
    }
    // OpenRetina's `initialize`: only a given mean activity replaces the conv's bias.
    if (options.meanActivity !== undefined) this.initializeBias(options.meanActivity);
  }

  protected get biasVariable(): tf.Variable | undefined {
    return this.innerProductKernel.bias;
  }

  /** `[B, T, h, w, c]` → `[B, T, N]`. */
  forward(x: tf.Tensor5D): tf.Tensor3D {
    const [c, , h, w] = this.inShape;
    this.checkInput(x, c, h, w);
    return tf.tidy(() => {
      const [b, t] = x.shape;
      const n = this.outDims;
      const kernel = tf.reshape(tf.transpose(tf.reshape(this.innerProductKernel.weight, [n, c, h * w]), [2, 1, 0]), [h * w * c, n]);
      let y = tf.matMul(tf.reshape(x, [b * t, h * w * c]), kernel);
      if (this.innerProductKernel.bias) y = tf.add(y, this.innerProductKernel.bias);
      const f = this.nonlinearity;
      return tf.reshape(typeof f === 'function' ? f(y) : NONLINEARITIES[f](y), [b, t, n]) as tf.Tensor3D;
    });
  }

  /** Mean (or sum) of `|weight|`. */
  weightsL1(average = true): tf.Scalar {
    return tf.tidy(() => {
      const a = torchAbs(this.innerProductKernel.weight);
      return (average ? tf.mean(a) : tf.sum(a)) as tf.Scalar;
    });
  }

  /** The smoothness penalty of the kernel `[N, c, h, w]` (summed form). */
  laplace(): tf.Scalar {
    return tf.tidy(() => {
      const [c, , h, w] = this.inShape;
      return this.smoothRegularizer.forward(tf.reshape(this.innerProductKernel.weight, [this.outDims, c, h, w]));
    });
  }

  /** `smooth_weight·laplace() + sparse_weight·weightsL1()`; the reduction is ignored, as in OpenRetina. */
  regularizer(_reduction?: 'sum' | 'mean'): tf.Scalar {
    return tf.tidy(() => tf.add(tf.mul(this.laplace(), this.smoothWeight), tf.mul(this.weightsL1(), this.sparseWeight)));
  }
}

const NONLINEARITIES: Record<Exclude<LnpNonlinearity, (x: tf.Tensor) => tf.Tensor>, (x: tf.Tensor) => tf.Tensor> = {
  exp: (x) => tf.exp(x),
  softplus: (x) => tf.softplus(x),
  relu: (x) => tf.relu(x),
  elu: (x) => tf.elu(x),
  selu: (x) => tf.selu(x),
  sigmoid: (x) => tf.sigmoid(x),
  tanh: (x) => tf.tanh(x),
  leaky_relu: (x) => tf.leakyRelu(x, 0.01),
};
