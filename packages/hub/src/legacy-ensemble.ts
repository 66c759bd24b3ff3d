import {
  ConfigError,
  FileFormatError,
  StateDictError,
  UnsupportedError,
  formatShape,
  type StateDict,
  type StateTensor,
} from '@openretina/contracts';
import type { Module } from '@openretina/layers';
import {
  EnsembleModel,
  buildLegacyHoeflingModel,
  type LegacyDataInfo,
  type LegacyEncoder,
  type LegacySessionInfo,
} from '@openretina/models';
import { YAMLSeq, parseDocument, type CollectionTag } from 'yaml';
import { ArrayValue, PyDict, PyObject, type ReadPickleOptions, readPickle, toPlain } from '@openretina/formats';
import { readTorchArchive } from './torch-archive.js';

/*
 * The original Höfling et al. 2024 ensemble (nnfabrik, published on GIN) — OpenRetina's
 * `openretina/utils/nnfabrik_model_loading.py`: per seed a YAML config (`model_fn`, `model_config`), a pickled
 * `data_info` and a `torch.save`d state dict, each member built by the legacy `SFB3d_core_SxF3d_readout` and loaded
 * with nnfabrik's flexible (non-strict) `load_state_dict`; the ensemble predicts the mean of its members.
 * Browser-safe: this module works on bytes; the file system and downloads are in `node/legacy-ensemble-fs.ts`.
 */

/** Our name for the published legacy ensemble (not one of OpenRetina's `.ckpt` names). */
export const LEGACY_HOEFLING_ENSEMBLE_NAME = 'hoefling_2024_ensemble';
/** OpenRetina's default `remote_url` of `load_ensemble_model_from_remote`. */
export const LEGACY_ENSEMBLE_REMOTE_URL = 'https://gin.g-node.org/';
/** OpenRetina's default `model_path` of `load_ensemble_model_from_remote`. */
export const LEGACY_ENSEMBLE_MODEL_PATH = 'eulerlab/rgc-natstim/raw/master/models/nonlinear/9d574ab9fcb85e8251639080c8d402b7';
/** The seeds OpenRetina downloads. */
export const LEGACY_ENSEMBLE_SEEDS: readonly string[] = ['00000', '01000', '02000', '03000', '04000'];

/** `config_<seed>.yaml`, `data_info_<seed>.pkl`, `state_dict_<seed>.pth.tar` for a seed (an integer or its 5-digit form). */
export function legacyMemberFileNames(seed: number | string): { config: string; dataInfo: string; stateDict: string } {
  const tag = formatSeed(seed);
  return { config: `config_${tag}.yaml`, dataInfo: `data_info_${tag}.pkl`, stateDict: `state_dict_${tag}.pth.tar` };
}

/** A seed as OpenRetina formats it in file names (`{seed:05d}`). */
export function formatSeed(seed: number | string): string {
  const n = typeof seed === 'number' ? seed : Number(seed);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`A seed must be a non-negative integer, got ${JSON.stringify(seed)}.`);
  return String(n).padStart(5, '0');
}

/** The seed of a `config_<seed>.yaml` file name as OpenRetina reads it (`int(name[:-5].split("_")[1])`), or undefined. */
export function seedOfConfigFile(name: string): number | undefined {
  if (!name.endsWith('yaml')) return undefined;
  const part = name.slice(0, -'.yaml'.length).split('_')[1];
  return part !== undefined && /^\d+$/.test(part) ? Number(part) : undefined;
}

const PYTHON_TUPLE: CollectionTag = {
  tag: 'tag:yaml.org,2002:python/tuple',
  collection: 'seq',
  nodeClass: YAMLSeq,
  identify: () => false,
};

/** A parsed nnfabrik config: the model function (as OpenRetina resolves it) and the builder's keyword arguments. */
export interface LegacyConfig {
  /** `model_fn` as written in the file, e.g. `nnfabrik_euler.models.models.SFB3d_core_SxF3d_readout`. */
  modelFn: string;
  /** The OpenRetina function it maps to, e.g. `openretina.legacy.models.SFB3d_core_SxF3d_readout`. */
  openRetinaFn: string;
  modelConfig: Record<string, unknown>;
  /** The whole YAML document (other nnfabrik entries such as `dataset_fn`). */
  raw: Record<string, unknown>;
}

const SUPPORTED_BUILDERS = new Set(['SFB3d_core_SxF3d_readout']);

