import * as tf from '@tensorflow/tfjs-core';
import type { SessionBatch } from '@openretina/contracts';
import { HostCopies, sameValues, type HostCopy } from '@openretina/layers';

/** One batch of a {@link StimulusGroup}: its place in the batch order, its session and targets. */
export interface GroupMember {
  index: number;
  session: string;
  targets: tf.Tensor3D;
}

/** Batches of several sessions whose stimuli hold the same values: one input tensor, each batch's targets. */
export interface StimulusGroup {
  inputs: tf.Tensor5D;
  members: GroupMember[];
}

interface Pending extends StimulusGroup {
  values: HostCopy;
  key: string;
}

/**
 * Host copies of the waiting stimuli, in arrays reused from batch to batch and from one validation to the next (a
 * fresh copy per batch on wasm cost its page faults: at 50 sessions ~40 % of a validation).
 */
const copies = new HostCopies();

/** Default bound on the stimulus values held while batches wait for later sessions with the same stimulus (64 MiB). */
export const DEFAULT_PENDING_BYTES = 64 * 2 ** 20;

/** Shape and a sample of the values: equal stimuli get equal keys; equal keys are confirmed value by value. */
function stimulusKey(shape: readonly number[], values: Float32Array): string {
  const step = Math.max(1, Math.floor(values.length / 997));
  let h = 0x811c9dc5;
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i += step) h = Math.imul(h ^ bits[i]!, 0x01000193);
  return `${shape.join('x')}:${(h >>> 0).toString(16)}`;
}

/**
 * Groups batches (of any sessions, in any order) whose stimuli are equal, so that an engine can compute the core
 * once per group. A batch whose stimulus matches a waiting group's joins it and its own input is freed at once;
 * groups wait until the batches run out, or, oldest first, while the waiting stimuli exceed `maxPendingBytes`
 * (sessions recorded with different movies then run as before, one batch per group). Takes ownership of the
 * batches; the caller disposes each group it receives (inputs and targets); groups not yet handed out when the
 * consumer stops are disposed here.
 */
export function* stimulusGroups(batches: Iterable<SessionBatch>, maxPendingBytes = DEFAULT_PENDING_BYTES): Generator<StimulusGroup> {
  const pending: Pending[] = [];
  let bytes = 0;
  let index = 0;
  try {
    for (const batch of batches) {
      const values = copies.takeSync(batch.inputs);
      const key = stimulusKey(batch.inputs.shape, values.data);
      const member = { index: index++, session: batch.session, targets: batch.targets };
      const match = pending.find((g) => g.key === key && sameValues(g.values.data, values.data));
      if (match) {
        match.members.push(member);
        values.release();
        batch.inputs.dispose();
        continue;
      }
      pending.push({ inputs: batch.inputs, members: [member], values, key });
      bytes += values.data.byteLength;
      while (bytes > maxPendingBytes && pending.length > 0) {
        const oldest = pending.shift()!;
        bytes -= oldest.values.data.byteLength;
        oldest.values.release();
        yield { inputs: oldest.inputs, members: oldest.members };
      }
    }
    while (pending.length > 0) {
      const next = pending.shift()!;
      next.values.release();
      yield { inputs: next.inputs, members: next.members };
    }
  } finally {
    for (const g of pending) tf.dispose([g.inputs, ...g.members.map((m) => m.targets)]);
  }
}
