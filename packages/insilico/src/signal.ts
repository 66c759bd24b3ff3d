import { EigenvalueDecomposition, Matrix, solve } from 'ml-matrix';
import { ConfigError, ShapeError } from '@openretina/contracts';

/** Filter coefficients `b` (numerator) and `a` (denominator, `a[0] = 1`). */
export interface FilterCoefficients {
  b: Float64Array;
  a: Float64Array;
}

type Complex = [number, number];
const cmul = (x: Complex, y: Complex): Complex => [x[0] * y[0] - x[1] * y[1], x[0] * y[1] + x[1] * y[0]];
const cdiv = (x: Complex, y: Complex): Complex => {
  const d = y[0] * y[0] + y[1] * y[1];
  return [(x[0] * y[0] + x[1] * y[1]) / d, (x[1] * y[0] - x[0] * y[1]) / d];
};

/** Real polynomial coefficients (highest power first) from complex roots that come in conjugate pairs. */
function poly(roots: readonly Complex[]): Float64Array {
  let c: Complex[] = [[1, 0]];
  for (const r of roots) {
    const next: Complex[] = Array.from({ length: c.length + 1 }, () => [0, 0] as Complex);
    c.forEach((v, i) => {
      next[i] = [next[i]![0] + v[0], next[i]![1] + v[1]];
      const m = cmul(v, r);
      next[i + 1] = [next[i + 1]![0] - m[0], next[i + 1]![1] - m[1]];
    });
    c = next;
  }
  return Float64Array.from(c, (v) => v[0]);
}

/**
 * A digital Butterworth low-pass filter, as `scipy.signal.butter(order, cutoff, fs=fs, btype="low")`: the analog
 * prototype, pre-warped and moved to `cutoff`, then the bilinear transform.
 */
export function butterLowpass(order: number, cutoff: number, fs: number): FilterCoefficients {
  if (!Number.isInteger(order) || order < 1) throw new ConfigError(`Butterworth order must be an integer ≥ 1, got ${order}.`);
  const wn = (2 * cutoff) / fs;
  if (!(wn > 0 && wn < 1)) throw new ConfigError(`The cutoff ${cutoff} Hz must lie between 0 and the Nyquist frequency ${fs / 2} Hz.`);
  // scipy designs at fs = 2 after normalising the cutoff: pre-warp with 2·fs·tan(π·wn/fs), bilinear at 2·fs
  const fs2 = 4;
  const warped = 4 * Math.tan((Math.PI * wn) / 2);
  const poles: Complex[] = [];
  for (let k = -order + 1; k < order; k += 2) {
    const theta = (Math.PI * k) / (2 * order);
    poles.push([-Math.cos(theta) * warped, -Math.sin(theta) * warped]);
  }
  // bilinear transform: z = (fs2 + p) / (fs2 − p), zeros at −1, gain k · Π(1/(fs2 − p))
  const zPoles = poles.map((p) => cdiv([fs2 + p[0], p[1]], [fs2 - p[0], -p[1]]));
  let den: Complex = [1, 0];
  for (const p of poles) den = cmul(den, [fs2 - p[0], -p[1]]);
  const gain = cdiv([warped ** order, 0], den)[0];
  const b = poly(Array.from({ length: order }, () => [-1, 0] as Complex)).map((v) => v * gain);
  const a = poly(zPoles);
  return { b, a };
}

/** Direct-form II transposed IIR filtering (`scipy.signal.lfilter`), with optional initial state `zi`. */
export function lfilter(b: ArrayLike<number>, a: ArrayLike<number>, x: ArrayLike<number>, zi?: ArrayLike<number>): Float64Array {
  const n = Math.max(b.length, a.length);
  const bb = Float64Array.from({ length: n }, (_, i) => (i < b.length ? b[i]! : 0) / a[0]!);
  const aa = Float64Array.from({ length: n }, (_, i) => (i < a.length ? a[i]! : 0) / a[0]!);
  const z = new Float64Array(n);
  if (zi) for (let i = 0; i < n - 1; i++) z[i] = zi[i]!;
  const y = new Float64Array(x.length);
  for (let t = 0; t < x.length; t++) {
    const xt = x[t]!;
    const yt = bb[0]! * xt + z[0]!;
    for (let i = 1; i < n; i++) z[i - 1] = bb[i]! * xt + (i < n - 1 ? z[i]! : 0) - aa[i]! * yt;
    y[t] = yt;
  }
  return y;
}

