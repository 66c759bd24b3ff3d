import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, formatShape, type DifferentiableResponseModel } from '@openretina/contracts';
import { MeanReducer, SliceMeanReducer, type ResponseReducer } from './reducers.js';

/** A scalar to maximise, as a differentiable function of the stimulus `[1, T, H, W, C]`. */
export interface StimulusObjective {
  forward(stimulus: tf.Tensor5D): tf.Scalar;
}

/** Receives named intermediate outputs during a forward pass (`layer0.conv`, `layer0.nonlin`, …, `core`). */
export type TapFn = (name: string, tensor: tf.Tensor5D) => void;

/** A response model that can report its inner outputs (our `CoreReadout` does). */
export interface TappableResponseModel extends DifferentiableResponseModel {
  forward(x: tf.Tensor5D, options?: { session?: string; tap?: TapFn }): tf.Tensor3D;
}

function sessionOption(session: string | undefined): { session?: string } {
  return session === undefined ? {} : { session };
}

/**
 * Base of the objectives on a model's responses (OpenRetina's `AbstractObjective`): `modelForward` runs the model
 * for one session (all sessions concatenated when `session` is undefined) and drops the batch axis of a batch of one.
 */
export abstract class AbstractObjective implements StimulusObjective {
  constructor(
    readonly model: DifferentiableResponseModel,
    readonly session: string | undefined,
  ) {}

  /** `[1, T, H, W, C]` → responses `[T_out, N]`. */
  modelForward(stimulus: tf.Tensor5D): tf.Tensor2D {
    if (stimulus.shape[0] !== 1) {
      throw new ShapeError(
        `${this.constructor.name} optimises one stimulus at a time: expected a batch of 1, got ${formatShape(stimulus.shape)}.`,
      );
    }
    return tf.tidy(() => tf.squeeze(this.model.forward(stimulus, sessionOption(this.session)), [0]) as tf.Tensor2D);
  }

  abstract forward(stimulus: tf.Tensor5D): tf.Scalar;
}

function checkIndices(indices: readonly number[], n: number, what: string): void {
  if (indices.length === 0) throw new ConfigError(`${what}: no neuron indices given.`);
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new ConfigError(`${what}: neuron index ${i} is out of range; the model has ${n} neurons here (0…${n - 1}).`);
    }
  }
}

/** The reduced (e.g. time-averaged) mean response of one neuron or a group of neurons (OpenRetina's `IncreaseObjective`). */
export class IncreaseObjective extends AbstractObjective {
  readonly neuronIndices: readonly number[];

  constructor(
    model: DifferentiableResponseModel,
    neuronIndices: number | readonly number[],
    session: string | undefined,
    readonly reducer: ResponseReducer,
  ) {
    super(model, session);
    this.neuronIndices = typeof neuronIndices === 'number' ? [neuronIndices] : [...neuronIndices];
  }

  forward(stimulus: tf.Tensor5D): tf.Scalar {
    return tf.tidy(() => this.fromResponses(this.modelForward(stimulus)));
  }

  /** The objective of the model's responses `[T_out, N]` (what {@link forward} computes after the model). */
  fromResponses(responses: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => {
      checkIndices(this.neuronIndices, responses.shape[1], 'IncreaseObjective');
      const selected = tf.gather(responses, tf.tensor1d(this.neuronIndices as number[], 'int32'), 1);
      return this.reducer.forward(tf.mean(selected, -1)) as tf.Scalar;
    });
  }

  /**
   * Whether the objective is linear in the responses (a mean or slice-mean reducer): then its gradient with respect
   * to the responses is a constant, and a compute engine's vector-Jacobian product gives the stimulus gradient.
   */
  get linearInResponses(): boolean {
    return this.reducer instanceof MeanReducer || this.reducer instanceof SliceMeanReducer;
  }
}

/** `on/t − logsumexp(all/t) + log(len(all))`, the contrastive score of Burg et al. (ICLR 2024). */
export function contrastiveObjective(onScore: tf.Scalar, allScores: tf.Tensor1D, temperature: number): tf.Scalar {
  return tf.tidy(() => {
    const inv = 1 / temperature;
    return tf.add(tf.sub(tf.mul(inv, onScore), tf.logSumExp(tf.mul(inv, allScores), 0)), Math.log(allScores.shape[0])) as tf.Scalar;
  });
}

/**
 * The "most discriminative stimulus" objective (OpenRetina's `ContrastiveNeuronObjective`): the reduced responses of
 * an ON group of neurons against those of each OFF group, through a temperature-scaled softmax.
 */
export class ContrastiveNeuronObjective extends AbstractObjective {
  constructor(
    model: DifferentiableResponseModel,
    readonly onClusterIndices: readonly number[],
    readonly offClusterIndicesList: readonly (readonly number[])[],
    session: string | undefined,
    readonly reducer: ResponseReducer,
    readonly temperature = 1.6,
  ) {
    super(model, session);
  }

  forward(stimulus: tf.Tensor5D): tf.Scalar {
    return tf.tidy(() => {
      const responses = this.modelForward(stimulus);
      const n = responses.shape[1];
      const scores = this.reducer.forward(responses) as tf.Tensor1D;
      const groupMean = (idx: readonly number[]): tf.Scalar => {
        checkIndices(idx, n, 'ContrastiveNeuronObjective');
        return tf.mean(tf.gather(scores, tf.tensor1d(idx as number[], 'int32'))) as tf.Scalar;
      };
      const on = groupMean(this.onClusterIndices);
      const offs = this.offClusterIndicesList.map(groupMean);
      return contrastiveObjective(on, tf.stack([on, ...offs]) as tf.Tensor1D, this.temperature);
    });
  }
}

