import { ConfigError, type DataInfo, UnsupportedError } from '@openretina/contracts';
import { ArrayValue, PyFloat, defineOwn, pickleOrderedDict } from '@openretina/formats';
import { type CoreReadout, type CoreReadoutConfig, ExampleCoreReadout } from '@openretina/models';
import { architectureOf, checkpointDataInfoOf } from './architecture.js';
import { writeTorchArchive } from './torch-archive-writer.js';

/*
 * A Lightning-layout `.ckpt` that OpenRetina's `load_core_readout_model(path, device)` loads as a
 * `UnifiedCoreReadout`: `epoch`, `global_step`, `pytorch-lightning_version`, `state_dict` (PyTorch keys, shapes and
 * dtypes), `hparams_name` and `hyper_parameters` with what `UnifiedCoreReadout.__init__` takes. Only plain
 * containers and tensors are written (no omegaconf, numpy or module objects), so the file also loads with
 * `torch.load(path, weights_only=True)`.
 */

const DEFAULT_CORE_TARGET = 'openretina.modules.core.base_core.SimpleCoreWrapper';
const DEFAULT_READOUT_TARGET = 'openretina.modules.readout.multi_readout.MultiGaussianMaskReadout';
/** The Lightning version written: the 2.x checkpoint layout, for which Lightning's loader runs no migration. */
export const LIGHTNING_LAYOUT_VERSION = '2.0.0';

export interface WriteOpenRetinaCheckpointOptions {
  /**
   * The architecture in OpenRetina's config keys, for a model that has none recorded (models loaded or built by this
   * package, and `ExampleCoreReadout`s, have one).
   */
  architecture?: CoreReadoutConfig;
  /** `epoch` and `global_step` to record (default 0). */
  epoch?: number;
  globalStep?: number;
}

/** Nested lists of a row-major array of `shape` (numpy arrays are written as lists: they load without numpy). */
function nestedList(value: (i: number) => unknown, shape: readonly number[], at = 0, dim = 0): unknown {
  if (shape.length === 0) return value(0);
  const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  const out: unknown[] = [];
  for (let i = 0; i < shape[dim]!; i++)
    out.push(dim === shape.length - 1 ? value(at + i) : nestedList(value, shape, at + i * stride, dim + 1));
  return out;
}

function float32Tensor(values: ArrayLike<number>): ArrayValue {
  const data = Float32Array.from(values);
  return new ArrayValue('tensor', 'float32', [data.length], data, 'float32');
}

/** Plain data (as `toPlain` gives it) made writable: ndarrays become lists, Python objects are refused. */
function writable(v: unknown, path: string): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object') return v;
  if (v instanceof ArrayValue) {
    if (v.kind === 'tensor') return v;
    const data = v.data as ArrayLike<number | bigint>;
    return nestedList(v.dtype === 'bool' ? (i) => data[i] !== 0 : (i) => data[i], v.shape);
  }
  if (v instanceof Float32Array) return float32Tensor(v);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map((x, i) => writable(x, `${path}[${i}]`));
  if ('__python__' in v) {
    throw new UnsupportedError(
      `${path} holds a Python object (${String((v as { __python__: unknown }).__python__)}); only plain data can be written to a checkpoint.`,
    );
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) defineOwn(out, k, writable(x, `${path}.${k}`));
  return out;
}

/** Our data info in OpenRetina's `data_info` layout (mean activities as float32 tensors, as `compute_data_info` makes them). */
function openRetinaDataInfo(info: DataInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(info.extra ?? {})) defineOwn(out, k, writable(v, `data_info.${k}`));
  out.n_neurons_dict = { ...info.nNeuronsDict };
  const mean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(info.meanActivityDict)) defineOwn(mean, k, float32Tensor(v));
  out.mean_activity_dict = mean;
  out.input_shape = [...info.inputShape];
  out.sessions_kwargs = writable(info.sessionsKwargs ?? {}, 'data_info.sessions_kwargs');
  if (info.stimMean !== undefined) out.stim_mean = new PyFloat(info.stimMean);
  if (info.stimStd !== undefined) out.stim_std = new PyFloat(info.stimStd);
  return out;
}

