import * as tf from '@tensorflow/tfjs-core';
import { OpenRetinaError, type ModelCard } from '@openretina/contracts';
import { CARD_FILE, WEIGHTS_FILE, checkpointFromBytes, coreReadoutFromCheckpointBytes } from '@openretina/hub';
import type { CoreReadout } from '@openretina/models';

/** A user-facing problem with a file or model (shown in the page; `kind` lets tests and the UI tell them apart). */
export class DemoLoadError extends Error {
  constructor(
    readonly kind: 'not-a-checkpoint' | 'input-shape' | 'incomplete' | 'invalid',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DemoLoadError';
  }
}

export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

export interface LoadedModel {
  model: CoreReadout;
  /** What the user sees as the model's name. */
  name: string;
  /** Where it came from: 'bundled', an uploaded OpenRetina checkpoint, an uploaded checkpoint of ours, or one fetched from a URL (`?model=`). */
  source: 'bundled' | 'openretina-ckpt' | 'ours' | 'url';
  card?: ModelCard;
}

/** Input sizes the demo can run interactively (stimuli are generated at the model's own frame size). */
export const DEMO_LIMITS = { maxChannels: 4, maxSide: 96, maxFramesCut: 200 } as const;

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

function isZip(bytes: Uint8Array): boolean {
  return ZIP_MAGIC.every((b, i) => bytes[i] === b);
}

/** safetensors: u64 header length, then a JSON header starting with '{'. */
function isSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10) return false;
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  return n > 1n && n < BigInt(bytes.length) && bytes[8] === 0x7b;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Throws a {@link DemoLoadError} of kind 'input-shape' when frames of this size are beyond {@link DEMO_LIMITS}. */
function checkInputSize(channels: number, height: number, width: number, name: string): void {
  if (channels < 1 || channels > DEMO_LIMITS.maxChannels || height > DEMO_LIMITS.maxSide || width > DEMO_LIMITS.maxSide) {
    throw new DemoLoadError(
      'input-shape',
      `${name}: the model's input shape [channels ${channels}, height ${height}, width ${width}] does not fit this demo (it shows 1–${DEMO_LIMITS.maxChannels} channels and frames up to ${DEMO_LIMITS.maxSide}×${DEMO_LIMITS.maxSide} px).`,
    );
  }
}

/** The card's declared `architecture.in_shape` `[C, T, H, W]`, if it has one (checked before any weights are built). */
function declaredInShape(cardJson: string): number[] | undefined {
  try {
    const inShape = (JSON.parse(cardJson) as { architecture?: { in_shape?: unknown } }).architecture?.in_shape;
    return Array.isArray(inShape) && inShape.length === 4 && inShape.every((v) => Number.isInteger(v)) ? (inShape as number[]) : undefined;
  } catch {
    return undefined; // the checkpoint reader reports a bad card
  }
}

/**
 * Checks that the demo can drive the model: the input shape is within {@link DEMO_LIMITS} and a forward pass on the
 * smallest valid stimulus gives one frame per neuron. Throws a {@link DemoLoadError} of kind 'input-shape' otherwise.
 */
export function checkModelFits(model: CoreReadout, name: string): void {
  const { channels, height, width } = model.stimulus;
  const shape = `[channels ${channels}, height ${height}, width ${width}]`;
  checkInputSize(channels, height, width, name);
  if (model.framesCut > DEMO_LIMITS.maxFramesCut) {
    throw new DemoLoadError(
      'input-shape',
      `${name}: the model needs ${model.framesCut + 1} frames of history per output frame; this demo supports up to ${DEMO_LIMITS.maxFramesCut + 1}.`,
    );
  }
  const total = Object.values(model.neuronsPerSession).reduce((a, b) => a + b, 0);
  let outShape: number[];
  try {
    outShape = tf.tidy(() => model.forward(tf.zeros(model.stimulusShape(model.framesCut + 1)) as tf.Tensor5D).shape);
  } catch (e) {
    throw new DemoLoadError('input-shape', `${name}: the model does not run on its declared input shape ${shape}: ${messageOf(e)}`, {
      cause: e,
    });
  }
  if (outShape.length !== 3 || outShape[1] !== 1 || outShape[2] !== total) {
    throw new DemoLoadError(
      'input-shape',
      `${name}: expected responses [1, 1, ${total}] for a stimulus of ${model.framesCut + 1} frames of ${shape}, got [${outShape.join(', ')}].`,
    );
  }
}

/**
 * Loads a model from files chosen by the user: one OpenRetina `.ckpt`/`.pt` (zip + pickle), or our checkpoint
 * (`model.json` + `model.safetensors`, both selected). Every failure is a {@link DemoLoadError} with a clear message.
 */
