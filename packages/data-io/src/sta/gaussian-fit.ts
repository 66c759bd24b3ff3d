// A 2D elliptical Gaussian and its least-squares fit to a spatial frame (OpenRetina's sta_processing fit).

/** Parameters of a 2D elliptical Gaussian: centre (pixels), principal-axis sigmas, rotation (radians), peak. */
export interface Gaussian2D {
  centerX: number;
  centerY: number;
  sigmaX: number;
  sigmaY: number;
  theta: number;
  amplitude: number;
}

/** A fitted Gaussian; `success` is false when the fit did not converge (the initial guess is returned then). */
export interface Gaussian2DFit extends Gaussian2D {
  success: boolean;
}

/** The Gaussian's quadratic-form coefficients (a, b, c) of `a·dx² + 2b·dx·dy + c·dy²`. */
function coefficients(sx: number, sy: number, theta: number): [number, number, number] {
  const c2 = Math.cos(theta) ** 2;
  const s2 = Math.sin(theta) ** 2;
  const sin2 = Math.sin(2 * theta);
  return [c2 / (2 * sx * sx) + s2 / (2 * sy * sy), sin2 / (4 * sx * sx) - sin2 / (4 * sy * sy), s2 / (2 * sx * sx) + c2 / (2 * sy * sy)];
}

/** The Gaussian on the `height × width` pixel grid (row-major, float64). */
export function gaussian2dGrid(height: number, width: number, g: Gaussian2D): Float64Array {
  const [a, b, c] = coefficients(g.sigmaX, g.sigmaY, g.theta);
  const out = new Float64Array(height * width);
  for (let y = 0; y < height; y++) {
    const dy = y - g.centerY;
    for (let x = 0; x < width; x++) {
      const dx = x - g.centerX;
      out[y * width + x] = g.amplitude * Math.exp(-(a * dx * dx + 2 * b * dx * dy + c * dy * dy));
    }
  }
  return out;
}

const P = 6;

/** Residuals (model − data) and the analytic Jacobian `[n, 6]` at parameters `p`. */
function residualsAndJacobian(p: Float64Array, frame: ArrayLike<number>, h: number, w: number, withJacobian: boolean) {
  const [cx, cy, sx, sy, th, amp] = p as unknown as [number, number, number, number, number, number];
  const [a, b, c] = coefficients(sx, sy, th);
  const cos2 = Math.cos(th) ** 2;
  const sin2 = Math.sin(th) ** 2;
  const s2t = Math.sin(2 * th);
  const c2t = Math.cos(2 * th);
  // derivatives of (a, b, c) by sigma_x, sigma_y and theta
  const da = [-cos2 / sx ** 3, -sin2 / sy ** 3, s2t / (2 * sy * sy) - s2t / (2 * sx * sx)];
  const db = [-s2t / (2 * sx ** 3), s2t / (2 * sy ** 3), c2t / (2 * sx * sx) - c2t / (2 * sy * sy)];
  const dc = [-sin2 / sx ** 3, -cos2 / sy ** 3, s2t / (2 * sx * sx) - s2t / (2 * sy * sy)];
  const n = h * w;
  const r = new Float64Array(n);
  const J = withJacobian ? new Float64Array(n * P) : undefined;
  for (let y = 0; y < h; y++) {
    const dy = y - cy;
    for (let x = 0; x < w; x++) {
      const dx = x - cx;
      const i = y * w + x;
      const e = Math.exp(-(a * dx * dx + 2 * b * dx * dy + c * dy * dy));
      const g = amp * e;
      r[i] = g - Number(frame[i]);
      if (J) {
        const o = i * P;
        J[o] = g * (2 * a * dx + 2 * b * dy);
        J[o + 1] = g * (2 * b * dx + 2 * c * dy);
        for (let k = 0; k < 3; k++) J[o + 2 + k] = -g * (da[k]! * dx * dx + 2 * db[k]! * dx * dy + dc[k]! * dy * dy);
        J[o + 5] = e;
      }
    }
  }
  return { r, J };
}

const halfSquaredNorm = (r: Float64Array): number => {
  let s = 0;
  for (const v of r) s += v * v;
  return s / 2;
};

/** Solves the symmetric positive-definite `A x = b` (6×6) by Gaussian elimination with partial pivoting. */
function solve(A: Float64Array, b: Float64Array): Float64Array | undefined {
  const m = A.slice();
  const x = b.slice();
  for (let col = 0; col < P; col++) {
    let piv = col;
    for (let r = col + 1; r < P; r++) if (Math.abs(m[r * P + col]!) > Math.abs(m[piv * P + col]!)) piv = r;
    if (m[piv * P + col] === 0 || !Number.isFinite(m[piv * P + col]!)) return undefined;
    if (piv !== col) {
      for (let k = 0; k < P; k++) [m[col * P + k], m[piv * P + k]] = [m[piv * P + k]!, m[col * P + k]!];
      [x[col], x[piv]] = [x[piv]!, x[col]!];
    }
    for (let r = col + 1; r < P; r++) {
      const f = m[r * P + col]! / m[col * P + col]!;
      for (let k = col; k < P; k++) m[r * P + k]! -= f * m[col * P + k]!;
      x[r]! -= f * x[col]!;
    }
  }
  for (let r = P - 1; r >= 0; r--) {
    let s = x[r]!;
    for (let k = r + 1; k < P; k++) s -= m[r * P + k]! * x[k]!;
    x[r] = s / m[r * P + r]!;
  }
  return x;
}