/**
 * `n_neurons_dict` in the order of the readouts in the state dict: OpenRetina builds its readouts in the dict's order,
 * and a state dict in another order would load but not compare equal key by key.
 */
function neuronsInStateDictOrder(model: CoreReadout, keys: readonly string[]): Map<string, number> {
  const first = (session: string): number => {
    const at = keys.findIndex((k) => k.startsWith(`readout.${session}.`));
    return at < 0 ? keys.length : at;
  };
  const sessions = [...model.sessions].sort((a, b) => first(a) - first(b));
  return new Map(sessions.map((s) => [s, model.readout.numNeurons(s)] as const));
}

/** `UnifiedCoreReadout`'s hyper-parameters for `model` (see the module comment). */
function unifiedHyperParameters(model: CoreReadout, architecture: CoreReadoutConfig, keys: readonly string[]): Record<string, unknown> {
  const inShape = architecture.in_shape.map(Number);
  if (inShape.length !== 4) throw new ConfigError(`in_shape must be [C, T, H, W], got ${JSON.stringify(architecture.in_shape)}.`);
  const core = writable(architecture.core, 'core') as Record<string, unknown>;
  core._target_ ??= DEFAULT_CORE_TARGET;
  core._convert_ ??= 'object';
  // UnifiedCoreReadout sets core.channels by attribute, which a plain dict does not have: write the channels instead
  if (architecture.hidden_channels != null) core.channels = [inShape[0], ...architecture.hidden_channels.map(Number)];
  const readout = writable(architecture.readout, 'readout') as Record<string, unknown>;
  readout._target_ ??= DEFAULT_READOUT_TARGET;
  readout._convert_ ??= 'object';
  if (readout.in_shape == null) {
    const [t, h, w, c] = model.core.outputShape([inShape[1]!, inShape[2]!, inShape[3]!, inShape[0]!]);
    readout.in_shape = [c, t, h, w];
  }
  const stored = checkpointDataInfoOf(model);
  const dataInfo = stored ? writable(stored, 'data_info') : model.dataInfo ? openRetinaDataInfo(model.dataInfo) : null;
  return {
    in_shape: inShape,
    n_neurons_dict: neuronsInStateDictOrder(model, keys),
    core,
    readout,
    hidden_channels: null,
    learning_rate: new PyFloat(architecture.learning_rate ?? model.learningRate),
    loss: null,
    evaluation_loss: null,
    data_info: dataInfo,
    optimizer: null,
    lr_scheduler: null,
  };
}

/**
 * The bytes of a Lightning-layout OpenRetina checkpoint of `model` (see the module comment): a torch 2 zip archive
 * that `openretina.models.core_readout.load_core_readout_model(path, "cpu")` loads as a `UnifiedCoreReadout`. The
 * training and evaluation losses are not written (OpenRetina's defaults apply when it trains the loaded model).
 */
export function writeOpenRetinaCheckpoint(model: CoreReadout, options: WriteOpenRetinaCheckpointOptions = {}): Uint8Array {
  const architecture =
    options.architecture ?? architectureOf(model) ?? (model instanceof ExampleCoreReadout ? model.architecture : undefined);
  if (!architecture) {
    throw new ConfigError(
      'writeOpenRetinaCheckpoint: the model has no recorded OpenRetina architecture (it was not built from a config or checkpoint by @openretina); pass { architecture }.',
    );
  }
  const entries = [...model.stateDict()];
  const stateDict = pickleOrderedDict(entries.map(([k, t]) => [k, new ArrayValue('tensor', t.dtype, t.shape, t.data, t.dtype)] as const));
  const payload = {
    epoch: options.epoch ?? 0,
    global_step: options.globalStep ?? 0,
    'pytorch-lightning_version': LIGHTNING_LAYOUT_VERSION,
    state_dict: stateDict,
    hparams_name: 'kwargs',
    hyper_parameters: unifiedHyperParameters(
      model,
      architecture,
      entries.map(([k]) => k),
    ),
  };
  return writeTorchArchive(payload, { source: 'OpenRetina checkpoint' });
}
