import { writeFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError, FileFormatError, type ModelCard } from '@openretina/contracts';
import { recoverDirectory, replaceDirectoryAtomicSync } from '@openretina/formats/node';
import type { CoreReadout } from '@openretina/models';
import {
  CARD_FILE,
  WEIGHTS_FILE,
  type CheckpointFiles,
  checkpointFromBytes,
  checkpointToBytes,
  type CheckpointMeta,
} from '../model-card.js';

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Saves a model as a checkpoint folder `dir/` with `model.safetensors` (state dict, PyTorch keys and shapes) and
 * `model.json` (model card). The folder is written next to its destination under a temporary name and renamed into
 * place (`@openretina/formats`' `replaceDirectoryAtomicSync`), so a crash never leaves a half-written checkpoint; an
 * existing checkpoint folder at `dir` is replaced, a file there is refused. The folder is written by direct system
 * calls (two small files): a training run saves one per improved epoch, and the async calls' waits for the event
 * loop cost more than the writes.
 */
export async function saveCheckpoint(model: CoreReadout, dir: string, meta: CheckpointMeta = {}): Promise<ModelCard> {
  const files = await checkpointToBytes(model, meta);
  writeCheckpointFolder(dir, files);
  return files.card;
}

/**
 * Writes the checkpoint folder `dir/` from files already encoded (`checkpointToBytes`), atomically as
 * {@link saveCheckpoint} does: for a caller that writes the same weights to several folders (a training run's best
 * and last checkpoints) or keeps files of its own in the folder (`extraFiles`, name → contents, written in the same
 * swap; plain file names other than the checkpoint's two).
 */
export function writeCheckpointFolder(
  dir: string,
  files: CheckpointFiles,
  extraFiles: Readonly<Record<string, string | Uint8Array>> = {},
): void {
  for (const name of Object.keys(extraFiles)) {
    if (name === WEIGHTS_FILE || name === CARD_FILE)
      throw new ConfigError(`writeCheckpointFolder: an extra file may not be named ${name}, the checkpoint's own file.`);
    if (name === '' || basename(name) !== name || name === '.' || name === '..')
      throw new ConfigError(`writeCheckpointFolder: an extra file needs a plain file name inside the folder, got ${JSON.stringify(name)}.`);
  }
  replaceDirectoryAtomicSync(dir, (staging) => {
    writeFileSync(join(staging, WEIGHTS_FILE), files.weights);
    writeFileSync(join(staging, CARD_FILE), files.cardJson);
    for (const [name, contents] of Object.entries(extraFiles)) writeFileSync(join(staging, name), contents);
  });
}

/**
 * Puts the checkpoint folder of `path` (the folder, or a file in it) right after a writer was killed inside a save:
 * the previous checkpoint comes back when the swap was cut between its renames, and dead writers' leftovers go.
 */
function recoverCheckpointFolder(p: string): void {
  recoverDirectory(basename(p) === CARD_FILE || p.endsWith('.safetensors') ? dirname(p) : p);
}

/** True when `path` is one of our checkpoints (a folder with model.json, model.json itself, or a model.safetensors with a card next to it). */
export async function isCheckpoint(path: string): Promise<boolean> {
  const p = resolve(path);
  recoverCheckpointFolder(p);
  if (await isDirectory(p)) return (await stat(join(p, CARD_FILE)).catch(() => undefined)) !== undefined;
  return (
    (basename(p) === CARD_FILE || p.endsWith('.safetensors')) &&
    (await stat(join(dirname(p), CARD_FILE)).catch(() => undefined)) !== undefined
  );
}

/**
 * Loads a checkpoint written by {@link saveCheckpoint}: the folder, its model.json, or its model.safetensors. A save
 * that was killed is repaired first (`recoverDirectory`), so the previous or the new checkpoint loads, whole.
 */
export async function loadCheckpoint(path: string): Promise<{ model: CoreReadout; card: ModelCard }> {
  const p = resolve(path);
  recoverCheckpointFolder(p);
  const dir = (await isDirectory(p)) ? p : dirname(p);
  const weightsPath = p.endsWith('.safetensors') ? p : join(dir, WEIGHTS_FILE);
  let cardJson: string;
  let weights: Uint8Array;
  try {
    cardJson = await readFile(join(dir, CARD_FILE), 'utf8');
  } catch (cause) {
    throw new FileFormatError(`${dir}: no ${CARD_FILE} (not an @openretina checkpoint folder).`, { cause });
  }
  try {
    const buf = await readFile(weightsPath);
    weights = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (cause) {
    throw new FileFormatError(`${weightsPath}: missing or unreadable weights file.`, { cause });
  }
  return checkpointFromBytes(weights, cardJson, dir);
}
