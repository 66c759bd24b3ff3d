import { FileFormatError, ConfigError, SPECIFICATION_VERSION, type ModelCard, type ModelMetadata } from '@openretina/contracts';
import { readSafetensors, writeSafetensors } from '@openretina/formats';
import type { CoreReadout, CoreReadoutConfig } from '@openretina/models';
import { architectureOf, buildRemembered } from './architecture.js';
import { dataInfoFromOpenRetina, dataInfoToOpenRetina } from './openretina-checkpoint.js';

/** File names inside a checkpoint folder. */
export const WEIGHTS_FILE = 'model.safetensors';
export const CARD_FILE = 'model.json';
export const MODEL_CARD_FORMAT = 'openretina-ts/model-card' as const;
const LIBRARY = { name: '@openretina/hub', version: '0.0.0' };

/** What {@link createModelCard} and `saveCheckpoint` take besides the model. */
export interface CheckpointMeta {
  name?: string;
  description?: string;
  /** The architecture (OpenRetina config keys). Default: the one the model was loaded or built with by this package. */
  architecture?: CoreReadoutConfig;
  /** Response and stimulus rates in Hz, stimulus class, species (default: from the data info's extra entries). */
  responseRateHz?: number;
  stimulusRateHz?: number;
  stimulusClass?: string;
  species?: string;
  /** Anything else to record in the card's metadata (JSON values). */
  extra?: Record<string, unknown>;
}

/** JSON with sorted keys (the canonical form hashed for provenance). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array) return Array.from(v);
    if (typeof v === 'bigint') return v.toString();
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, (v as Record<string, unknown>)[k]]),
      );
    }
    return v;
  });
}

/** What {@link sha256Hex} needs of Node's crypto module. */
interface NodeCrypto {
  createHash(algorithm: 'sha256'): { update(data: Uint8Array | string): { digest(encoding: 'hex'): string } };
}