/**
 * Maps OpenRetina's hook keys to our tap names: `core_features_layer0` → `layer0`,
 * `core_features_layer0_conv` → `layer0.conv`, `core` stays `core`. Our own names pass through.
 */
export function resolveLayerName(name: string): string {
  const m = /^core_features_(layer\d+)(?:_(\w+))?$/.exec(name);
  if (m) return m[2] ? `${m[1]}.${m[2]}` : m[1]!;
  return name;
}

/**
 * The centre unit of one channel of an inner layer (OpenRetina's `InnerNeuronVisualizationObjective`):
 * `reducer(mean over batch(out[:, :, H//2, W//2, channel]))`. Layers are the model's tap names (`layer0.conv`,
 * `layer0.norm`, `layer0.nonlin`, `layer0.pool`, `core`) plus each block's output `layer<i>` (its last tap).
 */
export class InnerNeuronVisualizationObjective implements StimulusObjective {
  layerName = '';
  channelId = -1;
  private names: string[] | undefined;
  private readonly shapeCache = new Map<string, number[] | undefined>();

  constructor(
    readonly model: TappableResponseModel,
    readonly session: string | undefined,
    readonly reducer: ResponseReducer,
  ) {}

  /** Runs the model once and returns every layer output by name (the caller disposes them). */
  private probe(stimulusShape: readonly number[]): Map<string, tf.Tensor5D> {
    const outputs = new Map<string, tf.Tensor5D>();
    tf.tidy(() => {
      const x = tf.zeros(stimulusShape as [number, number, number, number, number]) as tf.Tensor5D;
      this.model.forward(x, {
        ...sessionOption(this.session),
        tap: (name, t) => {
          const block = /^(layer\d+)\./.exec(name)?.[1];
          for (const key of block ? [name, block] : [name]) {
            const old = outputs.get(key);
            if (old) old.dispose();
            outputs.set(key, tf.keep(tf.clone(t)));
          }
        },
      });
    });
    return outputs;
  }

  /** Every layer name this model offers, in forward order (block outputs after their parts). */
  layerNames(): string[] {
    if (!this.names) {
      const outputs = this.probe(this.model.stimulusShape(this.model.framesCut + 1));
      this.names = [...outputs.keys()];
      tf.dispose([...outputs.values()]);
    }
    return [...this.names];
  }

  /** The block outputs `layer0`, `layer1`, … (what OpenRetina's `visualize` optimises). */
  blockNames(): string[] {
    return this.layerNames().filter((n) => /^layer\d+$/.test(n));
  }

  setLayerChannel(layer: string, channel: number): void {
    const name = resolveLayerName(layer);
    const known = this.layerNames();
    if (!known.includes(name)) throw new ConfigError(`Layer "${layer}" is not one of the model's layers: ${known.join(', ')}.`);
    if (!Number.isInteger(channel) || channel < 0) throw new ConfigError(`channel must be an integer ≥ 0, got ${channel}.`);
    this.layerName = name;
    this.channelId = channel;
  }

  /** Channels-last output shape `[B, T, H, W, C]` of a layer for a stimulus shape, or undefined for an unknown layer. */
  getOutputShapeForLayer(layer: string, stimulusShape: readonly number[]): number[] | undefined {
    const name = resolveLayerName(layer);
    const key = `${name}|${stimulusShape.join(',')}`;
    if (!this.shapeCache.has(key)) {
      const outputs = this.probe(stimulusShape);
      for (const [n, t] of outputs) this.shapeCache.set(`${n}|${stimulusShape.join(',')}`, [...t.shape]);
      if (!outputs.has(name)) this.shapeCache.set(key, undefined);
      tf.dispose([...outputs.values()]);
    }
    const s = this.shapeCache.get(key);
    return s ? [...s] : undefined;
  }

  forward(stimulus: tf.Tensor5D): tf.Scalar {
    if (this.layerName === '' || this.channelId < 0) {
      throw new ConfigError('InnerNeuronVisualizationObjective: call setLayerChannel(layer, channel) first.');
    }
    const target = this.layerName;
    const block = /^layer\d+$/.test(target);
    const box: { captured?: tf.Scalar } = {};
    const reduce = (t: tf.Tensor5D): tf.Scalar => {
      const [, , h, w, c] = t.shape;
      if (this.channelId >= c) {
        throw new ConfigError(`Layer "${target}" has ${c} channels; channel ${this.channelId} does not exist.`);
      }
      const trace = tf.reshape(tf.slice(t, [0, 0, Math.floor(h / 2), Math.floor(w / 2), this.channelId], [-1, -1, 1, 1, 1]), [
        t.shape[0],
        t.shape[1],
      ]);
      return this.reducer.forward(tf.mean(trace, 0)) as tf.Scalar;
    };
    const out = this.model.forward(stimulus, {
      ...sessionOption(this.session),
      tap: (name, t) => {
        // a block's output is its last part: keep the objective of the latest one
        if (name === target || (block && name.startsWith(`${target}.`))) {
          box.captured?.dispose();
          box.captured = tf.keep(reduce(t));
        }
      },
    });
    out.dispose();
    if (!box.captured) throw new ConfigError(`Layer "${target}" produced no output in this forward pass.`);
    // hand back an ordinary (un-kept) tensor so that the caller's tidy scopes own it
    const result = tf.clone(box.captured);
    box.captured.dispose();
    return result;
  }
}
