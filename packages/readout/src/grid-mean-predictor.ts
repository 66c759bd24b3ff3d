import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@openretina/contracts';
import { Linear, Module, type Rng } from '@openretina/layers';

/** OpenRetina's `grid_mean_predictor` settings of the point-Gaussian readout. */
export interface GridMeanPredictorOptions {
  /** ELU + Linear blocks after the first Linear (default 0: one Linear straight to (x, y)). */
  hiddenLayers?: number;
  /** Width of the hidden layers (default 20). */
  hiddenFeatures?: number;
  /** A final tanh, keeping the locations in (−1, 1) (default false). */
  finalTanh?: boolean;
}

/**
 * The point-Gaussian readout's `mu_transform` with a grid-mean predictor: PyTorch's `nn.Sequential` of
 * `Linear(d, h or 2)`, then per hidden layer `ELU, Linear(h, h or 2)`, then an optional `Tanh`. Children are named by
 * their index in that sequence (`0`, `2`, `4`, …), so the state dict has PyTorch's `mu_transform.<i>.weight/bias`.
 * Maps source-grid rows `[N, d]` to mean locations `[N, 2]`.
 */
export class GridMeanPredictor extends Module {
  readonly linears: Linear[] = [];
  readonly finalTanh: boolean;

  constructor(inputDimensions: number, options: GridMeanPredictorOptions, rng: Rng) {
    super();
    const hiddenLayers = options.hiddenLayers ?? 0;
    const hiddenFeatures = options.hiddenFeatures ?? 20;
    if (!Number.isInteger(hiddenLayers) || hiddenLayers < 0 || !Number.isInteger(hiddenFeatures) || hiddenFeatures < 1) {
      throw new ConfigError(
        `grid_mean_predictor needs hidden_layers ≥ 0 and hidden_features ≥ 1 (integers), got ${hiddenLayers} and ${hiddenFeatures}.`,
      );
    }
    this.finalTanh = options.finalTanh ?? false;
    const widths = [inputDimensions, ...new Array<number>(hiddenLayers).fill(hiddenFeatures), 2];
    for (let i = 0; i + 1 < widths.length; i++) {
      this.linears.push(this.registerModule(String(2 * i), new Linear(widths[i]!, widths[i + 1]!, { rng })));
    }
  }

  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let y: tf.Tensor = x;
      this.linears.forEach((linear, i) => {
        y = linear.forward(i === 0 ? y : tf.elu(y));
      });
      return (this.finalTanh ? tf.tanh(y) : y) as tf.Tensor2D;
    });
  }
}
