import { ConfigError, FileFormatError, type DataInfo, type StateDict, type StateTensor } from '@openretina/contracts';
import {
  type CoreReadout,
  type CoreReadoutConfig,
  ExampleCoreReadout,
  exampleCoreReadoutConfig,
  exampleCoreReadoutOptions,
  isExampleCoreReadoutHyperParameters,
} from '@openretina/models';
import { buildRemembered, rememberArchitecture, rememberCheckpointDataInfo } from './architecture.js';
import { ArrayValue, PyDict, PyObject, type ReadPickleOptions, defineOwn, toPlain } from '@openretina/formats';
import { readTorchArchive } from './torch-archive.js';

/** What an OpenRetina `.ckpt` (Lightning) or `.pt` (`torch.save(model.state_dict())`) file holds, as plain data. */
export interface OpenRetinaCheckpoint {
  /** `lightning`: a dict with `state_dict` and `hyper_parameters`; `state_dict`: a bare state dict. */
  readonly kind: 'lightning' | 'state_dict';
  /** Parameters and buffers by PyTorch name, in file order. */
  readonly stateDict: StateDict;
  /**
   * The constructor arguments saved by `save_hyperparameters` as plain JS data (omegaconf resolved, interpolations
   * included; tensors and numpy arrays as {@link ArrayValue}s). Empty for a bare state dict.
   */
  readonly hyperParameters: Record<string, unknown>;
  /** `hyper_parameters.data_info` converted to our DataInfo, when present. */
  readonly dataInfo: DataInfo | undefined;
  /** Other top-level entries (`epoch`, `global_step`, `pytorch-lightning_version`, ...), except optimizer states. */
  readonly extra: Record<string, unknown>;
}

function toStateTensor(v: ArrayValue): StateTensor {
  return { shape: [...v.shape], dtype: v.dtype, data: v.data };
}

function toStateDict(raw: unknown, source: string): StateDict {
  const map = raw instanceof PyDict ? raw.map : raw instanceof PyObject ? raw.dictItems : undefined;
  if (!map) throw new FileFormatError(`${source}: the state dict is not a dictionary.`);
  const out: StateDict = new Map();
  for (const [k, v] of map) {
    if (typeof k !== 'string') throw new FileFormatError(`${source}: state-dict key ${String(k)} is not a string.`);
    if (!(v instanceof ArrayValue)) throw new FileFormatError(`${source}: state-dict entry "${k}" is not a tensor.`);
    out.set(k, toStateTensor(v));
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof ArrayValue) && !ArrayBuffer.isView(v);
}

function toFloat32(v: unknown, what: string): Float32Array {
  if (v instanceof ArrayValue) return Float32Array.from(v.data as ArrayLike<number | bigint>, Number);
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return Float32Array.from(v as number[]);
  throw new ConfigError(`${what} must be a tensor, array or list of numbers.`);
}

function plainArray(v: unknown): readonly unknown[] {
  if (v instanceof ArrayValue) return Array.from(v.data as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? Number(x) : x));
  if (Array.isArray(v)) return v.map((x) => (x instanceof ArrayValue ? plainArray(x) : x));
  return [v];
}

const DATA_INFO_KEYS = new Set(['n_neurons_dict', 'mean_activity_dict', 'input_shape', 'sessions_kwargs', 'stim_mean', 'stim_std']);

