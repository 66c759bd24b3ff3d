import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { FileFormatError, type ModelCard } from '@openretina/contracts';
import type { CoreReadout } from '@openretina/models';
import { CARD_FILE, WEIGHTS_FILE, checkpointFromBytes, checkpointToBytes, type CheckpointMeta } from '../model-card.js';

function tempSibling(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

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
 * place, so a crash never leaves a half-written checkpoint; an existing checkpoint at `dir` is replaced.
 */
export async function saveCheckpoint(model: CoreReadout, dir: string, meta: CheckpointMeta = {}): Promise<ModelCard> {
  const target = resolve(dir);
  const { weights, card, cardJson } = await checkpointToBytes(model, meta);
  await mkdir(dirname(target), { recursive: true });
  const staging = tempSibling(target);
  const old = `${staging}.old`;
  try {
    await mkdir(staging);
    await writeFile(join(staging, WEIGHTS_FILE), weights);
    await writeFile(join(staging, CARD_FILE), cardJson);
    const replacing = await isDirectory(target);
    if (replacing) await rename(target, old);
    try {
      await rename(staging, target);
    } catch (error) {
      if (replacing) await rename(old, target);
      throw error;
    }
    if (replacing) await rm(old, { recursive: true, force: true });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return card;
}

/** True when `path` is one of our checkpoints (a folder with model.json, model.json itself, or a model.safetensors with a card next to it). */
export async function isCheckpoint(path: string): Promise<boolean> {
  const p = resolve(path);
  if (await isDirectory(p)) return (await stat(join(p, CARD_FILE)).catch(() => undefined)) !== undefined;
  return (
    (basename(p) === CARD_FILE || p.endsWith('.safetensors')) &&
    (await stat(join(dirname(p), CARD_FILE)).catch(() => undefined)) !== undefined
  );
}

/** Loads a checkpoint written by {@link saveCheckpoint}: the folder, its model.json, or its model.safetensors. */
export async function loadCheckpoint(path: string): Promise<{ model: CoreReadout; card: ModelCard }> {
  const p = resolve(path);
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