/**
 * Parses a `config_<seed>.yaml` of the nnfabrik ensemble: YAML with PyYAML's `!!python/tuple` (read as a list);
 * any other Python tag (objects, functions) is refused, nothing is ever executed. `model_fn` must have four dotted
 * parts: `nnfabrik_euler.*.*.<fn>` becomes `openretina.legacy.models.<fn>` (OpenRetina's rewrite), `openretina.*.*.<fn>`
 * is kept; the function must be `SFB3d_core_SxF3d_readout`.
 */
export function parseLegacyConfig(text: string, source = 'config'): LegacyConfig {
  const doc = parseDocument(text, { customTags: [PYTHON_TUPLE], uniqueKeys: true });
  if (doc.errors.length) throw new FileFormatError(`${source}: invalid YAML: ${doc.errors[0]!.message}`);
  const unresolved = doc.warnings.filter((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (unresolved.length) {
    throw new UnsupportedError(
      `${source}: unsupported YAML tag (only !!python/tuple is read; nothing is executed): ${unresolved[0]!.message.split('\n')[0]}`,
    );
  }
  const raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new FileFormatError(`${source}: expected a YAML mapping at the top level.`);
  const cfg = raw as Record<string, unknown>;
  const modelFn = cfg.model_fn;
  if (typeof modelFn !== 'string') throw new FileFormatError(`${source}: no model_fn string.`);
  const parts = modelFn.split('.');
  if (parts.length !== 4)
    throw new ConfigError(
      `${source}: model_fn "${modelFn}" must have four dotted parts (repo.package.module.function), as OpenRetina expects.`,
    );
  const [repo, , , fn] = parts as [string, string, string, string];
  let openRetinaFn: string;
  if (repo === 'nnfabrik_euler') openRetinaFn = `openretina.legacy.models.${fn}`;
  else if (repo === 'openretina') openRetinaFn = modelFn.replace('hoefling_2024', 'legacy');
  else
    throw new UnsupportedError(
      `${source}: unsupported repository "${repo}" in model_fn "${modelFn}" (nnfabrik_euler or openretina expected).`,
    );
  if (!openRetinaFn.startsWith('openretina.legacy.models.') || !SUPPORTED_BUILDERS.has(fn)) {
    throw new UnsupportedError(
      `${source}: model_fn "${modelFn}" (→ ${openRetinaFn}) is not supported; only ${[...SUPPORTED_BUILDERS].join(', ')} of openretina.legacy.models is.`,
    );
  }
  const modelConfig = cfg.model_config ?? {};
  if (typeof modelConfig !== 'object' || modelConfig === null || Array.isArray(modelConfig))
    throw new FileFormatError(`${source}: model_config is not a mapping.`);
  return { modelFn, openRetinaFn, modelConfig: modelConfig as Record<string, unknown>, raw: cfg };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof ArrayValue) && !ArrayBuffer.isView(v);
}

function toNumber(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof ArrayValue && v.data.length === 1) return Number(v.data[0]);
  throw new FileFormatError(`${what} must be a number, got ${JSON.stringify(v)}.`);
}

function toFloats(v: unknown, what: string): Float32Array {
  if (v instanceof ArrayValue) return Float32Array.from(v.data as ArrayLike<number | bigint>, Number);
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return Float32Array.from(v as number[]);
  throw new FileFormatError(`${what} must be an array of numbers.`);
}

/**
 * Reads a `data_info_<seed>.pkl` (a plain pickle: `{session: {input_dimensions, input_channels, output_dimension,
 * mean_response, roi_coords}}` with numpy values) with the safe pickle reader. Returns the typed info and the whole
 * content as plain data (numpy arrays as {@link ArrayValue}s).
 */
