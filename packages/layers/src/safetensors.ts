import { FileFormatError } from '@openretina/contracts';
import type { StateArray, StateDict, StateDtype, StateTensor } from '@openretina/contracts';

const DTYPES: Record<string, { dtype: StateDtype; bytes: number }> = {
  F32: { dtype: 'float32', bytes: 4 },
  F64: { dtype: 'float64', bytes: 8 },
  I32: { dtype: 'int32', bytes: 4 },
  I64: { dtype: 'int64', bytes: 8 },
  BOOL: { dtype: 'bool', bytes: 1 },
};
const CODES: Record<StateDtype, string> = { float32: 'F32', float64: 'F64', int32: 'I32', int64: 'I64', bool: 'BOOL' };

/**
 * Parses a safetensors file (8-byte little-endian header length, JSON header, raw little-endian data) into a
 * state dict, in the header's order. Truncated or inconsistent files throw a `FileFormatError`.
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
    const spec = info.dtype ? DTYPES[info.dtype] : undefined;
    if (!spec) throw new FileFormatError(`${source}: tensor "${name}" has unsupported dtype ${String(info.dtype)}.`);
    const shape = info.shape ?? [];
    const [begin, end] = info.data_offsets ?? [NaN, NaN];
    const numel = shape.reduce((a, b) => a * b, 1);
    if (!(begin >= 0 && end >= begin && end <= dataLen) || end - begin !== numel * spec.bytes) {
      throw new FileFormatError(
        `${source}: tensor "${name}" ${JSON.stringify(shape)} ${info.dtype} has offsets [${begin}, ${end}] that do not fit ${dataLen} data bytes (truncated?).`,
      );
    }
    // An aligned private copy (Uint8Array.prototype.slice copies even for Node Buffers, whose own slice is a view).
    const copy = Uint8Array.prototype.slice.call(bytes, dataStart + begin, dataStart + end);
    tensors.set(name, { shape, dtype: spec.dtype, data: typedView(spec.dtype, copy.buffer) });
  }
  return { tensors, metadata };
}

function typedView(dtype: StateDtype, buffer: ArrayBuffer): StateArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer);
    case 'float64':
      return new Float64Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'int64':
      return new BigInt64Array(buffer);
    case 'bool':
      return new Uint8Array(buffer);
  }
}

/** Serialises tensors (in map order) and string metadata to safetensors bytes. */
export function writeSafetensors(tensors: ReadonlyMap<string, StateTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, t] of tensors) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: CODES[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
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
