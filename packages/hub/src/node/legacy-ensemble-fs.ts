import { readFile, readdir, stat } from 'node:fs/promises';
import { dirname, join, posix, resolve } from 'node:path';
import { ConfigError, DataError, FileFormatError } from '@openretina/contracts';
import { downloadToCache, type DownloadOptions } from '@openretina/data-io/node';
import type { LegacyEncoder } from '@openretina/models';
import { centerReadouts, type CenterOptions } from '../legacy/center-readouts.js';
import { legacyEnsembleFromFiles, type LegacyEnsemble, type LegacyEnsembleOptions, type LegacyMemberFiles } from '../legacy/ensemble.js';
import {
  LEGACY_ENSEMBLE_MODEL_PATH,
  LEGACY_ENSEMBLE_REMOTE_URL,
  LEGACY_ENSEMBLE_SEEDS,
  LEGACY_HOEFLING_ENSEMBLE_NAME,
  formatSeed,
  legacyMemberFileNames,
  seedOfConfigFile,
} from '../legacy/files.js';

/** Options of {@link loadLegacyHoeflingEnsemble}. */
export interface LoadLegacyEnsembleOptions
  extends LegacyEnsembleOptions,
    Omit<DownloadOptions, 'relativePath' | 'expectedSize' | 'sha256' | 'unzip'> {
  /** Seeds to load (numbers or their 5-digit form). Default: a folder's `config_<seed>.yaml` seeds, sorted; remotely OpenRetina's five. */
  seeds?: readonly (number | string)[];
  /** OpenRetina's `remote_url` (default `https://gin.g-node.org/`), used with `modelPath` when no URL is given. */
  remoteUrl?: string;
  /** OpenRetina's `model_path` under `remoteUrl` (default the published ensemble's). */
  modelPath?: string;
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** The `config_<seed>.yaml` seeds of a folder, sorted (OpenRetina reads every `*yaml` file name this way). */
export async function legacySeedsInDirectory(dir: string): Promise<number[]> {
  const names = await readdir(dir);
  const seeds: number[] = [];
  for (const n of names.filter((f) => f.endsWith('yaml'))) {
    const seed = seedOfConfigFile(n);
    if (seed === undefined)
      throw new FileFormatError(
        `${join(dir, n)}: a YAML file that is not config_<seed>.yaml (OpenRetina reads the seed from every *.yaml name).`,
      );
    seeds.push(seed);
  }
  return seeds.sort((a, b) => a - b);
}

/** True for a folder laid out like the nnfabrik ensemble (`config_<seed>.yaml` and `state_dict_<seed>.pth.tar`). */
export async function isLegacyEnsembleDirectory(path: string): Promise<boolean> {
  if (!(await isDirectory(path))) return false;
  const names = new Set(await readdir(path));
  return [...names].some((n) => {
    const seed = seedOfConfigFile(n);
    return n.startsWith('config_') && seed !== undefined && names.has(legacyMemberFileNames(seed).stateDict);
  });
}

/** True for the sources {@link loadLegacyHoeflingEnsemble} takes: our name, the published GIN folder URL, or a legacy folder. */
export async function isLegacyEnsembleSource(source: string): Promise<boolean> {
  if (source === LEGACY_HOEFLING_ENSEMBLE_NAME) return true;
  if (/^https?:\/\//i.test(source)) return source.replace(/\/+$/, '').endsWith(LEGACY_ENSEMBLE_MODEL_PATH);
  return isLegacyEnsembleDirectory(resolve(source));
}

async function readMember(dir: string, seed: number): Promise<LegacyMemberFiles> {
  const names = legacyMemberFileNames(seed);
  const read = async (name: string): Promise<Buffer> => {
    try {
      return await readFile(join(dir, name));
    } catch (cause) {
      throw new DataError(
        `${join(dir, name)}: missing or unreadable (a legacy ensemble member needs ${names.config}, ${names.dataInfo} and ${names.stateDict}).`,
        {
          cause,
          details: { path: join(dir, name) },
        },
      );
    }
  };
  const [config, dataInfo, stateDict] = await Promise.all([read(names.config), read(names.dataInfo), read(names.stateDict)]);
  const bytes = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return { seed, config: config.toString('utf8'), dataInfo: bytes(dataInfo), stateDict: bytes(stateDict), source: dir };
}

/**
 * Downloads the members' files into the cache as OpenRetina's `optionally_download_from_url(remote_url, path)`
 * does (`urljoin(remote_url, model_path/file)`, cached under the last two path components, i.e.
 * `<cache>/<model hash>/<file>`), through data-io's download cache. Returns the local folder.
 */
async function downloadMembers(folderUrl: string, seeds: readonly number[], options: LoadLegacyEnsembleOptions): Promise<string> {
  const url = new URL(folderUrl.endsWith('/') ? folderUrl : `${folderUrl}/`);
  const folder = decodeURIComponent(url.pathname.split('/').filter(Boolean).pop() ?? '');
  if (!folder) throw new ConfigError(`${folderUrl}: the model path needs a folder name (its last component names the cache folder).`);
  const {
    seeds: _s,
    center: _c,
    remoteUrl: _r,
    modelPath: _m,
    log: _l,
    maxElements: _e,
    unknownGlobals: _u,
    source: _src,
    ...download
  } = options;
  const dirs = new Set<string>();
  for (const seed of seeds) {
    const names = legacyMemberFileNames(seed);
    for (const file of [names.config, names.dataInfo, names.stateDict]) {
      const local = await downloadToCache(new URL(file, url).toString(), {
        ...download,
        relativePath: posix.join(folder, file),
        unzip: false,
      });
      dirs.add(dirname(local));
    }
  }
  if (dirs.size !== 1) throw new DataError(`The ensemble files landed in several folders: ${[...dirs].join(', ')}.`);
  return [...dirs][0]!;
}

function folderUrlOf(source: string | undefined, options: LoadLegacyEnsembleOptions): string | undefined {
  if (source === undefined || source === LEGACY_HOEFLING_ENSEMBLE_NAME) {
    const base = options.remoteUrl ?? LEGACY_ENSEMBLE_REMOTE_URL;
    return new URL(options.modelPath ?? LEGACY_ENSEMBLE_MODEL_PATH, base.endsWith('/') ? base : `${base}/`).toString();
  }
  return /^https?:\/\//i.test(source) ? source : undefined;
}

/**
 * The local folder and seeds of a legacy ensemble source: our name `hoefling_2024_ensemble` (or no source) and any
 * `http(s)://` folder URL are downloaded into the cache (OpenRetina's `load_ensemble_model_from_remote`, default
 * seeds 00000…04000); a local folder is read as is (seeds from its `config_<seed>.yaml` files).
 */
export async function resolveLegacyEnsemble(
  source: string | undefined,
  options: LoadLegacyEnsembleOptions = {},
): Promise<{ dir: string; seeds: number[] }> {
  const folderUrl = folderUrlOf(source, options);
  if (folderUrl !== undefined) {
    const seeds = (options.seeds ?? LEGACY_ENSEMBLE_SEEDS).map((s) => Number(formatSeed(s)));
    return { dir: await downloadMembers(folderUrl, seeds, options), seeds };
  }
  const dir = resolve(source!);
  if (!(await isDirectory(dir)))
    throw new DataError(
      `${dir}: not a folder (a legacy ensemble folder holds config_<seed>.yaml, data_info_<seed>.pkl, state_dict_<seed>.pth.tar).`,
    );
  const seeds = options.seeds ? options.seeds.map((s) => Number(formatSeed(s))) : await legacySeedsInDirectory(dir);
  if (seeds.length === 0) throw new DataError(`${dir}: no config_<seed>.yaml files (not a legacy ensemble folder).`);
  return { dir, seeds };
}

/**
 * OpenRetina's `load_ensemble_model_from_remote` / `load_ensemble_retina_model_from_directory`: the original Höfling
 * et al. 2024 ensemble (or any folder in its nnfabrik layout) as `{ dataInfo, ensemble }`, the ensemble a
 * differentiable response model predicting the mean of its members, in eval mode. `dirOrRemote`: a folder, an
 * `http(s)://` folder URL, or `hoefling_2024_ensemble`/nothing for the published GIN ensemble (downloaded through
 * data-io's cache; `OPENRETINA_CACHE_DIRECTORY`). `center: true` is OpenRetina's `Center(target_mean=(0, 0))`.
 */
export async function loadLegacyHoeflingEnsemble(dirOrRemote?: string, options: LoadLegacyEnsembleOptions = {}): Promise<LegacyEnsemble> {
  const { dir, seeds } = await resolveLegacyEnsemble(dirOrRemote, options);
  const members: LegacyMemberFiles[] = [];
  for (const seed of seeds) members.push(await readMember(dir, seed));
  return legacyEnsembleFromFiles(members, options);
}

/**
 * One member of a legacy ensemble as a core-readout model (what OpenRetina's `visualize` CLI uses:
 * `ensemble.members[model_id]`): `member` indexes the sorted seeds (negative from the end, default 0); `center` centres
 * its readout masks. Only that member's files are read or downloaded.
 */
export async function loadLegacyHoeflingMember(
  dirOrRemote?: string,
  options: LoadLegacyEnsembleOptions & { member?: number } = {},
): Promise<LegacyEncoder> {
  const { member = 0, center, ...rest } = options;
  const all =
    options.seeds ??
    (folderUrlOf(dirOrRemote, options) !== undefined ? LEGACY_ENSEMBLE_SEEDS : await legacySeedsInDirectory(resolve(dirOrRemote!)));
  const index = member < 0 ? all.length + member : member;
  const seed = all[index];
  if (!Number.isInteger(member) || seed === undefined)
    throw new ConfigError(`member ${member} is out of range for an ensemble of ${all.length} members.`);
  const { ensemble } = await loadLegacyHoeflingEnsemble(dirOrRemote, { ...rest, seeds: [seed] });
  const model = ensemble.members.at(0);
  if (center) centerReadouts(model, center === true ? {} : (center as CenterOptions));
  return model.eval();
}
