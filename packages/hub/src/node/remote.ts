import { readFile, readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataError, DownloadError, UnsupportedError, isOpenRetinaError, type ResponseModel } from '@openretina/contracts';
import { getCacheDirectory, resolveDataPath, type ResolveOptions } from '@openretina/data-io/node';
import { type CoreReadout, type EnsembleModel, type LegacyEncoder, ResponseModelEnsemble } from '@openretina/models';
import type { CenterOptions } from '../legacy/center-readouts.js';
import { coreReadoutFromCheckpointBytes, type ModelFromCheckpointOptions } from '../openretina-checkpoint.js';
import { HF_REPO, isPublishedModel, publishedModelRepoPath, publishedModelUrl, type PublishedModelName } from '../registry.js';
import type { ReadPickleOptions } from '@openretina/formats';
import { isCheckpoint, loadCheckpoint } from './checkpoint-fs.js';
import { isLegacyEnsembleSource, loadLegacyHoeflingEnsemble, loadLegacyHoeflingMember } from './legacy-ensemble-fs.js';

/** Options for finding and downloading models (data-io's cache rules: `$OPENRETINA_CACHE_DIRECTORY`, `~/openretina_cache`). */
export interface RemoteOptions extends ResolveOptions {
  /** HuggingFace hub cache to look in before downloading (default `$HF_HUB_CACHE`, `$HF_HOME/hub`, `~/.cache/huggingface/hub`); `false` skips it. */
  huggingFaceCache?: string | false;
}

/** The HuggingFace hub cache directory (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`). */
export function huggingFaceCacheDirectory(): string {
  if (process.env.HF_HUB_CACHE) return resolve(process.env.HF_HUB_CACHE);
  if (process.env.HF_HOME) return resolve(process.env.HF_HOME, 'hub');
  return join(homedir(), '.cache', 'huggingface', 'hub');
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/**
 * A file of OpenRetina's dataset repository already in the HuggingFace hub cache layout
 * (`datasets--open-retina--open-retina/snapshots/<commit>/<path>`), without any download: the snapshot named by
 * `refs/<revision>` first, then any other snapshot holding the file. Undefined when absent.
 */
export async function findInHuggingFaceCache(
  repoPath: string,
  options: { cacheDir?: string; repo?: string; revision?: string } = {},
): Promise<string | undefined> {
  const root = join(options.cacheDir ?? huggingFaceCacheDirectory(), `datasets--${(options.repo ?? HF_REPO).replace('/', '--')}`);
  const candidates: string[] = [];
  try {
    const ref = (await readFile(join(root, 'refs', options.revision ?? 'main'), 'utf8')).trim();
    if (/^[0-9a-f]{6,64}$/i.test(ref)) candidates.push(ref);
  } catch {
    // no refs: look at the snapshots
  }
  try {
    for (const s of (await readdir(join(root, 'snapshots'))).sort()) if (!candidates.includes(s)) candidates.push(s);
  } catch {
    return undefined;
  }
  for (const snapshot of candidates) {
    const p = join(root, 'snapshots', snapshot, ...repoPath.split('/'));
    if (await isFile(p)) return p;
  }
  return undefined;
}

/**
 * The local path of a published model: the HuggingFace hub cache when it has the file, else the OpenRetina cache
 * (`<cache>/model_checkpoints/<date>/<file>.ckpt`), downloading it there when missing (size and SHA-256 checked,
 * atomic, resumable, progress to `onProgress` — data-io's `resolveDataPath`).
 */
export async function downloadPublishedModel(name: PublishedModelName, options: RemoteOptions = {}): Promise<string> {
  const repoPath = publishedModelRepoPath(name);
  if (options.huggingFaceCache !== false && !options.force) {
    const hit = await findInHuggingFaceCache(repoPath, options.huggingFaceCache ? { cacheDir: options.huggingFaceCache } : {});
    if (hit) return hit;
  }
  const { huggingFaceCache: _ignored, ...resolveOptions } = options;
  const url = publishedModelUrl(name, options.hfEndpoint);
  try {
    return await resolveDataPath(url, resolveOptions);
  } catch (error) {
    const target = join(getCacheDirectory(options.cacheDir), ...repoPath.split('/'));
    if (isOpenRetinaError(error, 'OPENRETINA_DOWNLOAD') && !error.message.includes(target)) {
      throw new DownloadError(`Cannot get the published model "${name}" from ${url} into the cache path ${target}: ${error.message}`, {
        cause: error,
        details: { url, path: target },
      });
    }
    throw error;
  }
}

/** A published name, a HuggingFace/GIN URL (downloaded into the cache) or a local path → a local path. */
export async function resolveModelPath(nameOrPathOrUrl: string, options: RemoteOptions = {}): Promise<string> {
  if (isPublishedModel(nameOrPathOrUrl)) return downloadPublishedModel(nameOrPathOrUrl, options);
  return resolveDataPath(nameOrPathOrUrl, options);
}

/** Options for the legacy Höfling 2024 ensemble (`hoefling_2024_ensemble`, its GIN URL or a folder in its nnfabrik layout). */
export interface LegacySourceOptions {
  /** {@link loadCoreReadout} returns this member (index into the sorted seeds, negative from the end; default 0). */
  member?: number;
  /** Centre the readout masks (OpenRetina's `Center`, `true` = target (0, 0)). */
  center?: boolean | CenterOptions;
  /** Seeds to load (default: all). */
  seeds?: readonly (number | string)[];
}

export type LoadOptions = RemoteOptions & ModelFromCheckpointOptions & ReadPickleOptions & LegacySourceOptions;

/**
 * OpenRetina's `load_core_readout_from_remote` / `load_core_readout_model`: a published name, a URL or a local path
 * of an OpenRetina `.ckpt`/`.pt`, or one of our checkpoints (folder, model.json or model.safetensors) → a
 * `CoreReadout` in eval mode with its data info.
 */
export async function loadCoreReadout(nameOrPathOrUrl: string, options: LoadOptions = {}): Promise<CoreReadout> {
  // The legacy nnfabrik ensemble: one member (a core-readout), as OpenRetina's visualize CLI does.
  if (await isLegacyEnsembleSource(nameOrPathOrUrl)) return loadLegacyHoeflingMember(nameOrPathOrUrl, legacyOptions(options));
  const path = await resolveModelPath(nameOrPathOrUrl, options);
  if (await isCheckpoint(path)) return (await loadCheckpoint(path)).model;
  if (!(await isFile(path))) throw new DataError(`${path} is neither a checkpoint file nor a checkpoint folder.`);
  const buf = await readFile(path);
  return coreReadoutFromCheckpointBytes(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), { ...options, source: path });
}

