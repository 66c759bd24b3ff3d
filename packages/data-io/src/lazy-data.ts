import type { FrameReader, LazyMovie, LazyResponses, Movie, Responses } from '@openretina/contracts';
import { FrameSequence } from './frames.js';

/*
 * Train movies and responses are either arrays in memory or read on demand (the generic HDF5 reader's lazy path);
 * these helpers let every consumer take both.
 */

/** True when the frames are read on demand. */
export function isLazy(x: Movie | LazyMovie | Responses | LazyResponses): x is LazyMovie | LazyResponses {
  return 'reader' in x && x.reader !== undefined;
}

/** The values in memory, or the reader of a lazy movie or responses. */
export function frameSource(x: Movie | LazyMovie | Responses | LazyResponses): Float32Array | FrameReader {
  return isLazy(x) ? x.reader : x.data;
}

/** All frames as a {@link FrameSequence} (views in memory, or ranges read on demand). */
export function framesOf(x: Movie | LazyMovie | Responses | LazyResponses): FrameSequence {
  if (isLazy(x)) return FrameSequence.ofReader(x.reader);
  const frameSize = x.shape.slice(1).reduce((a, b) => a * b, 1);
  return FrameSequence.of(x.data, frameSize);
}

/** The movie in memory (a lazy one is read whole: for consumers that need the full array, e.g. a flipped copy). */
export function movieInMemory(x: Movie | LazyMovie): Movie {
  return isLazy(x) ? { data: framesOf(x).toArray(), shape: x.shape } : x;
}

/** The responses in memory (a lazy one is read whole). */
export function responsesInMemory(x: Responses | LazyResponses): Responses {
  return isLazy(x) ? { data: framesOf(x).toArray(), shape: x.shape } : x;
}
