import type { FrameReader } from '@openretina/contracts';
import { ShapeError } from '@openretina/contracts';

/** Frames `[start, start + frames)` of a {@link FrameReader}: a segment of a {@link FrameSequence} read on demand. */
export interface FrameRange {
  readonly reader: FrameReader;
  readonly start: number;
  readonly frames: number;
}

/** Frames per block when a whole lazy sequence is scanned (NaN checks, means): bounded memory whatever its length. */
const SCAN_BLOCK_VALUES = 1 << 20;

/** One segment: a view of an array in memory, or a range of a reader. */
type Segment = { kind: 'array'; data: Float32Array; frames: number } | { kind: 'range'; range: FrameRange; frames: number };

/**
 * A sequence of equally sized frames stored as one or more contiguous segments of existing arrays (views, no copy)
 * or of ranges of {@link FrameReader}s (read on demand, never held). Movies `[T, H, W, C]` and responses `[T, N]` are
 * both time-major, so a clip is a contiguous sub-array and a train movie with validation clips cut out is just a
 * list of views into the original movie (or of frame ranges of its reader).
 */
export class FrameSequence {
  readonly frames: number;
  readonly frameSize: number;
  private readonly segments: Segment[];
  private readonly segmentStarts: number[];

  constructor(segments: readonly (Float32Array | FrameRange)[], frameSize: number) {
    if (!Number.isInteger(frameSize) || frameSize <= 0) throw new ShapeError(`Frame size must be a positive integer, got ${frameSize}.`);
    this.frameSize = frameSize;
    this.segments = [];
    this.segmentStarts = [];
    let frames = 0;
    for (const s of segments) {
      let seg: Segment;
      if (s instanceof Float32Array) {
        if (s.length % frameSize !== 0) {
          throw new ShapeError(`A segment of ${s.length} values is not a whole number of frames of ${frameSize} values.`);
        }
        seg = { kind: 'array', data: s, frames: s.length / frameSize };
      } else {
        if (s.reader.frameSize !== frameSize) {
          throw new ShapeError(
            `A frame reader with frames of ${s.reader.frameSize} values in a sequence of frames of ${frameSize} values.`,
          );
        }
        if (
          !Number.isInteger(s.start) ||
          !Number.isInteger(s.frames) ||
          s.start < 0 ||
          s.frames < 0 ||
          s.start + s.frames > s.reader.frames
        ) {
          throw new ShapeError(`Frames [${s.start}, ${s.start + s.frames}) are outside a reader of ${s.reader.frames} frames.`);
        }
        seg = { kind: 'range', range: s, frames: s.frames };
      }
      if (seg.frames === 0) continue;
      this.segments.push(seg);
      this.segmentStarts.push(frames);
      frames += seg.frames;
    }
    this.frames = frames;
  }

  /** One segment covering a whole array. */
  static of(data: Float32Array, frameSize: number): FrameSequence {
    return new FrameSequence([data], frameSize);
  }

  /** All frames of a reader, read on demand. */
  static ofReader(reader: FrameReader): FrameSequence {
    return new FrameSequence([{ reader, start: 0, frames: reader.frames }], reader.frameSize);
  }

  /**
   * Whole clips `clipIndices` (in that order), each `clipLength` frames long: views of `data`, or frame ranges of a
   * reader (read on demand).
   */
  static fromClips(data: Float32Array | FrameReader, frameSize: number, clipLength: number, clipIndices: readonly number[]): FrameSequence {
    if (data instanceof Float32Array) {
      const span = clipLength * frameSize;
      return new FrameSequence(
        clipIndices.map((i) => data.subarray(i * span, (i + 1) * span)),
        frameSize,
      );
    }
    return new FrameSequence(
      clipIndices.map((i) => ({ reader: data, start: i * clipLength, frames: clipLength })),
      frameSize,
    );
  }

  /** True when some frames are read on demand rather than held in memory. */
  get lazy(): boolean {
    return this.segments.some((s) => s.kind === 'range');
  }

  /** The first `frames` frames (views and ranges, no copy). */
  head(frames: number): FrameSequence {
    if (frames > this.frames) throw new ShapeError(`Cannot take ${frames} frames of a sequence of ${this.frames}.`);
    const out: (Float32Array | FrameRange)[] = [];
    let left = frames;
    for (const s of this.segments) {
      if (left <= 0) break;
      const take = Math.min(left, s.frames);
      out.push(s.kind === 'array' ? s.data.subarray(0, take * this.frameSize) : { ...s.range, frames: take });
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
      const n = Math.min(remaining, s.frames - local);
      if (s.kind === 'array') dst.set(s.data.subarray(local * this.frameSize, (local + n) * this.frameSize), out);
      else s.range.reader.readFrames(s.range.start + local, n, dst, out);
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

  /**
   * Calls `fn` on each contiguous segment in memory; frames read on demand are passed in blocks of whole frames
   * (one reused buffer, so the memory stays bounded: `fn` must not keep the array). `fn` returning `false` stops.
   */
  forEachSegment(fn: (segment: Float32Array) => unknown): void {
    let buffer: Float32Array | undefined;
    const blockFrames = Math.max(1, Math.floor(SCAN_BLOCK_VALUES / this.frameSize));
    for (const s of this.segments) {
      if (s.kind === 'array') {
        if (fn(s.data) === false) return;
        continue;
      }
      for (let f = 0; f < s.frames; f += blockFrames) {
        const n = Math.min(blockFrames, s.frames - f);
        buffer ??= new Float32Array(Math.min(blockFrames, s.frames) * this.frameSize);
        if (buffer.length < n * this.frameSize) buffer = new Float32Array(n * this.frameSize);
        const block = buffer.subarray(0, n * this.frameSize);
        s.range.reader.readFrames(s.range.start + f, n, block, 0);
        if (fn(block) === false) return;
      }
    }
  }

  /** True when any value is NaN. */
  hasNaN(): boolean {
    let nan = false;
    this.forEachSegment((s) => {
      for (let i = 0; i < s.length; i++) {
        if (Number.isNaN(s[i])) {
          nan = true;
          return false;
        }
      }
      return true;
    });
    return nan;
  }

  /** Mean over frames of each of the `frameSize` values (e.g. the mean response per neuron). */
  meanPerValue(): Float32Array {
    const sums = new Float64Array(this.frameSize);
    this.forEachSegment((s) => {
      for (let i = 0; i < s.length; i += this.frameSize) for (let j = 0; j < this.frameSize; j++) sums[j]! += s[i + j]!;
    });
    return Float32Array.from(sums, (v) => v / this.frames);
  }
}
