/**
 * A Gaussian-mask readout's effective weight and penalty on host arrays, with their gradients: the training step's
 * chain rule from the graph's readout weight back to the readout's parameters, without the ~100 TF.js kernels (and
 * their tape) the same few thousand numbers cost there. Same formulas as `GaussianMaskReadout` (from
 * '@openretina/readout'): `mask()`, the weight `features · mask · scale` and `regularizer()`; float64 sums, each
 * result rounded to float32 once.
 */

/** The readout's parameters and buffers as host arrays, and its settings. */
export interface MaskReadoutValues {
  /** `[N, 2]` */
  maskMean: Float32Array;
  /** `[N]` */
  maskLogVar: Float32Array;
  /** `[N, h, w, 2]` */
  grid: Float32Array;
  /** `[1, c, 1, N]` */
  features: Float32Array;
  /** `[N]` */
  scale: Float32Array;
  meanScale: number;
  varScale: number;
  /** Core output channels. */
  c: number;
}

/** Gradients of the readout's parameters (float64 sums; shapes as in {@link MaskReadoutValues}). */
export interface MaskReadoutGrads {
  maskMean: Float64Array;
  maskLogVar: Float64Array;
  features: Float64Array;
  scale: Float64Array;
}

/** The forward's intermediates the backward needs. */
interface MaskForward {
  N: number;
  Q: number;
  /** Normalised masks `[N, Q]` (0 where NaN, as `mask()`'s nan_to_num). */
  mask: Float64Array;
  pdf: Float64Array;
  /** `Σ_k (grid − centre)²` per `[N, Q]`. */
  dist2: Float64Array;
  /** `variance + 1e-8` per neuron. */
  denom: Float64Array;
  pdfSum: Float64Array;
}

function maskForward(v: MaskReadoutValues): MaskForward {
  const N = v.maskLogVar.length;
  const Q = v.grid.length / (2 * N);
  const mask = new Float64Array(N * Q);
  const pdf = new Float64Array(N * Q);
  const dist2 = new Float64Array(N * Q);
  const denom = new Float64Array(N);
  const pdfSum = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    const u = Math.min(Math.max(v.maskLogVar[n]! * v.varScale, -20), 20);
    denom[n] = Math.exp(u) + 1e-8;
    const cy = v.maskMean[2 * n]! * v.meanScale;
    const cx = v.maskMean[2 * n + 1]! * v.meanScale;
    let sum = 0;
    for (let q = 0; q < Q; q++) {
      const g = (n * Q + q) * 2;
      const dy = v.grid[g]! - cy;
      const dx = v.grid[g + 1]! - cx;
      const d2 = dy * dy + dx * dx;
      dist2[n * Q + q] = d2;
      const p = Math.exp(-0.5 * Math.min(d2 / denom[n]!, 20));
      pdf[n * Q + q] = p;
      sum += p;
    }
    pdfSum[n] = sum;
    for (let q = 0; q < Q; q++) {
      const m = pdf[n * Q + q]! / sum;
      mask[n * Q + q] = Number.isNaN(m) ? 0 : m;
    }
  }
  return { N, Q, mask, pdf, dist2, denom, pdfSum };
}

/**
 * The readout's effective weight `[c·Q, N]` (row `ch·Q + q`: `features[ch, n] · mask[n, q] · scale[n]`), as the
 * engine graphs take it, and the gradients of the parameters for an upstream gradient of that weight.
 */
export class HostMaskReadout {
  private readonly fw: MaskForward;
  readonly weight: Float32Array;

  constructor(private readonly v: MaskReadoutValues) {
    this.fw = maskForward(v);
    const { N, Q, mask } = this.fw;
    const { c, features, scale } = v;
    this.weight = new Float32Array(c * Q * N);
    for (let ch = 0; ch < c; ch++)
      for (let q = 0; q < Q; q++)
        for (let n = 0; n < N; n++) this.weight[(ch * Q + q) * N + n] = features[ch * N + n]! * mask[n * Q + q]! * scale[n]!;
  }

