import { ConfigError, type StateDtype } from '@openretina/contracts';
import {
  ArrayValue,
  PyGlobal,
  PyObject,
  PyPersistentId,
  PyTuple,
  contiguousStrides,
  pickleOrderedDict,
  serializePickle,
  stateElementType,
} from '@openretina/formats';

/*
 * Writes what `torch.save(value)` of torch 2 writes: a zip (stored, every record's data 64-byte aligned) with the root
 * folder `archive/` holding `data.pkl` (a protocol-2 pickle whose tensors are `_rebuild_tensor_v2` calls on
 * persistent-id storages), `.format_version`, `.storage_alignment`, `byteorder`, the storages `data/<n>`, `version`
 * and `.data/serialization_id`. Tensors are `ArrayValue`s of kind `tensor`; everything else goes through
 * `@openretina/formats`' pickle writer (plain data only). The output is deterministic: fixed timestamps and a
 * serialization id derived from the content.
 */

const STORAGE_CLASS: Record<StateDtype, string> = {
  float32: 'FloatStorage',
  float64: 'DoubleStorage',
  int32: 'IntStorage',
  int64: 'LongStorage',
  bool: 'BoolStorage',
};

const ALIGNMENT = 64;

let crcTable: Uint32Array | undefined;
function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const utf8 = new TextEncoder();

/** A stored zip whose record data begin at multiples of {@link ALIGNMENT} (padding in the local headers' extra field, as torch's writer). */
function alignedStoredZip(records: readonly (readonly [string, Uint8Array])[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of records) {
    const fileName = utf8.encode(name);
    const pad = (ALIGNMENT - ((offset + 30 + fileName.length + 4) % ALIGNMENT)) % ALIGNMENT;
    const crc = crc32(data);
    const local = new Uint8Array(30 + fileName.length + 4 + pad);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true); // version needed
    lv.setUint16(10, 0, true); // time 00:00:00
    lv.setUint16(12, 0x21, true); // date 1980-01-01
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, data.length, true);
    lv.setUint16(26, fileName.length, true);
    lv.setUint16(28, 4 + pad, true);
    local.set(fileName, 30);
    local.set([0x46, 0x42], 30 + fileName.length); // "FB", torch's padding field
    lv.setUint16(30 + fileName.length + 2, pad, true);
    local.fill(0x5a, 30 + fileName.length + 4); // "Z"
    const entry = new Uint8Array(46 + fileName.length);
    const cv = new DataView(entry.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true); // version made by
    cv.setUint16(6, 20, true); // version needed
    cv.setUint16(14, 0x21, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, fileName.length, true);
    cv.setUint32(42, offset, true);
    entry.set(fileName, 46);
    parts.push(local, data);
    central.push(entry);
    offset += local.length + data.length;
    if (offset > 0xffffffff) throw new ConfigError('torch archive: more than 4 GiB (zip64) is not supported by this writer.');
  }
  const centralSize = central.reduce((a, c) => a + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, records.length, true);
  ev.setUint16(10, records.length, true);
  ev.setUint32(12, centralSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + centralSize + end.length);
  let at = 0;
  for (const p of [...parts, ...central, end]) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** 40 decimal digits derived from the records (torch 2 writes a per-file id there; ours is reproducible). */
function serializationId(records: readonly (readonly [string, Uint8Array])[]): string {
  let digits = '';
  let h = 0x811c9dc5;
  for (const [name, data] of records) {
    h = Math.imul(h ^ crc32(utf8.encode(name)), 0x01000193) >>> 0;
    h = Math.imul(h ^ crc32(data), 0x01000193) >>> 0;
  }
  for (let i = 0; i < 4; i++) {
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
    digits += String(h).padStart(10, '0');
  }
  return digits;
}

/** The little-endian bytes of a tensor's data in its storage element type. */
function storageBytes(value: ArrayValue): Uint8Array {
  const data = value.data as ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number };
  // state arrays are little-endian typed arrays on every platform Node and browsers run on (formats checks the host)
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}

/**
 * Serialises `value` (plain data; `ArrayValue`s of kind `tensor` as torch tensors) as a torch 2 `torch.save` zip
 * archive. Every tensor gets its own storage, written once per `ArrayValue` object.
 */
export function writeTorchArchive(value: unknown, options: { source?: string } = {}): Uint8Array {
  const storages: [string, Uint8Array][] = [];
  const tensorRecords = new Map<ArrayValue, PyObject>();
  const convert = (v: object): unknown => {
    if (!(v instanceof ArrayValue)) return undefined;
    if (v.kind !== 'tensor')
      throw new ConfigError(`${options.source ?? 'torch archive'}: numpy arrays are written as lists or tensors, not as ndarrays.`);
    const seen = tensorRecords.get(v);
    if (seen) return seen;
    const key = String(storages.length);
    const numel = v.shape.reduce((a, b) => a * b, 1);
    if (v.data.length !== numel)
      throw new ConfigError(`${options.source ?? 'torch archive'}: a tensor of shape [${v.shape.join(', ')}] has ${v.data.length} values.`);
    if (stateElementType(v.dtype).bytes * numel !== (v.data as { byteLength: number }).byteLength)
      throw new ConfigError(`${options.source ?? 'torch archive'}: the data of a ${v.dtype} tensor is not ${v.dtype}.`);
    storages.push([`data/${key}`, storageBytes(v)]);
    const storage = new PyPersistentId(new PyTuple(['storage', new PyGlobal('torch', STORAGE_CLASS[v.dtype]), key, 'cpu', numel]));
    const record = new PyObject(
      new PyGlobal('torch._utils', '_rebuild_tensor_v2'),
      [storage, 0, new PyTuple([...v.shape]), new PyTuple(contiguousStrides(v.shape)), false, pickleOrderedDict([])],
      'reduce',
    );
    tensorRecords.set(v, record);
    return record;
  };
  const pickle = serializePickle(value, { convert, source: options.source ?? 'torch archive' });
  const records: [string, Uint8Array][] = [
    ['data.pkl', pickle],
    ['.format_version', utf8.encode('1')],
    ['.storage_alignment', utf8.encode(String(ALIGNMENT))],
    ['byteorder', utf8.encode('little')],
    ...storages,
    ['version', utf8.encode('3\n')],
  ];
  records.push(['.data/serialization_id', utf8.encode(serializationId(records))]);
  return alignedStoredZip(records.map(([name, data]) => [`archive/${name}`, data] as const));
}
