/**
 * Bilinear resizing with antialiasing (the triangle-filter resampling of PIL, which torchvision's `Resize` uses on
 * tensors with `antialias=True`): separable, the filter support widened by the downscaling factor.
 */
function weights(inSize: number, outSize: number): { start: number[]; w: Float64Array[] } {
  const scale = inSize / outSize;
  const support = Math.max(scale, 1);
  const inv = scale > 1 ? 1 / scale : 1;
  const start: number[] = [];
  const w: Float64Array[] = [];
  for (let i = 0; i < outSize; i++) {
    const center = scale * (i + 0.5);
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
    const ws = new Float64Array(xmax - xmin);
    let total = 0;
    for (let j = 0; j < ws.length; j++) {
      const x = (j + xmin - center + 0.5) * inv;
      const v = Math.abs(x) < 1 ? 1 - Math.abs(x) : 0;
      ws[j] = v;
      total += v;
    }
    if (total > 0) for (let j = 0; j < ws.length; j++) ws[j] = ws[j]! / total;
    start.push(xmin);
    w.push(ws);
  }
  return { start, w };
}

/** Resizes one `[H, W]` plane (row-major) to `[outH, outW]`. */
export function resizeBilinearAntialias(src: ArrayLike<number>, h: number, w: number, outH: number, outW: number): Float32Array {
  const wx = weights(w, outW);
  const wy = weights(h, outH);
  const tmp = new Float64Array(h * outW);
  for (let y = 0; y < h; y++) {
    for (let i = 0; i < outW; i++) {
      const s = wx.start[i]!;
      const ws = wx.w[i]!;
      let acc = 0;
      for (let j = 0; j < ws.length; j++) acc += ws[j]! * src[y * w + s + j]!;
      tmp[y * outW + i] = acc;
    }
  }
  const out = new Float32Array(outH * outW);
  for (let i = 0; i < outH; i++) {
    const s = wy.start[i]!;
    const ws = wy.w[i]!;
    for (let x = 0; x < outW; x++) {
      let acc = 0;
      for (let j = 0; j < ws.length; j++) acc += ws[j]! * tmp[(s + j) * outW + x]!;
      out[i * outW + x] = acc;
    }
  }
  return out;
}