function legacyOptions(options: LoadOptions): Parameters<typeof loadLegacyHoeflingMember>[1] {
  const { huggingFaceCache: _h, hfEndpoint: _e, hfRepo: _r, revision: _v, ...rest } = options as LoadOptions & Record<string, unknown>;
  return rest as Parameters<typeof loadLegacyHoeflingMember>[1];
}

/** Opens an `.onnx` file as a response model, e.g. `loadOnnxModel` of '@openretina/onnx/node'. */
export type OnnxLoader = (path: string) => Promise<ResponseModel>;

/** Options of {@link loadResponseModel} and {@link loadEnsemble}. */
export type ResponseModelOptions = LoadOptions & {
  /**
   * How `.onnx` sources are opened (this package has no ONNX runtime): pass `(path) => loadOnnxModel(path, options)`
   * with `loadOnnxModel` from '@openretina/onnx/node'.
   */
  loadOnnx?: OnnxLoader;
};

/**
 * Any model source as a response model: `.onnx` files through `options.loadOnnx` (see {@link ResponseModelOptions}),
 * the legacy Höfling 2024 ensemble (`hoefling_2024_ensemble`, its GIN folder URL or a folder in its nnfabrik
 * layout) as the whole ensemble (mean of its members), everything else as {@link loadCoreReadout}.
 */
export async function loadResponseModel(
  nameOrPathOrUrl: string,
  options: ResponseModelOptions = {},
): Promise<CoreReadout | ResponseModel | EnsembleModel<LegacyEncoder>> {
  if (await isLegacyEnsembleSource(nameOrPathOrUrl))
    return (await loadLegacyHoeflingEnsemble(nameOrPathOrUrl, legacyOptions(options))).ensemble;
  if (/\.onnx$/i.test(nameOrPathOrUrl)) {
    if (!options.loadOnnx) {
      throw new UnsupportedError(
        `${nameOrPathOrUrl} is an ONNX model: @openretina/hub has no ONNX runtime. Install @openretina/onnx and onnxruntime-node (npm i @openretina/onnx onnxruntime-node) and pass { loadOnnx: (path) => loadOnnxModel(path) } with loadOnnxModel from '@openretina/onnx/node'.`,
      );
    }
    return options.loadOnnx(await resolveModelPath(nameOrPathOrUrl, options));
  }
  return loadCoreReadout(nameOrPathOrUrl, options);
}

/**
 * Several model sources (any that {@link loadResponseModel} takes, ONNX included) as one `ResponseModelEnsemble`
 * (`@openretina/models`) whose prediction is the mean of the members' (OpenRetina's EnsembleModel).
 */
export async function loadEnsemble(sources: readonly string[], options: ResponseModelOptions = {}): Promise<ResponseModelEnsemble> {
  const members: ResponseModel[] = [];
  try {
    for (const s of sources) members.push(await loadResponseModel(s, options));
    return new ResponseModelEnsemble(members);
  } catch (error) {
    for (const m of members) m.dispose();
    throw error;
  }
}

export { getCacheDirectory };
