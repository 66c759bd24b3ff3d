// Direction tuning from responses to a bar moving in several directions, one sweep after the other.

/** Responses `[T_out, N]` (row-major), output frame i answering input frame i + framesCut. */
export interface ResponseTrace {
  data: ArrayLike<number>;
  frames: number;
  neurons: number;
}

export interface DirectionTuning {
  directions: number[];
  /** `[direction][neuron]`: the mean response during each sweep. */
  means: Float32Array[];
  /** Direction selectivity index |Σ r e^{iθ}| / Σ r (responses clipped at 0), per neuron. */
  dsi: Float32Array;
  /** Preferred direction in degrees [0, 360), per neuron. */
  preferred: Float32Array;
}

/**
 * The mean response of each neuron during each sweep (sweep k covers input frames `[k·S, (k+1)·S)`), the direction
 * selectivity index and the preferred direction (angle of the vector sum).
 */
export function directionTuning(r: ResponseTrace, framesCut: number, sweepFrames: number, directions: readonly number[]): DirectionTuning {
  const means = directions.map(() => new Float32Array(r.neurons));
  const counts = new Array<number>(directions.length).fill(0);
  for (let i = 0; i < r.frames; i++) {
    const k = Math.floor((i + framesCut) / sweepFrames);
    if (k >= directions.length) break;
    counts[k]! += 1;
    for (let n = 0; n < r.neurons; n++) means[k]![n]! += r.data[i * r.neurons + n]!;
  }
  means.forEach((m, k) => {
    if (counts[k]! > 0) for (let n = 0; n < m.length; n++) m[n] = m[n]! / counts[k]!;
  });
  const dsi = new Float32Array(r.neurons);
  const preferred = new Float32Array(r.neurons);
  for (let n = 0; n < r.neurons; n++) {
    let x = 0;
    let y = 0;
    let s = 0;
    directions.forEach((d, k) => {
      const v = Math.max(0, means[k]![n]!);
      x += v * Math.cos((d * Math.PI) / 180);
      y += v * Math.sin((d * Math.PI) / 180);
      s += v;
    });
    dsi[n] = s > 0 ? Math.hypot(x, y) / s : 0;
    preferred[n] = ((Math.atan2(y, x) * 180) / Math.PI + 360) % 360;
  }
  return { directions: [...directions], means, dsi, preferred };
}
