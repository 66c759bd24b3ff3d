import type { Movie, Responses } from '@openretina/contracts';

/** A movie whose value at (t, y, x, c) encodes its position: t·1000 + y·100 + x·10 + c. */
export function codedMovie(t: number, h: number, w: number, c: number): Movie {
  const data = new Float32Array(t * h * w * c);
  let i = 0;
  for (let f = 0; f < t; f++)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) data[i++] = f * 1000 + y * 100 + x * 10 + k;
  return { data, shape: [t, h, w, c] };
}

/** Responses whose value at (t, n) is t + n/100. */
export function codedResponses(t: number, n: number): Responses {
  const data = new Float32Array(t * n);
  for (let f = 0; f < t; f++) for (let j = 0; j < n; j++) data[f * n + j] = f + j / 100;
  return { data, shape: [t, n] };
}

export const FIXTURES = new URL('../../../fixtures/data-io/', import.meta.url).pathname;
