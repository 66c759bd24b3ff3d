/**
 * `np.linspace(start, stop, num)` with numpy's arithmetic: `start + i · ((stop − start) / (num − 1))`, the last value
 * set to `stop` exactly (so interpolation times match numpy's to the last bit).
 */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  if (num === 1) {
    out[0] = start;
    return out;
  }
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  if (num > 1) out[num - 1] = stop;
  return out;
}
