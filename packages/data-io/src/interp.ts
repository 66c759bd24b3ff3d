/** `np.interp`: linear interpolation of (xp, fp) at x, clamped to the end values outside. */
export function interp(x: ArrayLike<number>, xp: ArrayLike<number>, fp: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  const m = xp.length;
  let j = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v <= xp[0]!) {
      out[i] = fp[0]!;
      continue;
    }
    if (v >= xp[m - 1]!) {
      out[i] = fp[m - 1]!;
      continue;
    }
    if (j > 0 && xp[j]! > v) j = 0; // x not sorted: restart the scan
    while (j < m - 2 && xp[j + 1]! <= v) j++;
    const x0 = xp[j]!;
    const x1 = xp[j + 1]!;
    out[i] = x1 === x0 ? fp[j]! : fp[j]! + ((fp[j + 1]! - fp[j]!) * (v - x0)) / (x1 - x0);
  }
  return out;
}
