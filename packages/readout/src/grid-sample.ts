import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, formatShape } from '@openretina/contracts';

/**
 * PyTorch's `F.grid_sample(mode="bilinear", padding_mode="zeros")` for point locations, as a sampling matrix.
 *
 * `grid [M, N, 2]` holds normalised locations in [-1, 1], `grid[..., 0]` along the width (x) and `grid[..., 1]`
 * along the height (y), as in PyTorch. The result `S [M, N, h·w]` has, in row (m, n), the four bilinear corner
 * weights at the flattened pixel indices `y·w + x` (corners outside the map are left out: zero padding), so that
 * `S · features[m] ([h·w, c])` equals `grid_sample`'s output. TF.js has no grid sampler, and a matMul runs (and
 * differentiates) on every backend.
 *
 * The corner indices and in-bounds masks are computed off the gradient tape (from the values); the corner weights
 * are differentiable functions of `grid`, so gradients reach the locations exactly as PyTorch's grid sampler
 * backward does (the floor is piecewise constant). `alignCorners` maps ±1 to the centres (true) or the outer edges
 * (false) of the corner pixels.
 */
export function bilinearSamplingMatrix(grid: tf.Tensor, height: number, width: number, alignCorners = true): tf.Tensor3D {
  if (grid.rank !== 3 || grid.shape[2] !== 2) {
    throw new ShapeError(`bilinearSamplingMatrix expects a grid [M, N, 2], got ${formatShape(grid.shape)}.`);
  }
  return tf.tidy(() => {
    const [m, n] = grid.shape as [number, number, number];
    const hw = height * width;
    const [gx, gy] = tf.split(grid, 2, 2).map((t) => tf.reshape(t, [m * n])) as [tf.Tensor1D, tf.Tensor1D];
    const ix = unnormalize(gx, width, alignCorners);
    const iy = unnormalize(gy, height, alignCorners);

    // Off the tape: floors, corner indices (−1 = outside the map) as one-hot rows.
    const ixv = ix.dataSync();
    const iyv = iy.dataSync();
    const count = m * n;
    const x0v = new Float32Array(count);
    const y0v = new Float32Array(count);
    const oneHots = [0, 1, 2, 3].map(() => new Float32Array(count * hw));
    for (let i = 0; i < count; i++) {
      const x0 = Math.floor(ixv[i]!);
      const y0 = Math.floor(iyv[i]!);
      x0v[i] = x0;
      y0v[i] = y0;
      // Corners in PyTorch's order: nw (x0, y0), ne (x0+1, y0), sw (x0, y0+1), se (x0+1, y0+1).
      const corners: [number, number][] = [
        [x0, y0],
        [x0 + 1, y0],
        [x0, y0 + 1],
        [x0 + 1, y0 + 1],
      ];
      corners.forEach(([cx, cy], k) => {
        if (cx >= 0 && cx < width && cy >= 0 && cy < height) oneHots[k]![i * hw + cy * width + cx] = 1;
      });
    }
    const x0 = tf.tensor1d(x0v);
    const y0 = tf.tensor1d(y0v);
    const x1 = tf.add(x0, 1);
    const y1 = tf.add(y0, 1);
    // Differentiable corner weights (PyTorch's forms: nw = (x_se − ix)(y_se − iy), ...).
    const wx0 = tf.sub(x1, ix);
    const wx1 = tf.sub(ix, x0);
    const wy0 = tf.sub(y1, iy);
    const wy1 = tf.sub(iy, y0);
    const weights = [tf.mul(wx0, wy0), tf.mul(wx1, wy0), tf.mul(wx0, wy1), tf.mul(wx1, wy1)];
    let s: tf.Tensor | undefined;
    weights.forEach((w, k) => {
      const term = tf.mul(tf.tensor2d(oneHots[k]!, [count, hw]), tf.reshape(w, [count, 1]));
      s = s ? tf.add(s, term) : term;
    });
    return tf.reshape(s!, [m, n, hw]) as tf.Tensor3D;
  });
}

/** PyTorch's `grid_sampler_unnormalize`: [-1, 1] → pixel coordinates. */
function unnormalize(coord: tf.Tensor, size: number, alignCorners: boolean): tf.Tensor {
  return alignCorners ? tf.mul(tf.div(tf.add(coord, 1), 2), size - 1) : tf.div(tf.sub(tf.mul(tf.add(coord, 1), size), 1), 2);
}