export async function loadFromFiles(files: readonly NamedBytes[]): Promise<LoadedModel> {
  if (files.length === 0) throw new DemoLoadError('incomplete', 'No file chosen.');
  // A whole checkpoint folder may come in (a folder picker): prefer our file names, then any .json / safetensors.
  const base = (f: NamedBytes) => f.name.split('/').pop()!.toLowerCase();
  const card = files.find((f) => base(f) === CARD_FILE) ?? files.find((f) => base(f).endsWith('.json'));
  const weights =
    files.find((f) => base(f) === WEIGHTS_FILE) ?? files.find((f) => isSafetensors(f.bytes) || base(f).endsWith('.safetensors'));
  if (card || weights) {
    if (!card || !weights) {
      throw new DemoLoadError(
        'incomplete',
        `Our checkpoint format needs both files of the folder: ${CARD_FILE} and ${WEIGHTS_FILE} (select them together). Got only ${files.map((f) => f.name).join(', ')}.`,
      );
    }
    return loadOurs(weights.bytes, new TextDecoder().decode(card.bytes), `${card.name} + ${weights.name}`, 'ours');
  }
  if (files.length > 1)
    throw new DemoLoadError(
      'incomplete',
      `Choose one OpenRetina checkpoint, or model.json + model.safetensors; got ${files.length} files.`,
    );
  const file = files[0]!;
  if (!isZip(file.bytes)) {
    throw new DemoLoadError(
      'not-a-checkpoint',
      `${file.name} is not a checkpoint: expected an OpenRetina .ckpt/.pt file (a PyTorch zip archive) or our model.json + model.safetensors.`,
    );
  }
  let model: CoreReadout;
  try {
    model = coreReadoutFromCheckpointBytes(file.bytes, { source: file.name });
  } catch (e) {
    const kind =
      e instanceof OpenRetinaError && e.code === 'OPENRETINA_SHAPE'
        ? 'input-shape'
        : e instanceof OpenRetinaError && e.code === 'OPENRETINA_FILE_FORMAT'
          ? 'not-a-checkpoint'
          : 'invalid';
    throw new DemoLoadError(kind, `${file.name} could not be loaded as an OpenRetina checkpoint: ${messageOf(e)}`, { cause: e });
  }
  return finish({ model, name: file.name, source: 'openretina-ckpt' });
}

/** Loads a checkpoint in our format from its two files' contents. */
export async function loadOurs(
  weights: Uint8Array,
  cardJson: string,
  name: string,
  source: 'bundled' | 'ours' | 'url',
): Promise<LoadedModel> {
  const declared = declaredInShape(cardJson);
  if (declared) checkInputSize(declared[0]!, declared[2]!, declared[3]!, name);
  let loaded: { model: CoreReadout; card: ModelCard };
  try {
    loaded = await checkpointFromBytes(weights, cardJson, name);
  } catch (e) {
    const kind =
      e instanceof OpenRetinaError && (e.code === 'OPENRETINA_SHAPE' || e.code === 'OPENRETINA_STATE_DICT')
        ? 'input-shape'
        : e instanceof OpenRetinaError && e.code === 'OPENRETINA_FILE_FORMAT'
          ? 'not-a-checkpoint'
          : 'invalid';
    throw new DemoLoadError(kind, `${name} could not be loaded: ${messageOf(e)}`, { cause: e });
  }
  const inputShape = (loaded.card.metadata as unknown as Record<string, unknown>).inputShape;
  const s = loaded.model.stimulus;
  if (Array.isArray(inputShape) && inputShape.join() !== [s.channels, s.height, s.width].join()) {
    loaded.model.dispose();
    throw new DemoLoadError(
      'input-shape',
      `${name}: the model card declares input shape [${inputShape.join(', ')}], the weights give [${s.channels}, ${s.height}, ${s.width}].`,
    );
  }
  return finish({ model: loaded.model, name: loaded.card.name ?? name, source, card: loaded.card }, name);
}

function finish(loaded: LoadedModel, fileName = loaded.name): LoadedModel {
  try {
    checkModelFits(loaded.model, fileName);
  } catch (e) {
    loaded.model.dispose();
    throw e;
  }
  return loaded;
}

async function fetchCheckpoint(folderUrl: string, what: string): Promise<{ weights: Uint8Array; card: string }> {
  const get = async (file: string): Promise<Response> => {
    let res: Response;
    try {
      res = await fetch(new URL(file, folderUrl));
    } catch (e) {
      throw new DemoLoadError('incomplete', `Could not fetch ${what}'s ${file} from ${folderUrl}: ${messageOf(e)}`, { cause: e });
    }
    if (!res.ok) throw new DemoLoadError('incomplete', `Could not fetch ${what}'s ${file} from ${folderUrl} (HTTP ${res.status}).`);
    return res;
  };
  const [w, c] = await Promise.all([get(WEIGHTS_FILE), get(CARD_FILE)]);
  return { weights: new Uint8Array(await w.arrayBuffer()), card: await c.text() };
}

/** Fetches and loads the bundled checkpoint folder (URL relative to the page). */
export async function loadBundled(folderUrl: string, label: string): Promise<LoadedModel> {
  const { weights, card } = await fetchCheckpoint(folderUrl, 'the bundled model');
  const loaded = await loadOurs(weights, card, label, 'bundled');
  return { ...loaded, name: label };
}

/** Fetches a checkpoint folder in our format from a URL (e.g. `?model=` from a training report's "open in demo" link). */
export async function loadFromUrl(folderUrl: string): Promise<LoadedModel> {
  const url = folderUrl.endsWith('/') ? folderUrl : `${folderUrl}/`;
  const { weights, card } = await fetchCheckpoint(url, 'the model');
  return loadOurs(weights, card, url, 'url');
}
