// Training progress on the terminal: the trainer emits events (`onProgress`), the CLI draws them — a per-epoch bar
// redrawn in place on a TTY, plain lines elsewhere (CI logs, files).
import type { EpochRecord, TrainProgress } from '@openretina/trainer';

/** 'auto': a bar on a TTY, lines otherwise; 'bar'; 'lines' (one line per epoch); 'none'. */
export type ProgressMode = 'auto' | 'bar' | 'lines' | 'none';

export const PROGRESS_MODES: readonly ProgressMode[] = ['auto', 'bar', 'lines', 'none'];

/** Where progress goes: a writable text stream (process.stderr by default). */
export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
}

function fmt(x: number | undefined): string {
  if (x === undefined) return '-';
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 1000 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : x.toFixed(4);
}

/** The line printed at the end of an epoch. */
export function epochLine(r: EpochRecord, maxEpochs: number): string {
  const m = r.metrics;
  return (
    `Epoch ${r.epoch + 1}/${maxEpochs}: train_total_loss ${fmt(m.train_total_loss)} val_loss ${fmt(m.val_loss)} ` +
    `val_evaluation_loss ${fmt(m.val_evaluation_loss)} lr ${fmt(r.lr)} (${fmt(m.epoch_seconds)} s)`
  );
}

/**
 * A `train()` progress handler that renders to `stream`: in `bar` mode a bar of the epoch's batches redrawn at most
 * every 100 ms (and at the last batch), then the epoch line; in `lines` mode only the epoch lines.
 */
export function progressRenderer(
  mode: ProgressMode = 'auto',
  stream: ProgressStream | undefined = process.stderr,
): (event: TrainProgress) => void {
  const resolved = !stream || mode === 'none' ? 'none' : mode === 'auto' ? (stream.isTTY ? 'bar' : 'lines') : mode;
  let maxEpochs = 0;
  let total: number | undefined;
  let lastDraw = 0;
  return (event) => {
    if (resolved === 'none') return;
    switch (event.type) {
      case 'epochStart':
        maxEpochs = event.maxEpochs;
        total = event.stepsPerEpoch;
        lastDraw = 0;
        return;
      case 'batchEnd': {
        if (resolved !== 'bar') return;
        const now = Date.now();
        const done = event.batch + 1;
        if (now - lastDraw < 100 && done !== total) return;
        lastDraw = now;
        const width = 30;
        let bar = `${done} batches`;
        if (total) {
          const filled = Math.min(width, Math.round((done / total) * width));
          bar = `[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total}`;
        }
        stream!.write(`\rEpoch ${event.epoch + 1}/${maxEpochs} ${bar} loss ${fmt(event.loss)}\x1b[K`);
        return;
      }
      case 'epochEnd': {
        const line = epochLine(event.record, event.maxEpochs);
        stream!.write(resolved === 'bar' ? `\r${line}\x1b[K\n` : `${line}\n`);
        return;
      }
      case 'done':
        return;
    }
  };
}
