import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  SPECIFICATION_VERSION,
  ShapeError,
  formatShape,
  type DifferentiableResponseModel,
  type StimulusSpec,
} from '@openretina/contracts';
import { Module, ModuleList } from '@openretina/layers';

/** A response model that is also a `Module` (so the ensemble has a state dict). */
export type EnsembleMember = DifferentiableResponseModel & Module;

/**
 * OpenRetina's `EnsembleModel` for response models: the prediction is the mean of the members' predictions.
 * The members must agree on sessions, neurons per session, stimulus and `framesCut`. State dict:
 * `members.0.*`, `members.1.*`, …; `train()`, `eval()` and `dispose()` apply to every member.
 */
export class EnsembleModel<M extends EnsembleMember = EnsembleMember> extends Module implements DifferentiableResponseModel {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly members: ModuleList<M>;

  constructor(members: readonly M[]) {
    super();
    if (members.length === 0) throw new ConfigError('An ensemble needs at least one member.');
    const [first, ...rest] = members;
    const describe = (m: M): string =>
      JSON.stringify({ sessions: [...m.sessions], neurons: m.neuronsPerSession, stimulus: m.stimulus, framesCut: m.framesCut });
    rest.forEach((m, i) => {
      if (describe(m) !== describe(first!)) {
        throw new ConfigError(`Ensemble member ${i + 1} does not match member 0: ${describe(m)} vs ${describe(first!)}.`);
      }
    });
    this.members = this.registerModule('members', new ModuleList<M>(members));
  }

  private get first(): M {
    return this.members.at(0);
  }

  get sessions(): readonly string[] {
    return this.first.sessions;
  }

  get neuronsPerSession(): Readonly<Record<string, number>> {
    return this.first.neuronsPerSession;
  }

  get stimulus(): StimulusSpec {
    return this.first.stimulus;
  }

  get framesCut(): number {
    return this.first.framesCut;
  }

  stimulusShape(frames: number, batch = 1): [number, number, number, number, number] {
    return this.first.stimulusShape(frames, batch);
  }

  /** The mean of the members' responses `[B, T − framesCut, N]`. */
  forward(x: tf.Tensor5D, options: { session?: string } = {}): tf.Tensor3D {
    return tf.tidy(() => {
      const outs = [...this.members].map((m) => m.forward(x, options));
      const shape = outs[0]!.shape;
      outs.forEach((o, i) => {
        if (o.shape.some((d, j) => d !== shape[j])) {
          throw new ShapeError(`Ensemble member ${i} returned ${formatShape(o.shape)}, member 0 returned ${formatShape(shape)}.`);
        }
      });
      // Stack on a new leading axis and average, as OpenRetina does.
      return outs.length === 1 ? outs[0]! : (tf.mean(tf.stack(outs, 0), 0) as tf.Tensor3D);
    });
  }

  async predict(x: tf.Tensor5D, options: { session?: string } = {}): Promise<tf.Tensor3D> {
    return this.forward(x, options);
  }
}
