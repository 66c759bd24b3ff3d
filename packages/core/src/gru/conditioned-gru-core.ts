import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, formatShape } from '@openretina/contracts';
import { FiLM, GRUModule, toRng } from '@openretina/layers';
import { GRUCoreLayer, type SessionOption } from './blocks.js';
import { ConvGRUCore } from './conv-gru-core.js';
import type { ConvGRUCoreOptions } from './options.js';

/*
 * OpenRetina's `ConditionedGRUCore`: the conv-GRU core with a FiLM layer after each normalised block.
 */

export interface ConditionedGRUCoreOptions extends ConvGRUCoreOptions {
  /** Size of the conditioning vector fed to every FiLM layer. */
  condDim: number;
}

/**
 * OpenRetina's `ConditionedGRUCore`: a `ConvGRUCore` with a FiLM layer (`film_<i>`, i = the index of the block in
 * `features`) after every block that has a convolution and a BatchNorm. `forward(x, { conditioning })` takes a
 * `[B, cond_dim]` conditioning tensor (zeros when omitted).
 */
export class ConditionedGRUCore extends ConvGRUCore {
  readonly condDim: number;
  private readonly films = new Map<number, FiLM>();

  constructor(options: ConditionedGRUCoreOptions) {
    super(options);
    this.condDim = options.condDim;
    const rng = toRng(options.seed).fork();
    let j = 0;
    this.features.blocks.forEach(({ module }, i) => {
      if (module instanceof GRUCoreLayer && module.norm) {
        this.films.set(i, this.registerModule(`film_${i}`, new FiLM(this.hiddenChannels[j]!, this.condDim, { seed: rng.fork() })));
        j++;
      }
    });
  }

  override forward(x: tf.Tensor5D, options: SessionOption & { conditioning?: tf.Tensor2D } = {}): tf.Tensor5D {
    this.checkInput(x, 'ConditionedGRUCore');
    const c = options.conditioning;
    if (c && (c.rank !== 2 || c.shape[0] !== x.shape[0] || c.shape[1] !== this.condDim)) {
      throw new ShapeError(`ConditionedGRUCore expects conditioning [${x.shape[0]}, ${this.condDim}], got ${formatShape(c.shape)}.`);
    }
    const session = this.convSession(options.session);
    return tf.tidy(() => {
      const cond = c ?? tf.zeros([x.shape[0], this.condDim]);
      let y = x;
      this.features.blocks.forEach(({ module }, i) => {
        y = module instanceof GRUModule ? (module.forward(y) as tf.Tensor5D) : module.forward(y, session);
        const film = this.films.get(i);
        if (film) y = film.forward(y, cond);
      });
      return y;
    });
  }
}