/** The steady-state initial conditions of `lfilter` for a unit step (`scipy.signal.lfilter_zi`). */
export function lfilterZi(b: ArrayLike<number>, a: ArrayLike<number>): Float64Array {
  const n = Math.max(b.length, a.length);
  const bb = Float64Array.from({ length: n }, (_, i) => (i < b.length ? b[i]! : 0) / a[0]!);
  const aa = Float64Array.from({ length: n }, (_, i) => (i < a.length ? a[i]! : 0) / a[0]!);
  const m = n - 1;
  // (I − companion(a)ᵀ) zi = b[1:] − a[1:] b[0]
  const lhs = Matrix.eye(m, m);
  for (let j = 0; j < m; j++) lhs.set(j, 0, lhs.get(j, 0) + aa[j + 1]!);
  for (let i = 0; i < m - 1; i++) lhs.set(i, i + 1, lhs.get(i, i + 1) - 1);
  const rhs = Matrix.columnVector(Array.from({ length: m }, (_, i) => bb[i + 1]! - aa[i + 1]! * bb[0]!));
  return Float64Array.from(solve(lhs, rhs).getColumn(0));
}

/**
 * Zero-phase forward-backward filtering as `scipy.signal.filtfilt(b, a, x)` (odd extension of `3·max(len(a), len(b))`
 * samples, steady-state initial conditions). For signals not longer than that, the extension is shortened to
 * `len(x) − 1` samples (scipy raises an error instead).
 */
export function filtfilt(b: ArrayLike<number>, a: ArrayLike<number>, x: ArrayLike<number>): Float64Array {
  const n = x.length;
  if (n === 0) return new Float64Array(0);
  const edge = Math.min(3 * Math.max(a.length, b.length), n - 1);
  const ext = new Float64Array(n + 2 * edge);
  for (let i = 0; i < edge; i++) ext[i] = 2 * x[0]! - x[edge - i]!;
  for (let i = 0; i < n; i++) ext[edge + i] = x[i]!;
  for (let i = 0; i < edge; i++) ext[edge + n + i] = 2 * x[n - 1]! - x[n - 2 - i]!;
  const zi = lfilterZi(b, a);
  const forward = lfilter(
    b,
    a,
    ext,
    zi.map((v) => v * ext[0]!),
  );
  forward.reverse();
  const backward = lfilter(
    b,
    a,
    forward,
    zi.map((v) => v * forward[0]!),
  );
  backward.reverse();
  return backward.slice(edge, edge + n);
}

/** `butter_lowpass_filter`: a 5th-order (by default) Butterworth low-pass applied with `filtfilt`. */
export function butterLowpassFilter(data: ArrayLike<number>, cutoff: number, fs: number, order = 5): Float64Array {
  const { b, a } = butterLowpass(order, cutoff, fs);
  return filtfilt(b, a, data);
}

/**
 * `calculate_fft`: low-pass the trace, then `|FFT|` at the first `n // 2` (non-negative) frequencies of `fftfreq(n, 1/fs)`.
 */
export function calculateFft(
  trace: ArrayLike<number>,
  samplingFrequency = 30,
  lowpassCutoff = 10,
): { frequencies: Float64Array; weights: Float64Array } {
  const y = butterLowpassFilter(trace, lowpassCutoff, samplingFrequency);
  const n = trace.length;
  const half = Math.floor(n / 2);
  const frequencies = new Float64Array(half);
  const weights = new Float64Array(half);
  for (let k = 0; k < half; k++) {
    frequencies[k] = (k * samplingFrequency) / n;
    let re = 0;
    let im = 0;
    for (let t = 0; t < n; t++) {
      const ang = (-2 * Math.PI * k * t) / n;
      re += y[t]! * Math.cos(ang);
      im += y[t]! * Math.sin(ang);
    }
    weights[k] = Math.hypot(re, im);
  }
  return { frequencies, weights };
}

/** The weights-weighted mean frequency (`weighted_main_frequency`). */
export function weightedMainFrequency(frequencies: ArrayLike<number>, weights: ArrayLike<number>): number {
  if (frequencies.length !== weights.length) throw new ShapeError(`${frequencies.length} frequencies but ${weights.length} weights.`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < frequencies.length; i++) {
    num += frequencies[i]! * weights[i]!;
    den += weights[i]!;
  }
  return num / den;
}

