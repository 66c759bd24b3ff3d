import { ConfigError } from '@openretina/contracts';
import { Pcg64 } from '../../random/pcg64.js';

/**
 * OpenRetina's `ChunkedSampler` for the white-noise dataset: the sample indices `0..length-1` are cut into chunks of
 * `chunkSize` (the samples of one trial); every epoch each chunk is shuffled in place, then the chunk order is
 * shuffled, so a trial file is read once per epoch. As in OpenRetina the in-chunk shuffles act on a persistent index
 * array (epoch k+1 shuffles epoch k's order) and the stream is `np.random.default_rng(seed)` (default 8 as OpenRetina
 * hard-codes it); {@link Pcg64} reproduces numpy's draws, so the epoch orders equal OpenRetina's exactly.
 */
export class ChunkedSampler {
  readonly length: number;
  readonly chunkSize: number;
  private readonly indices: number[];
  private readonly rng: Pcg64;

  constructor(length: number, chunkSize: number, seed = 8) {
    if (!Number.isInteger(length) || length < 0)
      throw new ConfigError(`ChunkedSampler: length must be a non-negative integer, got ${length}.`);
    if (!Number.isInteger(chunkSize) || chunkSize < 1)
      throw new ConfigError(`ChunkedSampler: chunkSize must be a positive integer, got ${chunkSize}.`);
    this.length = length;
    this.chunkSize = chunkSize;
    this.indices = Array.from({ length }, (_, i) => i);
    this.rng = new Pcg64(seed);
  }

  /** The sample order of the next epoch. */
  epochIndices(): number[] {
    const numChunks = Math.ceil(this.length / this.chunkSize);
    const chunks: number[][] = [];
    for (let c = 0; c < numChunks; c++) {
      const lo = c * this.chunkSize;
      const part = this.indices.slice(lo, lo + this.chunkSize);
      this.rng.shuffle(part);
      for (let k = 0; k < part.length; k++) this.indices[lo + k] = part[k]!;
      chunks.push(part);
    }
    this.rng.shuffle(chunks);
    return chunks.flat();
  }
}