/** Converts OpenRetina's `data_info` dict (plain data) to our `DataInfo`; other keys go to `extra`. */
export function dataInfoFromOpenRetina(info: Record<string, unknown>): DataInfo {
  const nNeurons = info.n_neurons_dict;
  if (!isRecord(nNeurons)) throw new ConfigError('data_info.n_neurons_dict must map sessions to neuron counts.');
  const nNeuronsDict: Record<string, number> = {};
  for (const [k, v] of Object.entries(nNeurons)) defineOwn(nNeuronsDict, k, Number(v));
  const meanActivityDict: Record<string, Float32Array> = {};
  if (isRecord(info.mean_activity_dict)) {
    for (const [k, v] of Object.entries(info.mean_activity_dict))
      defineOwn(meanActivityDict, k, toFloat32(v, `data_info.mean_activity_dict.${k}`));
  }
  const shape = Array.isArray(info.input_shape) ? (info.input_shape as unknown[]).map(Number) : [];
  if (shape.length !== 3 || shape.some((x) => !Number.isInteger(x)))
    throw new ConfigError(`data_info.input_shape must be [C, H, W], got ${JSON.stringify(info.input_shape)}.`);
  const sessionsKwargs: Record<string, Record<string, readonly unknown[]>> = {};
  if (isRecord(info.sessions_kwargs)) {
    for (const [s, kw] of Object.entries(info.sessions_kwargs)) {
      const entry: Record<string, readonly unknown[]> = {};
      if (isRecord(kw)) for (const [k, v] of Object.entries(kw)) defineOwn(entry, k, plainArray(v));
      defineOwn(sessionsKwargs, s, entry);
    }
  }
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(info)) if (!DATA_INFO_KEYS.has(k)) defineOwn(extra, k, v);
  return {
    nNeuronsDict,
    meanActivityDict,
    inputShape: [shape[0]!, shape[1]!, shape[2]!],
    sessionsKwargs,
    ...(typeof info.stim_mean === 'number' ? { stimMean: info.stim_mean } : {}),
    ...(typeof info.stim_std === 'number' ? { stimStd: info.stim_std } : {}),
    ...(Object.keys(extra).length ? { extra } : {}),
  };
}

/** Our `DataInfo` as OpenRetina's `data_info` dict (JSON-friendly: arrays instead of typed arrays). */
export function dataInfoToOpenRetina(info: DataInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(info.extra ?? {})) defineOwn(out, k, v instanceof ArrayValue ? plainArray(v) : v);
  out.n_neurons_dict = { ...info.nNeuronsDict };
  out.mean_activity_dict = Object.fromEntries(Object.entries(info.meanActivityDict).map(([k, v]) => [k, Array.from(v)]));
  out.input_shape = [...info.inputShape];
  out.sessions_kwargs = info.sessionsKwargs ?? {};
  if (info.stimMean !== undefined) out.stim_mean = info.stimMean;
  if (info.stimStd !== undefined) out.stim_std = info.stimStd;
  return out;
}

/**
 * Reads an OpenRetina checkpoint: a Lightning `.ckpt` (`state_dict` + `hyper_parameters`, omegaconf or plain dicts)
 * or a bare `torch.save(state_dict)` `.pt`. Nothing in the file is executed (see `unpickle`).
 */
export function readOpenRetinaCheckpoint(bytes: Uint8Array, options: ReadPickleOptions = {}): OpenRetinaCheckpoint {
  const source = options.source ?? 'checkpoint';
  const raw = readTorchArchive(bytes, { ...options, source });
  const top = raw instanceof PyDict ? raw.map : raw instanceof PyObject ? raw.dictItems : undefined;
  if (!top)
    throw new FileFormatError(
      `${source}: the archive does not hold a dictionary (got ${raw instanceof PyObject ? raw.className : typeof raw}).`,
    );
  if (top.has('state_dict')) {
    const stateDict = toStateDict(top.get('state_dict'), source);
    const hpRaw = top.get('hyper_parameters');
    const hp = hpRaw === undefined ? {} : toPlain(hpRaw);
    if (!isRecord(hp)) throw new FileFormatError(`${source}: hyper_parameters is not a dictionary.`);
    const extra: Record<string, unknown> = {};
    for (const [k, v] of top) {
      if (
        typeof k !== 'string' ||
        ['state_dict', 'hyper_parameters', 'optimizer_states', 'lr_schedulers', 'callbacks', 'loops'].includes(k)
      )
        continue;
      defineOwn(extra, k, toPlain(v));
    }
    const dataInfo = isRecord(hp.data_info) ? dataInfoFromOpenRetina(hp.data_info) : undefined;
    return { kind: 'lightning', stateDict, hyperParameters: hp, dataInfo, extra };
  }
  return { kind: 'state_dict', stateDict: toStateDict(raw, source), hyperParameters: {}, dataInfo: undefined, extra: {} };
}

/**
 * The architecture config (OpenRetina's `UnifiedCoreReadout` keys) of a checkpoint's hyper-parameters, filling gaps
 * from data_info. `ExampleCoreReadout` checkpoints (flat `core_*`/`readout_*` arguments) give the equivalent
 * `UnifiedCoreReadout` architecture (`exampleCoreReadoutConfig` of @openretina/models).
 */