export function readLegacyDataInfo(
  bytes: Uint8Array,
  options: ReadPickleOptions = {},
): { dataInfo: LegacyDataInfo; raw: Record<string, unknown> } {
  const source = options.source ?? 'data_info';
  const raw = toPlain(readPickle(bytes, { ...options, source }));
  if (!isRecord(raw)) throw new FileFormatError(`${source}: expected a dict of sessions.`);
  const out: Record<string, LegacySessionInfo> = {};
  for (const [session, entry] of Object.entries(raw)) {
    if (!isRecord(entry)) throw new FileFormatError(`${source}: the entry of session "${session}" is not a dict.`);
    const at = (k: string): unknown => {
      if (!(k in entry)) throw new FileFormatError(`${source}: session "${session}" has no "${k}".`);
      return entry[k];
    };
    const dims = at('input_dimensions');
    const inputDimensions = (
      Array.isArray(dims) ? dims : dims instanceof ArrayValue ? Array.from(dims.data as ArrayLike<number | bigint>) : []
    ).map((d, i) => toNumber(d, `${source}: ${session}.input_dimensions[${i}]`));
    const info: LegacySessionInfo = {
      inputDimensions,
      inputChannels: toNumber(at('input_channels'), `${source}: ${session}.input_channels`),
      outputDimension: toNumber(at('output_dimension'), `${source}: ${session}.output_dimension`),
      meanResponse: toFloats(at('mean_response'), `${source}: ${session}.mean_response`),
      ...('roi_coords' in entry ? { roiCoords: toFloats(entry.roi_coords, `${source}: ${session}.roi_coords`) } : {}),
    };
    Object.defineProperty(out, session, { value: info, enumerable: true, writable: true, configurable: true });
  }
  return { dataInfo: out, raw };
}

/** Reads a `state_dict_<seed>.pth.tar` (`torch.save(model.state_dict())`, zip format) into a state dict, in file order. */
export function readLegacyStateDict(bytes: Uint8Array, options: ReadPickleOptions = {}): StateDict {
  const source = options.source ?? 'state_dict';
  const raw = readTorchArchive(bytes, { ...options, source });
  const top = raw instanceof PyDict ? raw.map : raw instanceof PyObject ? raw.dictItems : undefined;
  if (!top) throw new FileFormatError(`${source}: the archive does not hold a state dict.`);
  // A checkpoint dict wrapping the state dict is accepted too.
  const inner = top.get('state_dict') ?? top.get('model_state_dict');
  const map = inner instanceof PyDict ? inner.map : inner instanceof PyObject ? inner.dictItems : top;
  const out: StateDict = new Map();
  for (const [k, v] of map) {
    if (typeof k !== 'string') throw new FileFormatError(`${source}: state-dict key ${String(k)} is not a string.`);
    if (!(v instanceof ArrayValue)) throw new FileFormatError(`${source}: state-dict entry "${k}" is not a tensor.`);
    out.set(k, { shape: [...v.shape], dtype: v.dtype, data: v.data });
  }
  return out;
}

/**
 * nnfabrik's `find_prefix`: the longest dotted prefix shared by at least `pAgree` of the keys (a prefix is never a
 * whole key). Returns the prefix ('' when none) and its number of components.
 */
export function findPrefix(keys: readonly string[], pAgree = 0.66, separator = '.'): [string, number] {
  const split = keys.map((k) => k.split(separator));
  let pLen = 0;
  let common = '';
  let prefs = new Map<string, number>([['', split.length]]);
  for (;;) {
    let best: [string, number] | undefined;
    for (const e of prefs) if (!best || e[1] > best[1]) best = e; // first of the largest, as Python's stable sort
    if (!best || best[1] < pAgree * split.length) break;
    common = best[0];
    pLen += 1;
    prefs = new Map();
    for (const key of split) {
      if (pLen === key.length) continue;
      const p = key.slice(0, pLen).join('.');
      prefs.set(p, (prefs.get(p) ?? 0) + 1);
    }
  }
  return [common, pLen - 1];
}

/** Options of {@link loadStateDictFlexible} (nnfabrik's `load_state_dict` flags). */
export interface FlexibleLoadOptions {
  ignoreMissing?: boolean;
  ignoreUnused?: boolean;
  matchNames?: boolean;
  ignoreDimMismatch?: boolean;
  prefixAgreement?: number;
  /** Receives what nnfabrik prints (ignored keys). */
  log?: (message: string) => void;
}

/** What {@link loadStateDictFlexible} did. */
export interface FlexibleLoadResult {
  loadedKeys: string[];
  missingKeys: string[];
  unusedKeys: string[];
  mismatchedKeys: string[];
}

/**
 * nnfabrik's flexible `load_state_dict(model, state_dict, ignore_missing, ignore_unused, match_names,
 * ignore_dim_mismatch)`: optionally swaps the common key prefix of the file for the model's ({@link findPrefix}),
 * then refuses unused keys (unless `ignoreUnused`), missing keys (unless `ignoreMissing`) and shape mismatches
 * (unless `ignoreDimMismatch`) with a `StateDictError` naming them, and loads the rest. Nothing is changed when it throws.
 */