/**
 * Least-squares fit of a 2D elliptical Gaussian to `frame` (`height × width`, row-major), as OpenRetina's
 * `fit_2d_gaussian`: initial centre at the largest |value| (first in row-major order) unless given as `[y, x]`,
 * initial sigmas min(h, w)/6, theta 0, amplitude the value there; bounds centre ∈ [0, w−1] × [0, h−1],
 * sigma_x ∈ [0.5, w], sigma_y ∈ [0.5, h], theta ∈ [−π, π]. OpenRetina uses scipy's trust-region-reflective solver;
 * this is a bounded Levenberg–Marquardt on the same objective with an analytic Jacobian, so both reach the same
 * minimum (the fitted filters match scipy's to ~1e-5 in the fixtures), not the same iterates.
 */
export function fit2dGaussian(
  frame: ArrayLike<number>,
  height: number,
  width: number,
  initialCenter?: readonly [number, number],
): Gaussian2DFit {
  let iy: number;
  let ix: number;
  if (initialCenter) {
    [iy, ix] = [Math.trunc(initialCenter[0]), Math.trunc(initialCenter[1])];
  } else {
    let best = -1;
    let at = 0;
    for (let i = 0; i < height * width; i++) {
      const v = Math.abs(Number(frame[i]));
      if (v > best) {
        best = v;
        at = i;
      }
    }
    [iy, ix] = [Math.floor(at / width), at % width];
  }
  const initAmp = Number(frame[iy * width + ix]);
  const initSigma = Math.min(height, width) / 6;
  const initial: Gaussian2DFit = {
    centerX: ix,
    centerY: iy,
    sigmaX: initSigma,
    sigmaY: initSigma,
    theta: 0,
    amplitude: initAmp,
    success: false,
  };
  const lo = [0, 0, 0.5, 0.5, -Math.PI, -Infinity];
  const hi = [width - 1, height - 1, width, height, Math.PI, Infinity];
  const clip = (p: Float64Array) => p.map((v, k) => Math.min(hi[k]!, Math.max(lo[k]!, v)));
  let p = clip(Float64Array.from([ix, iy, initSigma, initSigma, 0, initAmp]));
  let { r, J } = residualsAndJacobian(p, frame, height, width, true);
  let cost = halfSquaredNorm(r);
  if (!Number.isFinite(cost)) return initial;
  let lambda = 1e-3;
  let converged = false;
  const n = height * width;
  for (let iter = 0; iter < 5000 && !converged; iter++) {
    const JtJ = new Float64Array(P * P);
    const g = new Float64Array(P);
    for (let i = 0; i < n; i++) {
      const o = i * P;
      for (let k = 0; k < P; k++) {
        const jk = J![o + k]!;
        g[k]! += jk * r[i]!;
        for (let l = k; l < P; l++) JtJ[k * P + l]! += jk * J![o + l]!;
      }
    }
    for (let k = 0; k < P; k++) for (let l = 0; l < k; l++) JtJ[k * P + l] = JtJ[l * P + k]!;
    let stepped = false;
    while (lambda < 1e20) {
      const A = JtJ.slice();
      for (let k = 0; k < P; k++) A[k * P + k]! += lambda * Math.max(JtJ[k * P + k]!, 1e-12);
      const delta = solve(
        A,
        g.map((v) => -v),
      );
      if (!delta) {
        lambda *= 10;
        continue;
      }
      const next = clip(p.map((v, k) => v + delta[k]!));
      const trial = residualsAndJacobian(next, frame, height, width, false);
      const nextCost = halfSquaredNorm(trial.r);
      if (Number.isFinite(nextCost) && nextCost <= cost) {
        let stepNorm = 0;
        let pNorm = 0;
        for (let k = 0; k < P; k++) {
          stepNorm += (next[k]! - p[k]!) ** 2;
          pNorm += p[k]! ** 2;
        }
        converged = cost - nextCost <= 1e-15 * cost || Math.sqrt(stepNorm) <= 1e-12 * (Math.sqrt(pNorm) + 1e-12);
        p = next;
        cost = nextCost;
        ({ r, J } = residualsAndJacobian(p, frame, height, width, true));
        lambda = Math.max(lambda / 10, 1e-15);
        stepped = true;
        break;
      }
      lambda *= 10;
    }
    if (!stepped) converged = true; // no descent step left: a (bounded) minimum
  }
  if (!converged) return initial;
  const [centerX, centerY, sigmaX, sigmaY, theta, amplitude] = p as unknown as number[];
  return { centerX: centerX!, centerY: centerY!, sigmaX: sigmaX!, sigmaY: sigmaY!, theta: theta!, amplitude: amplitude!, success: true };
}
