// The `last/` checkpoint of a run: the weights after the latest epoch and everything `train --resume` needs to go on.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileFormatError } from '@openretina/contracts';
import { recoverDirectory } from '@openretina/formats/node';
import { type CheckpointFiles, checkpointToBytes, type CheckpointMeta } from '@openretina/hub';
import { writeCheckpointFolder } from '@openretina/hub/node';
import type { CoreReadout } from '@openretina/models';
import type { TrainingState } from '@openretina/trainer';

/** The file of `last/` that holds the training state (optimizer, scheduler, early stopping, best weights, history). */
export const TRAINING_STATE_FILE = 'training_state.json';
const FORMAT = 'openretina-ts/training-state';

const TYPED = {
  Float32Array,
  Float64Array,
  Int32Array,
  Uint8Array,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  BigInt64Array,
  BigUint64Array,
} as const;
type TypedName = keyof typeof TYPED;

/** JSON with Maps and typed arrays kept exactly (typed arrays as base64 of their bytes, so floats round-trip bit for bit). */
function encode(_key: string, value: unknown): unknown {
  if (value instanceof Map) return { $map: [...value] };
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const name = value.constructor.name as TypedName;
    if (!(name in TYPED)) throw new FileFormatError(`Cannot store a ${name} in the training state.`);
    return { $typed: name, base64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
  return value;
}

function decode(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const v = value as { $map?: [string, unknown][]; $typed?: TypedName; base64?: string; $number?: string };
  if (v.$map) return new Map(v.$map);
  if (v.$typed && typeof v.base64 === 'string') {
    const bytes = Buffer.from(v.base64, 'base64');
    const Ctor = TYPED[v.$typed];
    const copy = new Uint8Array(bytes); // aligned
    return new Ctor(copy.buffer, 0, copy.byteLength / Ctor.BYTES_PER_ELEMENT);
  }
  if (typeof v.$number === 'string') return Number(v.$number);
  return value;
}

/**
 * Writes `dir` (atomically, the whole folder at once, by `@openretina/hub`'s `writeCheckpointFolder` as best/ is
 * written): the model's current weights, its card, and the training state. `files` are the model's current weights
 * and card when the caller has them already (the epoch's best/), else they are encoded here.
 */
export async function saveLastCheckpoint(
  model: CoreReadout,
  state: TrainingState,
  dir: string,
  meta: CheckpointMeta,
  files?: CheckpointFiles,
): Promise<void> {
  const current = files ?? (await checkpointToBytes(model, meta));
  writeCheckpointFolder(dir, current, { [TRAINING_STATE_FILE]: JSON.stringify({ format: FORMAT, state }, encode) });
}

/** Reads the training state of a `last/` folder written by {@link saveLastCheckpoint} (repaired first if a save of it was killed). */
export function readTrainingState(dir: string): TrainingState {
  recoverDirectory(dir);
  const path = join(dir, TRAINING_STATE_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new FileFormatError(
      `${path} is missing: the run has no resumable state (it stopped before its first epoch ended, or was trained before --resume existed).`,
      {
        cause,
      },
    );
  }
  let parsed: { format?: unknown; state?: TrainingState };
  try {
    parsed = JSON.parse(text, decode) as typeof parsed;
  } catch (cause) {
    throw new FileFormatError(`${path}: not valid JSON (corrupt or truncated training state).`, { cause });
  }
  if (parsed.format !== FORMAT || !parsed.state) throw new FileFormatError(`${path}: not an @openretina training state.`);
  return parsed.state;
}