export function loadStateDictFlexible(model: Module, stateDict: StateDict, options: FlexibleLoadOptions = {}): FlexibleLoadResult {
  const modelDict = model.stateDict();
  let sd = stateDict;
  if (options.matchNames) {
    const agree = options.prefixAgreement ?? 0.98;
    const [sPref, sIdx] = findPrefix([...sd.keys()], agree);
    const [mPref] = findPrefix([...modelDict.keys()], agree);
    const sParts = sPref.split('.');
    const swapped: StateDict = new Map();
    for (const [k, v] of sd) {
      const parts = k.split('.');
      const head = parts.slice(0, sIdx);
      const stripped = head.length === sParts.length && head.every((p, i) => p === sParts[i]) ? parts.slice(sIdx).join('.') : k;
      swapped.set(mPref ? `${mPref}.${stripped}` : stripped, v);
    }
    sd = swapped;
  }
  const unusedKeys = [...sd.keys()].filter((k) => !modelDict.has(k));
  if (unusedKeys.length) {
    if (!options.ignoreUnused) {
      throw new StateDictError(`Error in loading state_dict: unused keys (not in the model): ${unusedKeys.join(', ')}`, {
        details: { unusedKeys },
      });
    }
    options.log?.(`Ignored unnecessary keys in pretrained dict: ${unusedKeys.join(', ')}`);
  }
  const missingKeys = [...modelDict.keys()].filter((k) => !sd.has(k));
  if (missingKeys.length) {
    if (!options.ignoreMissing) {
      throw new StateDictError(`Error in loading state_dict: missing keys: ${missingKeys.join(', ')}`, { details: { missingKeys } });
    }
    options.log?.(`Ignored missing keys: ${missingKeys.join(', ')}`);
  }
  const updated: StateDict = new Map();
  const mismatchedKeys: string[] = [];
  for (const [k, v] of sd) {
    const target = modelDict.get(k);
    if (!target) continue;
    const same = v.shape.length === target.shape.length && v.shape.every((d, i) => d === target.shape[i]);
    if (!same) {
      if (!options.ignoreDimMismatch) {
        throw new StateDictError(
          `Error in loading state_dict: shape mismatch for key ${k}: the model has ${formatShape(target.shape)}, the file ${formatShape(v.shape)}.`,
          {
            details: { key: k, expected: [...target.shape], actual: [...v.shape] },
          },
        );
      }
      mismatchedKeys.push(k);
      options.log?.(`Ignored shape-mismatched parameter: ${k}`);
      continue;
    }
    updated.set(k, v);
  }
  model.loadStateDict(updated, { strict: !options.ignoreMissing });
  return { loadedKeys: [...updated.keys()], missingKeys, unusedKeys, mismatchedKeys };
}

/** OpenRetina's `Center(target_mean, mean_key)`: the value every `mean_key` entry is set to (default `mask_mean` → (0, 0)). */
export interface CenterOptions {
  targetMean?: readonly number[];
  meanKey?: string;
}

/**
 * OpenRetina's `Center`: sets every state-dict entry whose key contains `meanKey` (default `mask_mean`) to
 * `targetMean` broadcast over its last axis (default (0, 0): readout masks centred on the stimulus). Returns the keys
 * it changed. A model without such entries is an error (OpenRetina fails there too).
 */
export function centerReadouts(model: Module, options: CenterOptions = {}): string[] {
  const meanKey = options.meanKey ?? 'mask_mean';
  const target = [...(options.targetMean ?? [0, 0])];
  const sd = model.stateDict();
  const keys = [...sd.keys()].filter((k) => k.includes(meanKey));
  if (keys.length === 0)
    throw new ConfigError(`Center: the model has no state-dict entry containing "${meanKey}" (are its readouts Gaussian masks?).`);
  const updated: StateDict = new Map();
  for (const k of keys) {
    const e = sd.get(k)!;
    const last = e.shape[e.shape.length - 1] ?? 1;
    if (target.length !== 1 && target.length !== last) {
      throw new ConfigError(`Center: target mean ${JSON.stringify(target)} does not broadcast to ${k} ${formatShape(e.shape)}.`);
    }
    const data = new Float32Array(e.data.length);
    for (let i = 0; i < data.length; i++) data[i] = target.length === 1 ? target[0]! : target[i % last]!;
    updated.set(k, { shape: [...e.shape], dtype: 'float32', data } satisfies StateTensor);
  }
  model.loadStateDict(updated, { strict: false });
  return keys;
}

