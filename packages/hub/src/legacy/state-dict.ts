import { FileFormatError, type StateDict } from '@openretina/contracts';
import { ArrayValue, PyDict, PyObject, type ReadPickleOptions } from '@openretina/formats';
import { readTorchArchive } from '../torch-archive.js';

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
