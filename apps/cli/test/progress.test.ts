// The CLI draws the trainer's progress events: plain epoch lines off a TTY, a bar redrawn in place on a TTY.
import { describe, expect, it } from 'vitest';
import type { EpochRecord, TrainProgress } from '@openretina/trainer';
import { evaluationProgressRenderer, progressRenderer } from '../src/progress.js';

function record(epoch: number): EpochRecord {
  return {
    epoch,
    step: 6 * (epoch + 1),
    lr: 0.01,
    metrics: { train_total_loss: 12.5, train_loss: 12, val_loss: 0.25, val_evaluation_loss: 0.4321, epoch_seconds: 1.5 },
  };
}

/** Two epochs of six batches, as train() emits them. */
function events(): TrainProgress[] {
  const out: TrainProgress[] = [];
  for (let epoch = 0; epoch < 2; epoch++) {
    out.push({ type: 'epochStart', epoch, maxEpochs: 2, stepsPerEpoch: 6 });
    for (let batch = 0; batch < 6; batch++) out.push({ type: 'batchEnd', epoch, batch, session: 's1', loss: 10 - batch });
    out.push({ type: 'epochEnd', record: record(epoch), maxEpochs: 2 });
  }
  out.push({ type: 'done', epochsRun: 2, stopReason: null });
  return out;
}

function render(mode: 'auto' | 'bar' | 'lines' | 'none', isTTY: boolean): string[] {
  const written: string[] = [];
  const onProgress = progressRenderer(mode, { write: (s: string) => written.push(s), isTTY });
  for (const e of events()) onProgress(e);
  return written;
}

describe('progress rendering', () => {
  it('auto off a TTY: one plain line per epoch', () => {
    const lines = render('auto', false);
    expect(lines).toEqual([
      'Epoch 1/2: train_total_loss 12.5000 val_loss 0.2500 val_evaluation_loss 0.4321 lr 0.0100 (1.5000 s)\n',
      'Epoch 2/2: train_total_loss 12.5000 val_loss 0.2500 val_evaluation_loss 0.4321 lr 0.0100 (1.5000 s)\n',
    ]);
  });

  it('auto on a TTY: a bar per epoch (always drawn at the last batch), then the epoch line over it', () => {
    const out = render('auto', true);
    expect(out.some((s) => s.startsWith('\rEpoch 1/2 [') && s.includes('6/6') && s.includes('loss 5.0000'))).toBe(true);
    expect(out.filter((s) => s.endsWith('\n'))).toHaveLength(2);
    const line = out.find((s) => s.endsWith('\n'))!;
    expect(line.startsWith('\rEpoch 1/2: train_total_loss ')).toBe(true);
    expect(line.endsWith('val_evaluation_loss 0.4321 lr 0.0100 (1.5000 s)\x1b[K\n')).toBe(true);
  });

  it('none (or no stream): nothing', () => {
    expect(render('none', true)).toEqual([]);
    const onProgress = progressRenderer('lines', undefined);
    expect(() => events().forEach(onProgress)).not.toThrow();
  });
});

describe('evaluation progress (eval --progress: the same modes)', () => {
  function evaluate(mode: 'auto' | 'bar' | 'lines' | 'none', isTTY: boolean): string[] {
    const written: string[] = [];
    const progress = evaluationProgressRenderer(mode, { write: (s: string) => written.push(s), isTTY });
    for (const [i, split] of ['test_a', 'test_b'].entries()) {
      progress.startSplit(split, i, 2);
      for (let b = 0; b < 3; b++) progress.batchEnd();
      progress.endSplit();
    }
    return written.map((w) => w.replace(/\([\d.]+ s\)/, '(T s)'));
  }

  it('lines (and auto off a TTY): one line per split', () => {
    const lines = ['Split 1/2 (test_a): 3 batches predicted (T s)\n', 'Split 2/2 (test_b): 3 batches predicted (T s)\n'];
    expect(evaluate('lines', true)).toEqual(lines);
    expect(evaluate('auto', false)).toEqual(lines);
  });

  it('bar (and auto on a TTY): the count redrawn in place, then the split line; none: nothing', () => {
    const bar = evaluate('auto', true);
    expect(bar[0]).toBe('\rSplit 1/2 (test_a) 1 batches\x1b[K');
    expect(bar.filter((w) => w.endsWith('\n'))).toEqual([
      '\rSplit 1/2 (test_a): 3 batches predicted (T s)\x1b[K\n',
      '\rSplit 2/2 (test_b): 3 batches predicted (T s)\x1b[K\n',
    ]);
    expect(evaluate('none', true)).toEqual([]);
  });
});