/** The three files of one ensemble member, as bytes/text. */
export interface LegacyMemberFiles {
  seed: number;
  config: string;
  dataInfo: Uint8Array;
  stateDict: Uint8Array;
  /** Names files in error messages (a folder or URL). */
  source?: string;
}

/**
 * One member as OpenRetina's `get_model(model_fn, model_config, seed, data_info, state_dict, strict=False)`: built by
 * the legacy builder, loaded non-strictly (missing keys keep their initial values); with `transfer` in the config,
 * names are matched by prefix and unused or mismatched entries are ignored. Unused keys are an error otherwise.
 */
export function legacyMemberFromFiles(
  files: LegacyMemberFiles,
  options: ReadPickleOptions & { log?: (m: string) => void } = {},
): {
  model: LegacyEncoder;
  dataInfo: LegacyDataInfo;
  rawDataInfo: Record<string, unknown>;
  config: LegacyConfig;
  load: FlexibleLoadResult;
} {
  const names = legacyMemberFileNames(files.seed);
  const at = (f: string) => (files.source ? `${files.source}/${f}` : f);
  const config = parseLegacyConfig(files.config, at(names.config));
  const { dataInfo, raw } = readLegacyDataInfo(files.dataInfo, { ...options, source: at(names.dataInfo) });
  const stateDict = readLegacyStateDict(files.stateDict, { ...options, source: at(names.stateDict) });
  const model = buildLegacyHoeflingModel(config.modelConfig, dataInfo, { seed: files.seed });
  try {
    const transfer = Boolean(config.modelConfig.transfer);
    const load = loadStateDictFlexible(model, stateDict, {
      ignoreMissing: true,
      ignoreUnused: transfer,
      matchNames: transfer,
      ignoreDimMismatch: transfer,
      ...(options.log ? { log: options.log } : {}),
    });
    return { model, dataInfo, rawDataInfo: raw, config, load };
  } catch (error) {
    model.dispose();
    if (error instanceof StateDictError) {
      throw new StateDictError(`${at(names.stateDict)}: ${error.message}`, { cause: error, details: error.details });
    }
    throw error;
  }
}

/** Options of {@link legacyEnsembleFromFiles}. */
export interface LegacyEnsembleOptions extends ReadPickleOptions {
  /** Centre the readout masks (OpenRetina's `center_readout=Center(...)`); `true` = `Center(target_mean=(0, 0))`. */
  center?: boolean | CenterOptions;
  log?: (message: string) => void;
}

/** What the legacy loaders return: OpenRetina's `(data_info, ensemble_model)` plus the seeds. */
export interface LegacyEnsemble {
  /** The data info of the first seed (OpenRetina assumes all are the same). */
  dataInfo: LegacyDataInfo;
  /** The same, as plain data read from the pickle (numpy arrays as `ArrayValue`s). */
  rawDataInfo: Record<string, unknown>;
  /** The members behind one model whose prediction is their mean; in eval mode. State dict `members.<i>.*`. */
  ensemble: EnsembleModel<LegacyEncoder>;
  seeds: number[];
}

/**
 * OpenRetina's `load_ensemble_retina_model_from_directory`, on files already read: every member (in the given order;
 * OpenRetina sorts by seed), wrapped in an `EnsembleModel`, optionally centred, in eval mode.
 */
export function legacyEnsembleFromFiles(members: readonly LegacyMemberFiles[], options: LegacyEnsembleOptions = {}): LegacyEnsemble {
  if (members.length === 0) throw new ConfigError('A legacy ensemble needs at least one member (no config_<seed>.yaml found).');
  const built: ReturnType<typeof legacyMemberFromFiles>[] = [];
  try {
    for (const files of members) built.push(legacyMemberFromFiles(files, options));
    const ensemble = new EnsembleModel(built.map((b) => b.model));
    if (options.center) centerReadouts(ensemble, options.center === true ? {} : options.center);
    ensemble.eval();
    return { dataInfo: built[0]!.dataInfo, rawDataInfo: built[0]!.rawDataInfo, ensemble, seeds: members.map((m) => m.seed) };
  } catch (error) {
    for (const b of built) b.model.dispose();
    throw error;
  }
}
