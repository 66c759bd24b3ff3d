import { basename } from 'node:path';
import type { DownloadProgress } from '@openretina/data-io/node';

/**
 * How the CLI shows download progress: a bar redrawn in place, a line every 10 %, or nothing; `auto` is the bar on
 * a terminal and nothing otherwise (logs stay clean).
 */
export type DownloadProgressDisplay = 'auto' | 'bar' | 'lines' | 'none';

/** Where progress is drawn (process.stderr, or a fake in tests). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

/**
 * An `onProgress` callback for `@openretina/data-io`'s downloads (and hub's, which go through them) that renders
 * them on `stream`: the libraries print nothing, the CLI decides what a person sees.
 */
export function downloadProgressRenderer(
  display: DownloadProgressDisplay = 'auto',
  stream: ProgressStream = process.stderr,
  clock: () => number = Date.now,
): (progress: DownloadProgress) => void {
  const mode = display === 'auto' ? (stream.isTTY === true ? 'bar' : 'none') : display;
  let lastPercent = -1;
  let lastDraw = Number.NEGATIVE_INFINITY;
  let drawn = false;
  return (p) => {
    if (mode === 'none') return;
    const label = basename(p.path);
    const percent = p.total ? Math.floor((100 * p.received) / p.total) : undefined;
    switch (p.phase) {
      case 'start':
        lastPercent = -1;
        lastDraw = Number.NEGATIVE_INFINITY;
        drawn = false;
        return;
      case 'retry':
        if (drawn && mode === 'bar') stream.write('\n');
        drawn = false;
        stream.write(`${label}: retrying (attempt ${p.attempt + 1}), resuming at ${mb(p.received)} MB\n`);
        return;
      case 'done':
        if (drawn && mode === 'bar') stream.write('\n');
        drawn = false;
        return;
      case 'data':
        break;
    }
    if (mode === 'bar') {
      const now = clock();
      if (now - lastDraw < 100 && percent !== 100) return; // at most 10 redraws a second
      lastDraw = now;
      const width = 30;
      const filled = percent === undefined ? 0 : Math.round((percent / 100) * width);
      const bar = percent === undefined ? '' : `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${String(percent).padStart(3)}% `;
      stream.write(`\r${label} ${bar}${mb(p.received)}${p.total ? `/${mb(p.total)}` : ''} MB`);
      drawn = true;
    } else if (percent !== undefined && percent >= lastPercent + 10) {
      lastPercent = percent - (percent % 10);
      stream.write(`${label}: ${lastPercent}% (${mb(p.received)}/${mb(p.total!)} MB)\n`);
    }
  };
}

/** Download options for the library calls of a CLI command: progress on stderr as {@link downloadProgressRenderer} draws it. */
export function cliDownloadOptions(display: DownloadProgressDisplay = 'auto'): { onProgress: (progress: DownloadProgress) => void } {
  return { onProgress: downloadProgressRenderer(display) };
}

/** Parses a `--progress` value for downloads. */
export function isDownloadProgressDisplay(value: string): value is DownloadProgressDisplay {
  return value === 'auto' || value === 'bar' || value === 'lines' || value === 'none';
}
