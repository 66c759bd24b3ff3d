import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, formatShape, type ResponseModel } from '@openretina/contracts';

/** Refuses an empty ensemble and members that differ in sessions, neurons per session, stimulus or frames cut. */
export function checkEnsembleMembers(members: readonly ResponseModel[]): void {
  if (members.length === 0) throw new ConfigError('An ensemble needs at least one member.');
  const describe = (m: ResponseModel): string =>
    JSON.stringify({ sessions: [...m.sessions], neurons: m.neuronsPerSession, stimulus: m.stimulus, framesCut: m.framesCut });
  const first = describe(members[0]!);
  members.forEach((m, i) => {
    if (i > 0 && describe(m) !== first) throw new ConfigError(`Ensemble member ${i} does not match member 0: ${describe(m)} vs ${first}.`);
  });
}

/** The mean of the members' responses (all of one shape), stacked on a new leading axis and averaged as OpenRetina does. */
export function meanResponse(outs: readonly tf.Tensor3D[]): tf.Tensor3D {
  const shape = outs[0]!.shape;
  outs.forEach((o, i) => {
    if (o.shape.some((d, j) => d !== shape[j])) {
      throw new ShapeError(`Ensemble member ${i} returned ${formatShape(o.shape)}, member 0 returned ${formatShape(shape)}.`);
    }
  });
  return outs.length === 1 ? tf.clone(outs[0]!) : tf.tidy(() => tf.mean(tf.stack(outs as tf.Tensor3D[], 0), 0) as tf.Tensor3D);
}
