import type { NdArray } from '../ndarray.js';

/**
 * Places fixated images on a screen (a port of `returnFixMovie.m` as OpenRetina ports it): frame f shows image
 * `fixations[f][0]` (1-based) shifted by `(x, y) = fixations[f][1..2]`; zeros outside. `images` is `(n, x, y)` as
 * stored in the `.mat` file. Returns frames `[F, Ny, Nx]`. (An index of −1 at the lower edge wraps to the last image
 * row/column, as in the Python port.)
 */
export function renderFixationMovie(screen: readonly [number, number], images: NdArray, fixations: number[][]): Float32Array {
  const [ny, nx] = screen;
  const [, imX, imY] = images.shape as [number, number, number];
  const data = images.data as ArrayLike<number>;
  const out = new Float32Array(fixations.length * ny * nx);
  fixations.forEach(([img, trX, trY], f) => {
    const k = img! - 1;
    const x0 = Math.max(Math.floor(nx / 2) - trX!, 0);
    const x1 = Math.min(imX + Math.floor(nx / 2) - trX!, nx);
    const y0 = Math.max(Math.floor(ny / 2) - trY!, 0);
    const y1 = Math.min(imY + Math.floor(ny / 2) - trY!, ny);
    for (let s = 0; s < ny; s++) {
      if (s + 1 < y0 || s + 1 > y1) continue;
      let iy = trY! - Math.floor(ny / 2) + s;
      if (iy < 0) iy += imY;
      for (let t = 0; t < nx; t++) {
        if (t + 1 < x0 || t + 1 > x1) continue;
        let ix = trX! - Math.floor(nx / 2) + t;
        if (ix < 0) ix += imX;
        out[(f * ny + s) * nx + t] = data[(k * imX + ix) * imY + iy]!;
      }
    }
  });
  return out;
}
