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

/** What a mode means on a stream: `auto` is a bar on a TTY, lines elsewhere. */
function resolveMode(mode: ProgressMode, stream: ProgressStream | undefined): 'bar' | 'lines' | 'none' {
  return !stream || mode === 'none' ? 'none' : mode === 'auto' ? (stream.isTTY ? 'bar' : 'lines') : mode;
}

/** `[=====     ] 5/10`, or `5 batches` when the total is unknown. */
function batchBar(done: number, total: number | undefined): string {
  const width = 30;
  if (!total) return `${done} batches`;
  const filled = Math.min(width, Math.round((done / total) * width));
  return `[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total}`;
}

/** Progress of an evaluation: a split starts, a batch is predicted, the split ends. */
export interface EvaluationProgress {
  startSplit(split: string, index: number, count: number): void;
  batchEnd(): void;
  endSplit(): void;
}

/**
 * The evaluation's counterpart of {@link progressRenderer}, with the same modes: in `bar` mode a bar of the split's
 * predicted batches redrawn at most every 100 ms, then the split's line; in `lines` mode only the split lines.
 */
export function evaluationProgressRenderer(
  mode: ProgressMode = 'auto',
  stream: ProgressStream | undefined = process.stderr,
): EvaluationProgress {
  const resolved = resolveMode(mode, stream);
  let label = '';
  let done = 0;
  let started = 0;
  let lastDraw = 0;
  return {
    startSplit(split, index, count) {
      label = `Split ${index + 1}/${count} (${split})`;
      done = 0;
      started = Date.now();
      lastDraw = 0;
    },
    batchEnd() {
      done++;
      if (resolved !== 'bar') return;
      const now = Date.now();
      if (now - lastDraw < 100) return;
      lastDraw = now;
      stream!.write(`\r${label} ${batchBar(done, undefined)}\x1b[K`);
    },
    endSplit() {
      if (resolved === 'none') return;
      const line = `${label}: ${done} batches predicted (${fmt((Date.now() - started) / 1000)} s)`;
      stream!.write(resolved === 'bar' ? `\r${line}\x1b[K\n` : `${line}\n`);
    },
  };
}

/**
 * A `train()` progress handler that renders to `stream`: in `bar` mode a bar of the epoch's batches redrawn at most
 * every 100 ms (and at the last batch), then the epoch line; in `lines` mode only the epoch lines.
 */
export function progressRenderer(
  mode: ProgressMode = 'auto',
  stream: ProgressStream | undefined = process.stderr,
): (event: TrainProgress) => void {
  const resolved = resolveMode(mode, stream);
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
        stream!.write(`\rEpoch ${event.epoch + 1}/${maxEpochs} ${batchBar(done, total)} loss ${fmt(event.loss)}\x1b[K`);
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
