import { ShapeError } from '@openretina/contracts';

/**
 * A sequence of equally sized frames stored as one or more contiguous segments of existing arrays (views, no copy).
 * Movies `[T, H, W, C]` and responses `[T, N]` are both time-major, so a clip is a contiguous sub-array and a train
 * movie with validation clips cut out is just a list of views into the original movie.
 */
export class FrameSequence {
  readonly frames: number;
  readonly frameSize: number;
  private readonly segments: Float32Array[];
  private readonly segmentStarts: number[];

  constructor(segments: readonly Float32Array[], frameSize: number) {
    if (!Number.isInteger(frameSize) || frameSize <= 0) throw new ShapeError(`Frame size must be a positive integer, got ${frameSize}.`);
    this.frameSize = frameSize;
    this.segments = [];
    this.segmentStarts = [];
    let frames = 0;
    for (const s of segments) {
      if (s.length % frameSize !== 0) {
        throw new ShapeError(`A segment of ${s.length} values is not a whole number of frames of ${frameSize} values.`);
      }
      if (s.length === 0) continue;
      this.segments.push(s);
      this.segmentStarts.push(frames);
      frames += s.length / frameSize;
    }
    this.frames = frames;
  }

  /** One segment covering a whole array. */
  static of(data: Float32Array, frameSize: number): FrameSequence {
    return new FrameSequence([data], frameSize);
  }

  /** Views of whole clips `clipIndices` (in that order) of `data`, each `clipLength` frames long. */
  static fromClips(data: Float32Array, frameSize: number, clipLength: number, clipIndices: readonly number[]): FrameSequence {
    const span = clipLength * frameSize;
    return new FrameSequence(
      clipIndices.map((i) => data.subarray(i * span, (i + 1) * span)),
      frameSize,
    );
  }

  /** The first `frames` frames (views). */
  head(frames: number): FrameSequence {
    if (frames > this.frames) throw new ShapeError(`Cannot take ${frames} frames of a sequence of ${this.frames}.`);
    const out: Float32Array[] = [];
    let left = frames * this.frameSize;
    for (const s of this.segments) {
      if (left <= 0) break;
      const take = Math.min(left, s.length);
      out.push(s.subarray(0, take));
      left -= take;
    }
    return new FrameSequence(out, this.frameSize);
  }

  private segmentOf(frame: number): number {
    // binary search for the last segment start <= frame
    let lo = 0;
    let hi = this.segmentStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segmentStarts[mid]! <= frame) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Copies frames `[start, start + count)` into `dst` at `dstOffset` (in values). */
  copyFrames(start: number, count: number, dst: Float32Array, dstOffset = 0): void {
    if (start < 0 || count < 0 || start + count > this.frames) {
      throw new ShapeError(`Frames [${start}, ${start + count}) are outside a sequence of ${this.frames} frames.`);
    }
    let frame = start;
    let remaining = count;
    let out = dstOffset;
    let seg = this.segmentOf(frame);
    while (remaining > 0) {
      const s = this.segments[seg]!;
      const local = frame - this.segmentStarts[seg]!;
      const segFrames = s.length / this.frameSize;
      const n = Math.min(remaining, segFrames - local);
      dst.set(s.subarray(local * this.frameSize, (local + n) * this.frameSize), out);
      out += n * this.frameSize;
      frame += n;
      remaining -= n;
      seg++;
    }
  }

  /** A contiguous copy of all frames. */
  toArray(): Float32Array {
    const out = new Float32Array(this.frames * this.frameSize);
    this.copyFrames(0, this.frames, out, 0);
    return out;
  }

  /** Calls `fn` on each contiguous segment. */
  forEachSegment(fn: (segment: Float32Array) => void): void {
    for (const s of this.segments) fn(s);
  }

  /** True when any value is NaN. */
  hasNaN(): boolean {
    for (const s of this.segments) for (let i = 0; i < s.length; i++) if (Number.isNaN(s[i])) return true;
    return false;
  }

  /** Mean over frames of each of the `frameSize` values (e.g. the mean response per neuron). */
  meanPerValue(): Float32Array {
    const sums = new Float64Array(this.frameSize);
    for (const s of this.segments) {
      for (let i = 0; i < s.length; i += this.frameSize) for (let j = 0; j < this.frameSize; j++) sums[j]! += s[i + j]!;
    }
    return Float32Array.from(sums, (v) => v / this.frames);
  }
}
