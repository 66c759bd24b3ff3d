import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  SPECIFICATION_VERSION,
  UnsupportedError,
  type DifferentiableResponseModel,
  type ResponseModel,
  type StimulusSpec,
} from '@openretina/contracts';

/**
 * Several response models as one (OpenRetina's `EnsembleModel`): the prediction is the mean of the members'
 * predictions. Members must agree on sessions, neurons, stimulus and frames cut. `forward` (differentiable) is
 * available when every member has one (TF.js models); `dispose` disposes the members.
 */
export class EnsembleModel implements DifferentiableResponseModel {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly members: readonly ResponseModel[];

  constructor(members: readonly ResponseModel[]) {
    if (members.length === 0) throw new ConfigError('An ensemble needs at least one member.');
    const first = members[0]!;
    for (const [i, m] of members.entries()) {
      const same =
        JSON.stringify(m.neuronsPerSession) === JSON.stringify(first.neuronsPerSession) &&
        JSON.stringify(m.stimulus) === JSON.stringify(first.stimulus) &&
        m.framesCut === first.framesCut;
      if (!same) {
        throw new ConfigError(
          `Ensemble member ${i} (${JSON.stringify({ neurons: m.neuronsPerSession, stimulus: m.stimulus, framesCut: m.framesCut })}) differs from member 0 (${JSON.stringify({ neurons: first.neuronsPerSession, stimulus: first.stimulus, framesCut: first.framesCut })}).`,
        );
      }
    }
    this.members = [...members];
  }

  get sessions(): readonly string[] {
    return this.members[0]!.sessions;
  }
  get neuronsPerSession(): Readonly<Record<string, number>> {
    return this.members[0]!.neuronsPerSession;
  }
  get stimulus(): StimulusSpec {
    return this.members[0]!.stimulus;
  }
  get framesCut(): number {
    return this.members[0]!.framesCut;
  }

  stimulusShape(frames: number, batch = 1): [number, number, number, number, number] {
    return this.members[0]!.stimulusShape(frames, batch);
  }

  forward(x: tf.Tensor5D, options: { session?: string } = {}): tf.Tensor3D {
    const forwards = this.members.map((m) => (m as Partial<DifferentiableResponseModel>).forward);
    if (forwards.some((f) => typeof f !== 'function'))
      throw new UnsupportedError('forward() needs every ensemble member to be a TF.js model; use predict().');
    return tf.tidy(() => tf.div(tf.addN(this.members.map((m, i) => forwards[i]!.call(m, x, options))), this.members.length) as tf.Tensor3D);
  }

  async predict(x: tf.Tensor5D, options: { session?: string } = {}): Promise<tf.Tensor3D> {
    const outs: tf.Tensor3D[] = [];
    try {
      for (const m of this.members) outs.push(await m.predict(x, options));
      return tf.tidy(() => tf.div(tf.addN(outs), outs.length) as tf.Tensor3D);
    } finally {
      tf.dispose(outs);
    }
  }

  dispose(): void {
    for (const m of this.members) m.dispose();
  }
}