/**
 * Hex SHA-256: Node's own crypto where the runtime has it (`process.getBuiltinModule`, no import, so browser bundles
 * are unchanged), else Web Crypto. Node's hash is synchronous: Web Crypto's promise waits for a libuv thread and a
 * turn of the event loop, and a training run hashes two model cards' worth per epoch.
 */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const nodeCrypto = proc?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
  if (nodeCrypto) return nodeCrypto.createHash('sha256').update(data).digest('hex');
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A finite number recorded in the data info's extras, else undefined. */
function recordedRate(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The model card of a model (architecture, data info in OpenRetina's form, the metadata standard). */
export async function createModelCard(model: CoreReadout, meta: CheckpointMeta = {}, weights?: Uint8Array): Promise<ModelCard> {
  const architecture = meta.architecture ?? architectureOf(model);
  if (!architecture) {
    throw new ConfigError(
      'The model has no recorded architecture config: pass { architecture } (OpenRetina config keys, as for buildCoreReadout).',
    );
  }
  const info = model.dataInfo;
  const extra = info?.extra ?? {};
  const dataInfo = info ? dataInfoToOpenRetina(info) : undefined;
  const metadata: Record<string, unknown> = {
    neuronsPerSession: model.neuronsPerSession,
    inputShape: [model.stimulus.channels, model.stimulus.height, model.stimulus.width],
    framesCut: model.framesCut,
  };
  if (info?.stimMean !== undefined && info.stimStd !== undefined) metadata.normalization = { mean: info.stimMean, std: info.stimStd };
  const rates: [string, unknown][] = [
    ['responseRateHz', meta.responseRateHz ?? recordedRate(extra.response_rate_hz)],
    ['stimulusRateHz', meta.stimulusRateHz ?? recordedRate(extra.stimulus_rate_hz)],
    ['stimulusClass', meta.stimulusClass ?? (typeof extra.stimulus_class === 'string' ? extra.stimulus_class : undefined)],
    ['species', meta.species ?? (typeof extra.animal_species === 'string' ? extra.animal_species : undefined)],
  ];
  for (const [k, v] of rates) if (v !== undefined) metadata[k] = v;
  if (info) metadata.meanActivity = Object.fromEntries(Object.entries(info.meanActivityDict).map(([k, v]) => [k, Array.from(v)]));
  metadata.provenanceHash = await sha256Hex(canonicalJson({ architecture, dataInfo: dataInfo ?? null }));
  if (dataInfo) metadata.dataInfo = dataInfo;
  if (weights) {
    metadata.weightsSha256 = await sha256Hex(weights);
    metadata.weightsBytes = weights.byteLength;
  }
  Object.assign(metadata, meta.extra ?? {});
  return {
    specificationVersion: SPECIFICATION_VERSION,
    format: MODEL_CARD_FORMAT,
    ...(meta.name !== undefined ? { name: meta.name } : {}),
    ...(meta.description !== undefined ? { description: meta.description } : {}),
    architecture,
    metadata: metadata as unknown as ModelMetadata,
    library: LIBRARY,
    createdAt: new Date().toISOString(),
  };
}

/** A checkpoint's two files in memory: `model.safetensors` (state dict, PyTorch keys) and `model.json`. */
export interface CheckpointFiles {
  readonly weights: Uint8Array;
  readonly cardJson: string;
}

/** The two files of a checkpoint, in memory ({@link CheckpointFiles}), and the card that `model.json` holds. */
export async function checkpointToBytes(model: CoreReadout, meta: CheckpointMeta = {}): Promise<CheckpointFiles & { card: ModelCard }> {
  const weights = writeSafetensors(model.stateDict(), { format: 'pt' });
  const card = await createModelCard(model, meta, weights);
  return { weights, card, cardJson: `${JSON.stringify(card, null, 1)}\n` };
}

/** Parses and checks a model card. */
export function parseModelCard(json: string, source = CARD_FILE): ModelCard {
  let card: unknown;
  try {
    card = JSON.parse(json);
  } catch (cause) {
    throw new FileFormatError(`${source}: not valid JSON (corrupt or truncated model card).`, { cause });
  }
  const c = card as Partial<ModelCard>;
  if (typeof card !== 'object' || card === null || c.format !== MODEL_CARD_FORMAT) {
    throw new FileFormatError(`${source}: expected format "${MODEL_CARD_FORMAT}", got ${JSON.stringify(c?.format)}.`);
  }
  if (c.specificationVersion !== SPECIFICATION_VERSION) {
    throw new FileFormatError(
      `${source}: specificationVersion ${JSON.stringify(c.specificationVersion)} is not supported (expected "${SPECIFICATION_VERSION}").`,
    );
  }
  if (typeof c.architecture !== 'object' || c.architecture === null || typeof c.metadata !== 'object' || c.metadata === null) {
    throw new FileFormatError(`${source}: the model card lacks "architecture" or "metadata".`);
  }
  return card as ModelCard;
}

/** Rebuilds a model from the bytes of a checkpoint (weights checked against the card's SHA-256 when it has one). */
export async function checkpointFromBytes(
  weights: Uint8Array,
  cardJson: string,
  source = 'checkpoint',
): Promise<{ model: CoreReadout; card: ModelCard }> {
  const card = parseModelCard(cardJson, `${source}/${CARD_FILE}`);
  const meta = card.metadata as Record<string, unknown>;
  if (typeof meta.weightsBytes === 'number' && meta.weightsBytes !== weights.byteLength) {
    throw new FileFormatError(
      `${source}/${WEIGHTS_FILE}: expected ${meta.weightsBytes} bytes (model card), got ${weights.byteLength} (truncated or replaced).`,
    );
  }
  if (typeof meta.weightsSha256 === 'string') {
    const actual = await sha256Hex(weights);
    if (actual !== meta.weightsSha256) {
      throw new FileFormatError(
        `${source}/${WEIGHTS_FILE}: SHA-256 ${actual} does not match the model card's ${meta.weightsSha256} (corrupt file).`,
      );
    }
  }
  const { tensors } = readSafetensors(weights, `${source}/${WEIGHTS_FILE}`);
  const dataInfo =
    meta.dataInfo && typeof meta.dataInfo === 'object' ? dataInfoFromOpenRetina(meta.dataInfo as Record<string, unknown>) : undefined;
  const architecture = card.architecture as unknown as CoreReadoutConfig;
  const model = buildRemembered(architecture, dataInfo);
  try {
    model.loadStateDict(tensors);
  } catch (error) {
    model.dispose();
    throw error;
  }
  model.eval();
  return { model, card };
}
