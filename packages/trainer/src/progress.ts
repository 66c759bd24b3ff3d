import type { EpochRecord } from './train.js';

/** 'auto': a bar on a TTY, lines otherwise; 'bar'; 'lines' (one line per epoch); 'none'. */
export type ProgressMode = 'auto' | 'bar' | 'lines' | 'none';

interface Stream {
  write(s: string): unknown;
  isTTY?: boolean;
}

function defaultStream(): Stream | undefined {
  const p = (globalThis as { process?: { stderr?: Stream } }).process;
  return p?.stderr;
}

function fmt(x: number | undefined): string {
  if (x === undefined) return '-';
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 1000 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : x.toFixed(4);
}

/** Training progress: a per-epoch bar redrawn in place on a TTY, plain lines elsewhere (CI logs, files). */
export class ProgressReporter {
  private readonly mode: 'bar' | 'lines' | 'none';
  private readonly stream: Stream | undefined;
  private epoch = 0;
  private maxEpochs = 0;
  private total: number | undefined;
  private lastDraw = 0;

  constructor(mode: ProgressMode = 'auto', stream: Stream | undefined = defaultStream()) {
    this.stream = stream;
    if (!stream || mode === 'none') this.mode = 'none';
    else if (mode === 'auto') this.mode = stream.isTTY ? 'bar' : 'lines';
    else this.mode = mode;
  }

  epochStart(epoch: number, maxEpochs: number, total: number | undefined): void {
    this.epoch = epoch;
    this.maxEpochs = maxEpochs;
    this.total = total;
    this.lastDraw = 0;
  }

  batch(index: number, loss: number): void {
    if (this.mode !== 'bar') return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && index + 1 !== this.total) return;
    this.lastDraw = now;
    const done = index + 1;
    const width = 30;
    let bar = '';
    if (this.total) {
      const filled = Math.min(width, Math.round((done / this.total) * width));
      bar = `[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${this.total}`;
    } else {
      bar = `${done} batches`;
    }
    this.stream!.write(`\rEpoch ${this.epoch + 1}/${this.maxEpochs} ${bar} loss ${fmt(loss)}\x1b[K`);
  }

  epochEnd(r: EpochRecord): void {
    if (this.mode === 'none') return;
    const m = r.metrics;
    const line =
      `Epoch ${r.epoch + 1}/${this.maxEpochs}: train_total_loss ${fmt(m.train_total_loss)} val_loss ${fmt(m.val_loss)} ` +
      `val_evaluation_loss ${fmt(m.val_evaluation_loss)} lr ${fmt(r.lr)} (${fmt(m.epoch_seconds)} s)`;
    this.stream!.write(this.mode === 'bar' ? `\r${line}\x1b[K\n` : `${line}\n`);
  }

  done(): void {}
}