  /** Gradients of the parameters given `G = d loss / d weight` `[c·Q, N]`. */
  backward(G: Float32Array): MaskReadoutGrads {
    const { N, Q, mask, pdf, dist2, denom, pdfSum } = this.fw;
    const { c, features, scale, grid, maskMean, maskLogVar, meanScale, varScale } = this.v;
    const dFeatures = new Float64Array(c * N);
    const dScale = new Float64Array(N);
    const dMaskMean = new Float64Array(N * 2);
    const dMaskLogVar = new Float64Array(N);
    const dm = new Float64Array(Q);
    for (let n = 0; n < N; n++) {
      // weight = features · mask · scale
      dm.fill(0);
      let ds = 0;
      for (let ch = 0; ch < c; ch++) {
        const f = features[ch * N + n]!;
        let df = 0;
        for (let q = 0; q < Q; q++) {
          const g = G[(ch * Q + q) * N + n]!;
          const m = mask[n * Q + q]!;
          df += g * m;
          dm[q] = dm[q]! + g * f;
          ds += g * f * m;
        }
        dFeatures[ch * N + n] = df * scale[n]!;
      }
      dScale[n] = ds;
      // mask = pdf / Σ pdf (NaN entries, zeroed, pass no gradient)
      let dot = 0;
      for (let q = 0; q < Q; q++) {
        const m = pdf[n * Q + q]! / pdfSum[n]!;
        dm[q] = Number.isNaN(m) ? 0 : dm[q]! * scale[n]!;
        dot += dm[q]! * pdf[n * Q + q]!;
      }
      const S = pdfSum[n]!;
      const den = denom[n]!;
      const cy = maskMean[2 * n]! * meanScale;
      const cx = maskMean[2 * n + 1]! * meanScale;
      let dcy = 0;
      let dcx = 0;
      let dden = 0;
      for (let q = 0; q < Q; q++) {
        const i = n * Q + q;
        const dpdf = dm[q]! / S - dot / (S * S);
        const r = dist2[i]! / den;
        // pdf = exp(−½·min(r, 20)); the minimum passes the gradient where r ≤ 20 (TF.js's and PyTorch's tie rule)
        const dr = r <= 20 ? dpdf * pdf[i]! * -0.5 : 0;
        const dd2 = dr / den; // r = d2 / den
        dden -= dd2 * r;
        const g = i * 2;
        dcy += dd2 * 2 * (cy - grid[g]!);
        dcx += dd2 * 2 * (cx - grid[g + 1]!);
      }
      dMaskMean[2 * n] = dcy * meanScale;
      dMaskMean[2 * n + 1] = dcx * meanScale;
      // denom = exp(clip(logvar · vs, −20, 20)) + 1e-8; the clip passes the gradient inside its closed range
      const u = maskLogVar[n]! * varScale;
      dMaskLogVar[n] = u >= -20 && u <= 20 ? dden * (den - 1e-8) * varScale : 0;
    }
    return { maskMean: dMaskMean, maskLogVar: dMaskLogVar, features: dFeatures, scale: dScale };
  }
}

/**
 * The readout's penalty `maskL1Reg · (Σ exp(logvar·vs) + Σ (μ·ms)²) + featureL1Reg · Σ |features|` (means instead of
 * sums with `reduction: 'mean'`) and its gradients (|x|'s is sign(x), 0 at 0, as `x · sign(x)` differentiates).
 */
export function maskReadoutPenalty(
  v: MaskReadoutValues,
  maskL1Reg: number,
  featureL1Reg: number,
  reduction: 'sum' | 'mean',
): { value: number; grads: Omit<MaskReadoutGrads, 'scale'> } {
  const N = v.maskLogVar.length;
  const mean = reduction === 'mean';
  const [perVar, perMean, perFeature] = mean ? [1 / N, 1 / (2 * N), 1 / v.features.length] : [1, 1, 1];
  let varSum = 0;
  let meanSum = 0;
  let featureSum = 0;
  const maskLogVar = new Float64Array(N);
  const maskMean = new Float64Array(2 * N);
  const features = new Float64Array(v.features.length);
  for (let n = 0; n < N; n++) {
    const e = Math.exp(v.maskLogVar[n]! * v.varScale);
    varSum += e;
    maskLogVar[n] = maskL1Reg * perVar * e * v.varScale;
  }
  for (let k = 0; k < 2 * N; k++) {
    const m = v.maskMean[k]! * v.meanScale;
    meanSum += m * m;
    maskMean[k] = maskL1Reg * perMean * 2 * m * v.meanScale;
  }
  for (let k = 0; k < v.features.length; k++) {
    const f = v.features[k]!;
    featureSum += Math.abs(f);
    features[k] = featureL1Reg * perFeature * Math.sign(f);
  }
  const value = maskL1Reg * (varSum * perVar + meanSum * perMean) + featureL1Reg * featureSum * perFeature;
  return { value, grads: { maskMean, maskLogVar, features } };
}
