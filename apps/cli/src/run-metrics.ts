// metrics.csv of a run, rewritten whole and atomically after every epoch, so a killed run never leaves half a line.
import type { EpochRecord, TrainLogger } from '@openretina/trainer';
import { writeCsvReport } from '@openretina/trainer/node';

/** Lightning's CSVLogger layout (epoch, step, lr, then every metric in first-seen order), atomic; a resumed run starts from its history. */
export class RunMetricsCsv implements TrainLogger {
  private readonly rows: Record<string, unknown>[] = [];
  private readonly columns: string[] = [];

  constructor(
    readonly path: string,
    history: readonly EpochRecord[] = [],
  ) {
    for (const r of history) this.add(r);
    if (history.length) this.write();
  }

  private add(record: EpochRecord): void {
    const row: Record<string, unknown> = { epoch: record.epoch, step: record.step, lr: record.lr, ...record.metrics };
    for (const k of Object.keys(row)) if (!this.columns.includes(k)) this.columns.push(k);
    this.rows.push(row);
  }

  private write(): void {
    writeCsvReport(
      this.path,
      this.rows.map((r) => Object.fromEntries(this.columns.map((c) => [c, r[c]]))),
      { index: false },
    );
  }

  log(record: EpochRecord): void {
    this.add(record);
    this.write();
  }
}