/** Python's `range(len)[start:stop]` indices for possibly negative bounds. */
function pySlice(start: number, stop: number, len: number): [number, number] {
  const norm = (v: number) => (v < 0 ? Math.max(0, v + len) : Math.min(v, len));
  return [norm(start), norm(stop)];
}

export interface DecomposedKernel {
  /** `[T]`: first left singular vector × max|spatial| × S₀ × scaling. */
  temporal: Float64Array;
  /** `[H, W]` row-major, scaled to max |value| 1. */
  spatial: Float64Array;
  height: number;
  width: number;
  /** The second singular value (how far from rank 1 the kernel is). */
  secondSingularValue: number;
}

/**
 * The two largest singular values of the `rows × cols` matrix `a` (row-major) and the first left and right singular
 * vectors, from the symmetric eigen-decomposition of the smaller Gram matrix (`a·aᵀ` or `aᵀ·a`): a full SVD of a
 * 50-frame × 288-pixel MEI channel (six per report of three MEIs) took 176 ms per call against 33 ms this way (same
 * loaded machine, back to back). The squared condition number is harmless for the leading pair of an MEI channel,
 * whose first singular value is well separated (OpenRetina's fixture still matches within 1e-8).
 */
function leadingSingularPairs(a: ArrayLike<number>, rows: number, cols: number): { s: number[]; u0: number[]; v0: number[] } {
  const byRows = rows <= cols; // Gram over the shorter side
  const n = byRows ? rows : cols;
  const m = byRows ? cols : rows;
  const at = (i: number, k: number): number => (byRows ? a[i * cols + k]! : a[k * cols + i]!); // element (i, k) of the n × m view
  const gram = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let k = 0; k < m; k++) sum += at(i, k) * at(j, k);
      gram[i]![j] = sum;
      gram[j]![i] = sum;
    }
  const eig = new EigenvalueDecomposition(new Matrix(gram), { assumeSymmetric: true });
  const values = eig.realEigenvalues; // ascending
  const order = values.map((v, i) => [v, i] as const).sort((x, y) => y[0] - x[0]);
  const s = order.slice(0, 2).map(([v]) => Math.sqrt(Math.max(v, 0)));
  const first = eig.eigenvectorMatrix.getColumn(order[0]![1]); // unit vector on the short side
  // the long side's vector: aᵀ·first / σ₁ (or a·first / σ₁), the pair consistent in sign
  const other = new Array<number>(m).fill(0);
  for (let k = 0; k < m; k++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += at(i, k) * first[i]!;
    other[k] = s[0]! > 0 ? sum / s[0]! : 0;
  }
  return byRows ? { s, u0: first, v0: other } : { s, u0: other, v0: first };
}

/**
 * The rank-1 space-time decomposition of a `[T, H, W]` kernel (`video_analysis.decompose_kernel`): SVD of the
 * `T × HW` matrix; the sign is chosen so that the mean of the 5×5 window `[H//2 − 3, H//2 + 2) × [W//2 − 3, W//2 + 2)`
 * of the spatial map is not negative.
 */
export function decomposeKernel(kernel: ArrayLike<number>, t: number, h: number, w: number, scalingFactor = 1): DecomposedKernel {
  if (kernel.length !== t * h * w)
    throw new ShapeError(`decomposeKernel: ${kernel.length} values do not make a [${t}, ${h}, ${w}] kernel.`);
  const { s, u0, v0 } = leadingSingularPairs(kernel, t, h * w);
  let absMax = 0;
  for (const v of v0) absMax = Math.max(absMax, Math.abs(v));
  if (absMax === 0) absMax = 1;
  const scale = scalingFactor * (s[0] ?? 0);
  const spatial = Float64Array.from(v0, (v) => v / absMax);
  const temporal = Float64Array.from(u0, (u) => u * absMax * scale);
  const cy = Math.trunc(h / 2);
  const cx = Math.trunc(w / 2);
  const [r0, r1] = pySlice(cy - 3, cy + 2, h);
  const [c0, c1] = pySlice(cx - 3, cx + 2, w);
  let sum = 0;
  let count = 0;
  for (let r = r0; r < r1; r++)
    for (let c = c0; c < c1; c++) {
      sum += spatial[r * w + c]!;
      count++;
    }
  if (count > 0 && sum / count < 0) {
    spatial.forEach((v, i) => (spatial[i] = -v));
    temporal.forEach((v, i) => (temporal[i] = -v));
  }
  return { temporal, spatial, height: h, width: w, secondSingularValue: s[1] ?? 0 };
}
