// Node-only helpers of @openretina/trainer (file output). Import from '@openretina/trainer/node'.
import { appendFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { toCsv, toJson, type NeuronResult } from './evaluation.js';
import type { EpochRecord, TrainLogger } from './train-types.js';

/** Writes a file atomically: a temporary file in the same folder, then a rename (readers never see half a file). */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Per-neuron results as CSV (atomic). */
export function writeCsvReport(
  path: string,
  rows: readonly (NeuronResult | Record<string, unknown>)[],
  options: { index?: boolean } = {},
): void {
  writeFileAtomic(path, toCsv(rows, options));
}

/** Any JSON-able value (NaN/Infinity → null), atomic. */
export function writeJsonReport(path: string, value: unknown): void {
  writeFileAtomic(path, toJson(value));
}

/**
 * The per-run CSV log (one row per epoch: epoch, step, lr and every logged metric), like Lightning's CSVLogger
 * `metrics.csv`. The header is fixed by the first row; later keys are appended as extra columns by rewriting the file.
 */
export class CsvLogger implements TrainLogger {
  readonly path: string;
  private columns: string[] = [];
  private readonly rows: Record<string, unknown>[] = [];

  constructor(path: string) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true });
  }

  log(record: EpochRecord): void {
    const row: Record<string, unknown> = { epoch: record.epoch, step: record.step, lr: record.lr, ...record.metrics };
    this.rows.push(row);
    const newCols = Object.keys(row).filter((k) => !this.columns.includes(k));
    if (newCols.length || this.rows.length === 1) {
      this.columns.push(...newCols);
      writeFileAtomic(
        this.path,
        toCsv(
          this.rows.map((r) => Object.fromEntries(this.columns.map((c) => [c, r[c]]))),
          { index: false },
        ),
      );
    } else {
      const line = toCsv([Object.fromEntries(this.columns.map((c) => [c, row[c]]))], { index: false }).split('\n')[1]!;
      appendFileSync(this.path, `${line}\n`);
    }
  }
}
