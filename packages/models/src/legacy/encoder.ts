import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, formatShape, type DataInfo } from '@openretina/contracts';
import { CoreReadout } from '../core-readout.js';
import type { TapFn } from './core-layer.js';
import type { ParametricFactorizedBatchConv3dCore } from './core.js';
import type { SpatialXFeature3dReadout } from './multi-readout.js';

/**
 * OpenRetina's legacy `LocalEncoder(core, readout)`: the core runs with the session (its log-speed) and the
 * session's readout follows. A {@link CoreReadout} (state dict `core.*`, `readout.<session>.*`), so everything that
 * takes a core-readout (MEIs, inner-neuron objectives, export) takes it. Without a session the outputs of all
 * sessions (each with its own log-speed) are concatenated in sorted order.
 */
export class LegacyEncoder extends CoreReadout {
  readonly legacyCore: ParametricFactorizedBatchConv3dCore;
  readonly legacyReadout: SpatialXFeature3dReadout;

  constructor(options: {
    core: ParametricFactorizedBatchConv3dCore;
    readout: SpatialXFeature3dReadout;
    inputShape: readonly [number, number, number];
    dataInfo?: DataInfo | undefined;
  }) {
    super(options);
    this.legacyCore = options.core;
    this.legacyReadout = options.readout;
  }

  override forward(x: tf.Tensor5D, options: { session?: string; tap?: TapFn } = {}): tf.Tensor3D {
    const { channels, height, width } = this.stimulus;
    if (x.rank !== 5 || x.shape[2] !== height || x.shape[3] !== width || x.shape[4] !== channels) {
      throw new ShapeError(
        `The model expects a stimulus [batch, time, ${height}, ${width}, ${channels}] (channels last), got ${formatShape(x.shape)}.`,
      );
    }
    if (options.session === undefined) {
      return tf.tidy(
        () =>
          tf.concat(
            this.sessions.map((s) => this.forward(x, { ...options, session: s })),
            -1,
          ) as tf.Tensor3D,
      );
    }
    const session = options.session;
    this.readout.numNeurons(session);
    return tf.tidy(() => {
      const features = this.legacyCore.forward(x, { session, ...(options.tap ? { tap: options.tap } : {}) });
      options.tap?.('core', features);
      return this.readout.forward(features, { session });
    });
  }

  /** OpenRetina's `LocalEncoder.stimulus_shape` hard-codes (B, 2, T, 18, 16); ours uses the model's input shape. */
  override stimulusShape(frames: number, batch = 1): [number, number, number, number, number] {
    return super.stimulusShape(frames, batch);
  }
}
