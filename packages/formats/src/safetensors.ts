import { FileFormatError, type StateDict, type StateTensor } from '@openretina/contracts';
import { HOST_LITTLE_ENDIAN, decodeElements, safetensorsElementType, stateElementType, swapByteOrder, toStateArray } from './dtypes.js';

/**
 * Parses a safetensors file (8-byte little-endian header length, JSON header, raw little-endian data) into a
 * state dict, in the header's order. Element types without a state-dict dtype are widened as everywhere here
 * (`F16`/`BF16` → float32, `I8`/`I16`/`U8`/`U16` → int32, `U32`/`U64` → int64). Truncated or inconsistent files throw
 * a `FileFormatError`.
 */
export function readSafetensors(bytes: Uint8Array, source = 'safetensors data'): { tensors: StateDict; metadata: Record<string, string> } {
  if (bytes.byteLength < 8) throw new FileFormatError(`${source}: too short for a safetensors file (${bytes.byteLength} bytes).`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen <= 0 || 8 + headerLen > bytes.byteLength) {
    throw new FileFormatError(
      `${source}: header length ${headerLen} exceeds the file size ${bytes.byteLength} (truncated or not safetensors).`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<string, unknown>;
  } catch (cause) {
    throw new FileFormatError(`${source}: the header is not valid JSON (not a safetensors file?).`, { cause });
  }
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const tensors: StateDict = new Map();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const info = raw as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    const type = info.dtype ? safetensorsElementType(info.dtype) : undefined;
    if (!type) throw new FileFormatError(`${source}: tensor "${name}" has unsupported dtype ${String(info.dtype)}.`);
    const shape = info.shape ?? [];
    const [begin, end] = info.data_offsets ?? [NaN, NaN];
    const numel = shape.reduce((a, b) => a * b, 1);
    // two different faults: a header that disagrees with itself (an edited file), and data cut short (a truncated one)
    if (!(begin >= 0 && end >= begin) || end - begin !== numel * type.bytes) {
      throw new FileFormatError(
        `${source}: tensor "${name}" ${JSON.stringify(shape)} ${info.dtype} needs ${numel * type.bytes} bytes, but its header gives offsets [${begin}, ${end}] (${end - begin} bytes): the header's shape, dtype and offsets disagree.`,
      );
    }
    if (end > dataLen) {
      throw new FileFormatError(
        `${source}: tensor "${name}" ends at data byte ${end}, but the file holds ${dataLen} data bytes: the file is truncated.`,
      );
    }
    const { dtype, data } = toStateArray(decodeElements(bytes.subarray(dataStart + begin, dataStart + end), type, numel), type);
    tensors.set(name, { shape, dtype, data });
  }
  return { tensors, metadata };
}

/** Serialises tensors (in map order) and string metadata to safetensors bytes. */
export function writeSafetensors(tensors: ReadonlyMap<string, StateTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, t] of tensors) {
    const type = stateElementType(t.dtype);
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    // safetensors is little-endian; swap on a big-endian machine
    const le = HOST_LITTLE_ENDIAN || type.bytes === 1 ? bytes : swapByteOrder(bytes.slice(), type.bytes);
    header[name] = { dtype: type.safetensors, shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(le);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned.
  const pad = (8 - ((new TextEncoder().encode(json).byteLength + 8) % 8)) % 8;
  json += ' '.repeat(pad);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.byteLength;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.byteLength;
  }
  return out;
}
