import { FileFormatError, UnsupportedError } from '@openretina/contracts';
import {
  ArrayValue,
  type ElementType,
  PyGlobal,
  PyTuple,
  type ReadLimits,
  type ReadPickleOptions,
  type Recogniser,
  arrayValueFromStrided,
  dataBuildHandler,
  dataRecognisers,
  finishNdarrays,
  isKnownInertGlobal,
  pickledIntTuple,
  torchStorageElementType,
  unpickle,
} from '@openretina/formats';
import { unzipSync } from 'fflate';

/** A storage of a torch archive (`<root>/data/<key>`), typed by its storage class. */
class TorchStorage {
  constructor(
    readonly type: ElementType,
    readonly key: string,
    readonly bytes: Uint8Array,
  ) {}
  get numel(): number {
    return Math.floor(this.bytes.byteLength / this.type.bytes);
  }
}

function rebuildTensor(args: readonly unknown[], limits: ReadLimits): ArrayValue {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof TorchStorage))
    throw new FileFormatError('_rebuild_tensor_v2: the first argument is not a storage of this archive.');
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
    throw new FileFormatError(`tensor storage offset ${String(offset)} is invalid.`);
  const view = { offset, shape: pickledIntTuple(size, 'tensor size'), strides: pickledIntTuple(stride, 'tensor stride') };
  return arrayValueFromStrided('tensor', storage.bytes, storage.type, storage.numel, view, limits, `tensor in storage ${storage.key}`);
}

/** The data recognisers plus torch's tensor, parameter and device reconstructors (pure functions building data values). */
function torchRecognisers(limits: ReadLimits): Map<string, Recogniser> {
  const r = dataRecognisers();
  const tensor: Recogniser = (args) => rebuildTensor(args, limits);
  r.set('torch._utils._rebuild_tensor_v2', tensor);
  r.set('torch._utils._rebuild_tensor', tensor);
  const parameter: Recogniser = (args) => {
    if (!(args[0] instanceof ArrayValue)) throw new FileFormatError('_rebuild_parameter: the data is not a tensor.');
    return args[0];
  };
  r.set('torch._utils._rebuild_parameter', parameter);
  r.set('torch._utils._rebuild_parameter_with_state', parameter);
  r.set('torch.device', (args) => args.map(String).join(':'));
  return r;
}

/**
 * Reads a torch zip archive (`torch.save` ≥ 1.6, Lightning `.ckpt`): finds `<root>/data.pkl`, parses it with
 * `@openretina/formats`' safe pickle reader, storages resolved from `<root>/data/<key>`, tensors materialised
 * (strides and offsets honoured and checked). Returns inert values: `PyDict`s, `ArrayValue`s, omegaconf nodes as
 * `PyObject`s (`toPlain` turns them into plain data).
 */
export function readTorchArchive(bytes: Uint8Array, options: ReadPickleOptions = {}): unknown {
  const source = options.source ?? 'torch archive';
  if (bytes.byteLength >= 2 && bytes[0] === 0x80 && bytes[1]! <= 5) {
    throw new UnsupportedError(
      `${source}: this is a legacy (pre-zip, torch < 1.6) torch file or a plain pickle; re-save it with a current torch.save, or read plain pickles with readPickle.`,
    );
  }
  if (!(bytes.byteLength >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b)) {
    throw new FileFormatError(
      `${source}: not a zip archive (a torch .pt/.ckpt file starts with "PK"); the file may be truncated or of another format.`,
    );
  }
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (cause) {
    throw new FileFormatError(`${source}: the zip archive is corrupt or truncated (${(cause as Error).message}).`, { cause });
  }
  const pkls = Object.keys(files).filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length !== 1) {
    throw new FileFormatError(
      `${source}: expected exactly one <root>/data.pkl in the archive, found ${pkls.length} (${Object.keys(files).slice(0, 5).join(', ')}).`,
    );
  }
  const root = pkls[0]!.slice(0, -'/data.pkl'.length);
  const byteorder = files[`${root}/byteorder`];
  if (byteorder && new TextDecoder().decode(byteorder).trim() === 'big') {
    throw new UnsupportedError(`${source}: big-endian torch archives are not supported.`);
  }
  const persistentLoad = (pid: unknown): unknown => {
    const items = pid instanceof PyTuple ? pid.items : [];
    if (items[0] !== 'storage') throw new FileFormatError(`${source}: unknown persistent id ${JSON.stringify(String(items[0]))}.`);
    const [, cls, key] = items;
    const type = cls instanceof PyGlobal && cls.module.startsWith('torch') ? torchStorageElementType(cls.name) : undefined;
    if (!type) throw new UnsupportedError(`${source}: storage type ${cls instanceof PyGlobal ? cls.path : String(cls)} is not supported.`);
    if (typeof key !== 'string' || !/^[\w.-]+$/.test(key))
      throw new FileFormatError(`${source}: invalid storage key ${JSON.stringify(String(key))}.`);
    const data = files[`${root}/data/${key}`];
    if (!data) throw new FileFormatError(`${source}: storage ${root}/data/${key} is missing from the archive (truncated?).`);
    return new TorchStorage(type, key, data);
  };
  const value = unpickle(files[pkls[0]!]!, {
    recognisers: torchRecognisers(options),
    build: dataBuildHandler(options),
    persistentLoad,
    source: `${source} (${pkls[0]})`,
    unknownGlobals: options.unknownGlobals ?? 'inert',
    allowInert: (g) => isKnownInertGlobal(g) || /^torch\.\w+Storage$/.test(g.path),
  });
  return finishNdarrays(value);
}
