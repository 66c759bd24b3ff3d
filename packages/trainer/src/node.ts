// Node-only helpers of @openretina/trainer (file output). Import from '@openretina/trainer/node'.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomicSync } from '@openretina/formats/node';
import { toCsv, toJson, type NeuronResult } from './evaluation.js';
import type { EpochRecord, TrainLogger } from './train-types.js';

/** Per-neuron results as CSV (atomic). */
export function writeCsvReport(
  path: string,
  rows: readonly (NeuronResult | Record<string, unknown>)[],
  options: { index?: boolean } = {},
): void {
  writeFileAtomicSync(path, toCsv(rows, options));
}

/** Any JSON-able value (NaN/Infinity → null), atomic. */
export function writeJsonReport(path: string, value: unknown): void {
  writeFileAtomicSync(path, toJson(value));
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
      writeFileAtomicSync(
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

export { TensorBoardLogger } from './tensorboard-logger.js';