export function architectureFromHyperParameters(hp: Record<string, unknown>): CoreReadoutConfig {
  if (isExampleCoreReadoutHyperParameters(hp)) return exampleCoreReadoutConfig(exampleCoreReadoutOptions(hp));
  const info = isRecord(hp.data_info) ? hp.data_info : {};
  const nNeurons = hp.n_neurons_dict ?? info.n_neurons_dict;
  let inShape = hp.in_shape;
  if (!Array.isArray(inShape) && Array.isArray(info.input_shape)) {
    const [c, h, w] = info.input_shape as number[];
    inShape = [c, 150, h, w]; // the time length only matters for the readout's in_shape bookkeeping
  }
  if (!isRecord(hp.core) || !isRecord(hp.readout) || !Array.isArray(inShape) || !isRecord(nNeurons)) {
    throw new ConfigError(
      `The checkpoint's hyper_parameters do not describe a core-readout model (need core, readout, in_shape and n_neurons_dict, or ExampleCoreReadout's flat arguments; have ${Object.keys(hp).join(', ') || 'nothing'}). Pass the architecture explicitly: in code, { architecture: { in_shape, n_neurons_dict, hidden_channels, core, readout } } to loadCoreReadout or coreReadoutFromCheckpointBytes; the openretina CLI reads only checkpoints that describe their model (rebuild it in code and save it with saveCheckpoint).`,
    );
  }
  return {
    in_shape: inShape as number[],
    n_neurons_dict: nNeurons as Record<string, number>,
    hidden_channels: (hp.hidden_channels as number[] | null | undefined) ?? null,
    core: hp.core,
    readout: hp.readout,
    ...(typeof hp.learning_rate === 'number' ? { learning_rate: hp.learning_rate } : {}),
  };
}

export interface ModelFromCheckpointOptions {
  /** Architecture to use instead of the checkpoint's hyper-parameters (required for a bare state dict). */
  architecture?: CoreReadoutConfig;
  /** Data info to attach (default: the checkpoint's). */
  dataInfo?: DataInfo;
  /** Refuse missing/unexpected state-dict keys (default true). */
  strict?: boolean;
}

/**
 * Rebuilds the model of an OpenRetina checkpoint (the `_target_` classes through the models registry; an
 * `ExampleCoreReadout` checkpoint as that class, its legacy `readout.*.bias_param` keys renamed to `.bias` as
 * OpenRetina's `on_load_checkpoint` does) and loads its weights. The model is returned in eval mode.
 */
export function modelFromCheckpoint(ckpt: OpenRetinaCheckpoint, options: ModelFromCheckpointOptions = {}): CoreReadout {
  const dataInfo = options.dataInfo ?? ckpt.dataInfo;
  let model: CoreReadout;
  let stateDict = ckpt.stateDict;
  if (!options.architecture && isExampleCoreReadoutHyperParameters(ckpt.hyperParameters)) {
    const example = ExampleCoreReadout.fromHyperParameters(ckpt.hyperParameters, { dataInfo });
    model = rememberArchitecture(example, example.architecture);
    stateDict = ExampleCoreReadout.renameLegacyKeys(stateDict).stateDict;
  } else {
    model = buildRemembered(options.architecture ?? architectureFromHyperParameters(ckpt.hyperParameters), dataInfo);
  }
  try {
    model.loadStateDict(stateDict, { strict: options.strict ?? true });
  } catch (error) {
    model.dispose();
    throw error;
  }
  if (!options.dataInfo && isRecord(ckpt.hyperParameters.data_info)) rememberCheckpointDataInfo(model, ckpt.hyperParameters.data_info);
  model.eval();
  return model;
}

/** Reads an OpenRetina checkpoint's bytes and rebuilds its model (see {@link modelFromCheckpoint}). */
export function coreReadoutFromCheckpointBytes(
  bytes: Uint8Array,
  options: ModelFromCheckpointOptions & ReadPickleOptions = {},
): CoreReadout {
  return modelFromCheckpoint(readOpenRetinaCheckpoint(bytes, options), options);
}
