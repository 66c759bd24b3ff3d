import * as tf from '@tensorflow/tfjs-core';
import {
  SPECIFICATION_VERSION,
  UnsupportedError,
  type DifferentiableResponseModel,
  type ResponseModel,
  type StimulusSpec,
} from '@openretina/contracts';
import { checkEnsembleMembers, meanResponse } from './ensemble-members.js';

/**
 * An ensemble of already-loaded response models of any kind (TF.js models, ONNX models, other ensembles): the
 * prediction is the mean of the members' predictions. Unlike {@link EnsembleModel} it is no `Module` (no state
 * dict), so members need not be TF.js modules. Members must agree on sessions, neurons, stimulus and frames cut.
 * `forward` (differentiable) works when every member has one; `dispose` disposes the members.
 */
export class ResponseModelEnsemble implements DifferentiableResponseModel {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly members: readonly ResponseModel[];

  constructor(members: readonly ResponseModel[]) {
    checkEnsembleMembers(members);
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
    return tf.tidy(() => meanResponse(this.members.map((m, i) => forwards[i]!.call(m, x, options))));
  }

  async predict(x: tf.Tensor5D, options: { session?: string } = {}): Promise<tf.Tensor3D> {
    const outs: tf.Tensor3D[] = [];
    try {
      for (const m of this.members) outs.push(await m.predict(x, options));
      return meanResponse(outs);
    } finally {
      tf.dispose(outs);
    }
  }

  dispose(): void {
    for (const m of this.members) m.dispose();
  }
}
