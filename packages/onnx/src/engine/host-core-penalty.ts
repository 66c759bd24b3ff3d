/**
 * `SimpleCoreWrapper.regularizer()` (from '@openretina/core') of a custom_separable core on host arrays, with its
 * gradients: `γ_input · FlatLaplaceL23dnorm(layer 0's spatial kernels) + γ_hidden · Σ_{l≥1} groupSparsity(ws_l) +
 * γ_temporal · Σ_l temporalSmoothing(sin_l, cos_l) + γ_in_sparse · Σ_l groupSparsity(ws_l)`, terms with γ = 0
 * skipped. The training step needs a few thousand numbers here; in TF.js they cost ~100 kernels and their tape.
 */

/** One layer's kernels as host arrays. */
export interface CoreLayerValues {
  /** Spatial kernels `[O, I, 1, kh, kw]`. */
  ws: Float32Array;
  O: number;
  I: number;
  kh: number;
  kw: number;
  /** sin/cos coefficients `[O, I, K]`. */
  sin: Float32Array;
  cos: Float32Array;
  K: number;
}

/** The penalty's weights and its Laplace filter (`k × k`, zero padding `padding`). */
export interface CorePenaltySettings {
  gammaInput: number;
  gammaHidden: number;
  gammaTemporal: number;
  gammaInSparse: number;
  laplace: { filter: Float32Array; size: number; padding: number };
}

export interface CorePenalty {
  value: number;
  /** Per layer, the gradients of `ws`, `sin`, `cos` (absent where no term reaches them). */
  grads: { ws?: Float64Array; sin?: Float64Array; cos?: Float64Array }[];
}

const GROUP_SPARSITY_EPS = 1e-8;
const LAPLACE_EPS = 1e-6;

export function corePenalty(layers: readonly CoreLayerValues[], s: CorePenaltySettings): CorePenalty {
  const grads: CorePenalty['grads'] = layers.map(() => ({}));
  const into = (l: number, key: 'ws' | 'sin' | 'cos', length: number): Float64Array => {
    const g = grads[l]!;
    g[key] ??= new Float64Array(length);
    return g[key];
  };
  let value = 0;
  if (s.gammaInput !== 0 && layers[0])
    value += s.gammaInput * laplacePenalty(layers[0], s.laplace, s.gammaInput, into(0, 'ws', layers[0].ws.length));
  layers.forEach((l, i) => {
    if (s.gammaHidden !== 0 && i > 0) value += s.gammaHidden * groupSparsity(l, s.gammaHidden, into(i, 'ws', l.ws.length));
    if (s.gammaTemporal !== 0)
      value += s.gammaTemporal * temporalSmoothing(l, s.gammaTemporal, into(i, 'sin', l.sin.length), into(i, 'cos', l.cos.length));
    if (s.gammaInSparse !== 0) value += s.gammaInSparse * groupSparsity(l, s.gammaInSparse, into(i, 'ws', l.ws.length));
  });
  return { value, grads };
}

/**
 * `Σ Laplace(W)² / (Σ W² + 1e-6)` over the `[kh, kw]` maps (a valid cross-correlation with the filter after zero
 * padding, as a 2-D conv); adds `weight ·` its gradient to `grad`.
 */
function laplacePenalty(l: CoreLayerValues, laplace: CorePenaltySettings['laplace'], weight: number, grad: Float64Array): number {
  const { filter, size: k, padding: p } = laplace;
  const { kh, kw, ws } = l;
  const [oh, ow] = [kh + 2 * p - k + 1, kw + 2 * p - k + 1];
  const maps = ws.length / (kh * kw);
  const filtered = new Float64Array(maps * oh * ow);
  let A = 0;
  let B = 0;
  for (let m = 0; m < maps; m++) {
    const base = m * kh * kw;
    for (let a = 0; a < oh; a++)
      for (let b = 0; b < ow; b++) {
        let f = 0;
        for (let u = 0; u < k; u++) {
          const i = a + u - p;
          if (i < 0 || i >= kh) continue;
          for (let v = 0; v < k; v++) {
            const j = b + v - p;
            if (j >= 0 && j < kw) f += filter[u * k + v]! * ws[base + i * kw + j]!;
          }
        }
        filtered[(m * oh + a) * ow + b] = f;
        A += f * f;
      }
  }
  for (let i = 0; i < ws.length; i++) B += ws[i]! * ws[i]!;
  const den = B + LAPLACE_EPS;
  // d/dW (A / den) = 2·Lᵀ(filtered) / den − 2·A·W / den²
  const ratio = (2 * A) / (den * den);
  for (let i = 0; i < ws.length; i++) grad[i] = grad[i]! - weight * ratio * ws[i]!;
  for (let m = 0; m < maps; m++) {
    const base = m * kh * kw;
    for (let a = 0; a < oh; a++)
      for (let b = 0; b < ow; b++) {
        const df = (weight * 2 * filtered[(m * oh + a) * ow + b]!) / den;
        for (let u = 0; u < k; u++) {
          const i = a + u - p;
          if (i < 0 || i >= kh) continue;
          for (let v = 0; v < k; v++) {
            const j = b + v - p;
            if (j >= 0 && j < kw) grad[base + i * kw + j] = grad[base + i * kw + j]! + df * filter[u * k + v]!;
          }
        }
      }
  }
  return A / den;
}

/**
 * `Σ_o (Σ_i ‖W[o,i]‖₂) / sqrt(eps + ‖W[o]‖₂²)`; adds `weight ·` its gradient to `grad` (NaN for an all-zero
 * `W[o,i]`, as sqrt's gradient at 0 gives in TF.js and PyTorch).
 */
function groupSparsity(l: CoreLayerValues, weight: number, grad: Float64Array): number {
  const { O, I, ws } = l;
  const per = ws.length / (O * I);
  const norms = new Float64Array(I);
  let total = 0;
  for (let o = 0; o < O; o++) {
    let num = 0;
    let sq = 0;
    for (let i = 0; i < I; i++) {
      let s = 0;
      for (let k = 0; k < per; k++) s += ws[(o * I + i) * per + k]! ** 2;
      norms[i] = Math.sqrt(s);
      num += norms[i]!;
      sq += s;
    }
    const den = Math.sqrt(sq + GROUP_SPARSITY_EPS);
    total += num / den;
    const cross = num / (den * den * den);
    for (let i = 0; i < I; i++)
      for (let k = 0; k < per; k++) {
        const j = (o * I + i) * per + k;
        grad[j] = grad[j]! + weight * (ws[j]! / norms[i]! / den - cross * ws[j]!);
      }
  }
  return total;
}

/**
 * `(Σ (s_k·sin)² + Σ (s_k·cos)²) / O` with `s = linspace(0.1, 0.9, K)`; adds `weight ·` its gradients to `dSin`,
 * `dCos`.
 */
function temporalSmoothing(l: CoreLayerValues, weight: number, dSin: Float64Array, dCos: Float64Array): number {
  const { O, K, sin, cos } = l;
  let total = 0;
  for (let j = 0; j < sin.length; j++) {
    const k = j % K;
    const s = K === 1 ? 0.1 : 0.1 + (0.8 * k) / (K - 1);
    const s2 = s * s;
    total += s2 * (sin[j]! * sin[j]! + cos[j]! * cos[j]!);
    dSin[j] = dSin[j]! + (weight * 2 * s2 * sin[j]!) / O;
    dCos[j] = dCos[j]! + (weight * 2 * s2 * cos[j]!) / O;
  }
  return total / O;
}
