import * as tf from '@tensorflow/tfjs-core';
import { UnsupportedError } from '@openretina/contracts';
import { torchAbs } from '@openretina/layers';
import { ReadoutBase, type ReadoutInShape } from './readout-base.js';

/**
 * OpenRetina's `ClonedReadout`: another readout's output rescaled per neuron, `source(x)·alpha + beta`
 * (alpha 1, beta 0 at the start). The source stays owned by whoever built it (it is not disposed here); its
 * entries appear again under `_source.` in the state dict, as in PyTorch, while `namedParameters()` lists each
 * shared variable once. Entries: `alpha [N]`, `beta [N]`, `_source.*`.
 */
export class ClonedReadout<S extends ReadoutBase = ReadoutBase> extends ReadoutBase {
  readonly source: S;
  readonly alpha: tf.Variable;
  readonly beta: tf.Variable;

  constructor(source: S) {
    super();
    const n = source.outDims;
    this.alpha = this.registerParameter('alpha', tf.ones([n]));
    this.beta = this.registerParameter('beta', tf.zeros([n]));
    this.source = this.registerModule('_source', source);
  }

  get outDims(): number {
    return this.source.outDims;
  }

  /** The core features it reads, `[c, t, h, w]`: its source's (undefined when the source declares none). */
  get inShape(): ReadoutInShape | undefined {
    return (this.source as { inShape?: ReadoutInShape }).inShape;
  }

  protected get biasVariable(): undefined {
    return undefined;
  }

  /** OpenRetina's `initialize`: alpha back to 1, beta to 0 (a cloned readout takes no mean activity). */
  initialize(): void {
    tf.tidy(() => {
      this.alpha.assign(tf.onesLike(this.alpha));
      this.beta.assign(tf.zerosLike(this.beta));
    });
  }

  forward(features: tf.Tensor5D): tf.Tensor3D {
    const y = this.source.forward(features);
    const out = tf.tidy(() => tf.add(tf.mul(y, this.alpha), this.beta) as tf.Tensor3D);
    y.dispose();
    return out;
  }

  /**
   * Mean (`average`, default) or sum of `|source.features · alpha|`; needs a source with `features [..., N]` (a
   * point-Gaussian source's per-neuron features, shared ones expanded, as OpenRetina's `features` property).
   */
  featureL1(average = true): tf.Scalar {
    const source = this.source as unknown as { features?: unknown; readoutFeatures?: () => tf.Tensor };
    if (typeof source.readoutFeatures === 'function') {
      const perNeuron = source.readoutFeatures.bind(source);
      return tf.tidy(() => {
        const a = torchAbs(tf.mul(perNeuron(), this.alpha));
        return (average ? tf.mean(a) : tf.sum(a)) as tf.Scalar;
      });
    }
    const features = source.features;
    if (!(features instanceof tf.Tensor)) {
      throw new UnsupportedError(
        `ClonedReadout.featureL1 needs a source readout with "features"; ${this.source.constructor.name} has none.`,
      );
    }
    return tf.tidy(() => {
      const a = torchAbs(tf.mul(features, this.alpha));
      return (average ? tf.mean(a) : tf.sum(a)) as tf.Scalar;
    });
  }

  /** OpenRetina's `ClonedReadout` has no regularizer (the base class raises NotImplementedError): so does this. */
  regularizer(_reduction?: 'sum' | 'mean'): tf.Scalar {
    throw new UnsupportedError('ClonedReadout has no regularizer (as in OpenRetina); use featureL1() instead.');
  }

  /** Frees alpha and beta only: the source belongs to its builder. */
  dispose(): void {
    this.unregisterModule('_source', false);
    super.dispose();
  }
}
