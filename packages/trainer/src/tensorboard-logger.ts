// TensorBoard's event-file format, written without TensorFlow: a TFRecord file of `Event` protocol buffers
// (wall_time, step, and a Summary of scalar values), one event per epoch.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { EpochRecord, TrainLogger } from './train-types.js';

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli), as TFRecord checksums use. */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC32C_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC. */
function maskedCrc(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

/** Protocol-buffer varint. */
function varint(value: number | bigint): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

const tag = (field: number, wire: number) => varint((field << 3) | wire);
function bytesField(field: number, data: Uint8Array): number[] {
  return [...tag(field, 2), ...varint(data.length), ...data];
}
function doubleField(field: number, value: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, value, true);
  return [...tag(field, 1), ...b];
}
function floatField(field: number, value: number): number[] {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, value, true);
  return [...tag(field, 5), ...b];
}

/** An `Event`: wall_time (1), step (2), and file_version (3) or summary (5) of `Summary.Value{tag (1), simple_value (2)}`. */
export function encodeEvent(
  wallTime: number,
  step: number,
  content: { fileVersion: string } | { scalars: Record<string, number> },
): Uint8Array {
  const fields = [...doubleField(1, wallTime), ...tag(2, 0), ...varint(step)];
  if ('fileVersion' in content) fields.push(...bytesField(3, new TextEncoder().encode(content.fileVersion)));
  else {
    const values = Object.entries(content.scalars).flatMap(([name, v]) =>
      bytesField(1, new Uint8Array([...bytesField(1, new TextEncoder().encode(name)), ...floatField(2, v)])),
    );
    fields.push(...bytesField(5, new Uint8Array(values)));
  }
  return new Uint8Array(fields);
}

/** One TFRecord: length, masked CRC of the length, data, masked CRC of the data. */
export function tfRecord(data: Uint8Array): Uint8Array {
  const head = new Uint8Array(8);
  new DataView(head.buffer).setBigUint64(0, BigInt(data.length), true);
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const view = new DataView(out.buffer);
  out.set(head, 0);
  view.setUint32(8, maskedCrc(head), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc(data), true);
  return out;
}

/**
 * Lightning's TensorBoardLogger: an `events.out.tfevents.*` file in `dir` with the learning rate and every finite
 * metric of each epoch as scalars (the step is the global optimizer step, as Lightning logs it).
 */
export class TensorBoardLogger implements TrainLogger {
  readonly path: string;

  constructor(dir: string, now: Date = new Date()) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, `events.out.tfevents.${Math.floor(now.getTime() / 1000)}.${hostname()}.${process.pid}.0`);
    writeFileSync(this.path, tfRecord(encodeEvent(now.getTime() / 1000, 0, { fileVersion: 'brain.Event:2' })));
  }

  log(record: EpochRecord): void {
    const scalars: Record<string, number> = { epoch: record.epoch };
    if (Number.isFinite(record.lr)) scalars.lr = record.lr;
    for (const [k, v] of Object.entries(record.metrics)) if (typeof v === 'number' && Number.isFinite(v)) scalars[k] = v;
    appendFileSync(this.path, tfRecord(encodeEvent(Date.now() / 1000, record.step, { scalars })));
  }
}
