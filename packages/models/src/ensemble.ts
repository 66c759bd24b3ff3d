import * as tf from '@tensorflow/tfjs-core';
import { SPECIFICATION_VERSION, type DifferentiableResponseModel, type StimulusSpec } from '@openretina/contracts';
import { Module, ModuleList } from '@openretina/layers';
import { checkEnsembleMembers, meanResponse } from './ensemble-members.js';

/** A response model that is also a `Module` (so the ensemble has a state dict). */
export type EnsembleMember = DifferentiableResponseModel & Module;

/**
 * OpenRetina's `EnsembleModel` for response models that are `Module`s: the prediction is the mean of the members'
 * predictions (an ensemble of other response models, ONNX ones say, is a {@link ResponseModelEnsemble}).
 * The members must agree on sessions, neurons per session, stimulus and `framesCut`. State dict:
 * `members.0.*`, `members.1.*`, …; `train()`, `eval()` and `dispose()` apply to every member.
 */
export class EnsembleModel<M extends EnsembleMember = EnsembleMember> extends Module implements DifferentiableResponseModel {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly members: ModuleList<M>;

  constructor(members: readonly M[]) {
    super();
    checkEnsembleMembers(members);
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
    return tf.tidy(() => meanResponse([...this.members].map((m) => m.forward(x, options))));
  }

  async predict(x: tf.Tensor5D, options: { session?: string } = {}): Promise<tf.Tensor3D> {
    return this.forward(x, options);
  }
}
