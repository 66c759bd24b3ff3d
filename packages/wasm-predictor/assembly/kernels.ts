// SIMD WebAssembly kernels of the eval forward (AssemblyScript; `pnpm run build:wasm` compiles this file into
// src/kernels-binary.ts). Activations are time-last, `[channel][position][frame]`, every row `S` frames long (a
// multiple of 8), so that every kernel runs four frames per f32x4 lane group. Pointers are byte offsets into the
// memory the host owns and lays out; nothing here allocates.

@inline function splat(p: usize): v128 {
  return v128.load32_splat(p);
}

@inline function madd(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

/**
 * One space-time separable convolution, accumulated into `y` (which the host zeroes): for each output channel o,
 * `y[o][q] += Σ_i temporal[o, i] ⊛ (spatial[o, i] ⋆ x[i])[q]`, spatial stage first (a valid cross-correlation with
 * `ph`/`pw` zero rows and columns around the frame), fused per output position so that the per-pair products never
 * leave the scratch rows `u` (four rows of `S` frames). Only output channels `[ob0, ob1)` (multiples of 4) and rows
 `[yo0, yo1)`: threads share a layer by pieces of these.
 *
 * x: `[I][H·W][S]` (temporal padding already in the rows); ws: `[O/4][I][kh][kw][4]` (four output channels side by
 * side); wt: `[O][I][L]`; y: `[O][Ho·Wo][S]`, written at frame offset `yOff` of each row. nU: frames of `u` to compute
 * (a multiple of 8, ≥ nY + L − 1); nY: output frames (a multiple of 16).
 */
function separableLayer(
  x: usize,
  I: i32,
  H: i32,
  W: i32,
  S: i32,
  ws: usize,
  wt: usize,
  kh: i32,
  kw: i32,
  ph: i32,
  pw: i32,
  L: i32,
  y: usize,
  yOff: i32,
  Ho: i32,
  Wo: i32,
  u: usize,
  nU: i32,
  nY: i32,
  ob0: i32,
  ob1: i32,
  yo0: i32,
  yo1: i32,
): void {
  const row = (<usize>S) << 2;
  for (let ob = ob0; ob < ob1; ob += 4) {
    for (let yo = yo0; yo < yo1; yo++) {
      const dy0 = max(0, ph - yo);
      const dy1 = min(kh, H + ph - yo);
      for (let xo = 0; xo < Wo; xo++) {
        const dx0 = max(0, pw - xo);
        const dx1 = min(kw, W + pw - xo);
        for (let i = 0; i < I; i++) {
          // spatial stage: u[j] = spatial[ob + j, i] ⋆ x[i] at (yo, xo), 8 frames at a time
          for (let t = 0; t < nU; t += 8) {
            let a0 = f32x4.splat(0);
            let a1 = f32x4.splat(0);
            let a2 = f32x4.splat(0);
            let a3 = f32x4.splat(0);
            let b0 = f32x4.splat(0);
            let b1 = f32x4.splat(0);
            let b2 = f32x4.splat(0);
            let b3 = f32x4.splat(0);
            for (let dy = dy0; dy < dy1; dy++) {
              let xp = x + (<usize>((i * H + yo + dy - ph) * W + xo + dx0 - pw)) * row + ((<usize>t) << 2);
              let wp = ws + ((<usize>((((ob >> 2) * I + i) * kh + dy) * kw + dx0)) << 4);
              for (let dx = dx0; dx < dx1; dx++) {
                const x0 = v128.load(xp);
                const x1 = v128.load(xp, 16);
                const w0 = splat(wp);
                const w1 = splat(wp + 4);
                const w2 = splat(wp + 8);
                const w3 = splat(wp + 12);
                a0 = madd(a0, w0, x0);
                b0 = madd(b0, w0, x1);
                a1 = madd(a1, w1, x0);
                b1 = madd(b1, w1, x1);
                a2 = madd(a2, w2, x0);
                b2 = madd(b2, w2, x1);
                a3 = madd(a3, w3, x0);
                b3 = madd(b3, w3, x1);
                xp += row;
                wp += 16;
              }
            }
            const up = u + ((<usize>t) << 2);
            v128.store(up, a0);
            v128.store(up, b0, 16);
            v128.store(up + row, a1);
            v128.store(up + row, b1, 16);
            v128.store(up + 2 * row, a2);
            v128.store(up + 2 * row, b2, 16);
            v128.store(up + 3 * row, a3);
            v128.store(up + 3 * row, b3, 16);
          }
          // temporal stage: y[o][q][t] += Σ_k temporal[o, i, k] · u[j][t + k], 16 frames at a time
          for (let j = 0; j < 4; j++) {
            const o = ob + j;
            const yRow = y + (<usize>((o * Ho + yo) * Wo + xo)) * row + ((<usize>yOff) << 2);
            const uRow = u + (<usize>j) * row;
            const wk = wt + ((<usize>((o * I + i) * L)) << 2);
            for (let t = 0; t < nY; t += 16) {
              const yp = yRow + ((<usize>t) << 2);
              let c0 = v128.load(yp);
              let c1 = v128.load(yp, 16);
              let c2 = v128.load(yp, 32);
              let c3 = v128.load(yp, 48);
              let up = uRow + ((<usize>t) << 2);
              for (let k = 0; k < L; k++) {
                const w = splat(wk + ((<usize>k) << 2));
                c0 = madd(c0, w, v128.load(up));
                c1 = madd(c1, w, v128.load(up, 16));
                c2 = madd(c2, w, v128.load(up, 32));
                c3 = madd(c3, w, v128.load(up, 48));
                up += 4;
              }
              v128.store(yp, c0);
              v128.store(yp, c1, 16);
              v128.store(yp, c2, 32);
              v128.store(yp, c3, 48);
            }
          }
        }
      }
    }
  }
}

/** e^x for x ≤ 0 (clamped at −87): range reduction by ln 2 and a degree-6 polynomial, ~1 ulp. */
@inline function expNonPositive(x: v128): v128 {
  const v = f32x4.max(x, f32x4.splat(-87.0));
  const n = f32x4.nearest(f32x4.mul(v, f32x4.splat(1.44269504088896341)));
  const r = f32x4.sub(f32x4.sub(v, f32x4.mul(n, f32x4.splat(0.693359375))), f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1.0));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

/**
 * Eval BatchNorm (folded into a per-channel `scale` and `shift`) and ELU, in place on rows `[r0, r1)` of channels
 * `[c0, c1)` (`[C][rows][S]`, frames from `off`): frames `[off, off + valid)` become `elu(v·scale + shift)`, every
 * other frame of the row 0, so that the next layer reads zeros where it pads and nothing computed past the valid
 * frames.
 */
function normElu(a: usize, c0: i32, c1: i32, rows: i32, S: i32, off: i32, valid: i32, scale: usize, shift: usize, r0: i32, r1: i32): void {
  const row = (<usize>S) << 2;
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  for (let c = c0; c < c1; c++) {
    const s = splat(scale + ((<usize>c) << 2));
    const b = splat(shift + ((<usize>c) << 2));
    for (let r = r0; r < r1; r++) {
      const p = a + (<usize>(c * rows + r)) * row;
      for (let t = 0; t < S; t += 4) {
        const q = p + ((<usize>t) << 2);
        const v = f32x4.add(f32x4.mul(v128.load(q), s), b);
        const e = f32x4.sub(expNonPositive(f32x4.min(v, zero)), one);
        let out = v128.bitselect(v, e, f32x4.gt(v, zero));
        // lanes outside [off, off + valid) are zeroed
        const lane = i32x4.add(i32x4.splat(t), i32x4(0, 1, 2, 3));
        const inside = v128.and(i32x4.ge_s(lane, i32x4.splat(off)), i32x4.lt_s(lane, i32x4.splat(off + valid)));
        out = v128.and(out, inside);
        v128.store(q, out);
      }
    }
  }
}

/** The next piece of work: an atomic counter where threads share the memory, a plain one otherwise. */
@inline function nextPiece(counter: usize): i32 {
  if (ASC_FEATURE_THREADS) return atomic.add<i32>(counter, 1);
  const n = load<i32>(counter);
  store<i32>(counter, n + 1);
  return n;
}

/**
 * One conv → BatchNorm → ELU block (see `separableLayer` and `normElu`), in pieces of four output channels × one
 * output row that the calling threads take in turn from `counter` (an i32 the host zeroes), so that a faster thread
 * takes more of them. `scale`/`shift`: `[O]` each.
 */
export function convBlock(
  x: usize,
  I: i32,
  H: i32,
  W: i32,
  S: i32,
  ws: usize,
  wt: usize,
  O: i32,
  kh: i32,
  kw: i32,
  ph: i32,
  pw: i32,
  L: i32,
  y: usize,
  yOff: i32,
  Ho: i32,
  Wo: i32,
  u: usize,
  nU: i32,
  nY: i32,
  scale: usize,
  shift: usize,
  valid: i32,
  counter: usize,
): void {
  const blocks = O >> 2;
  const pieces = blocks * Ho;
  for (let k = nextPiece(counter); k < pieces; k = nextPiece(counter)) {
    const yo = k / blocks;
    const ob = (k % blocks) << 2;
    separableLayer(x, I, H, W, S, ws, wt, kh, kw, ph, pw, L, y, yOff, Ho, Wo, u, nU, nY, ob, ob + 4, yo, yo + 1);
    normElu(y, ob, ob + 4, Ho * Wo, S, yOff, valid, scale, shift, yo * Wo, (yo + 1) * Wo);
  }
}

/**
 * The readout's linear part: `out[n][t] = Σ_r w[n][r] · z[r][t0 + t]` over the `R` rows of the core's output
 * (channel × position), for `N4` neurons (a multiple of 4; w: `[N4/4][R][4]`) and `nT` frames (a multiple of 8).
 * out: `[N4][S]`.
 */
export function readout(z: usize, R: i32, S: i32, t0: i32, w: usize, N4: i32, out: usize, nT: i32): void {
  const row = (<usize>S) << 2;
  for (let nb = 0; nb < N4; nb += 4) {
    for (let t = 0; t < nT; t += 8) {
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      let b0 = f32x4.splat(0);
      let b1 = f32x4.splat(0);
      let b2 = f32x4.splat(0);
      let b3 = f32x4.splat(0);
      let zp = z + ((<usize>(t0 + t)) << 2);
      let wp = w + ((<usize>((nb >> 2) * R)) << 4);
      for (let r = 0; r < R; r++) {
        const x0 = v128.load(zp);
        const x1 = v128.load(zp, 16);
        const w0 = splat(wp);
        const w1 = splat(wp + 4);
        const w2 = splat(wp + 8);
        const w3 = splat(wp + 12);
        a0 = madd(a0, w0, x0);
        b0 = madd(b0, w0, x1);
        a1 = madd(a1, w1, x0);
        b1 = madd(b1, w1, x1);
        a2 = madd(a2, w2, x0);
        b2 = madd(b2, w2, x1);
        a3 = madd(a3, w3, x0);
        b3 = madd(b3, w3, x1);
        zp += row;
        wp += 16;
      }
      const op = out + (<usize>nb) * row + ((<usize>t) << 2);
      v128.store(op, a0);
      v128.store(op, b0, 16);
      v128.store(op + row, a1);
      v128.store(op + row, b1, 16);
      v128.store(op + 2 * row, a2);
      v128.store(op + 2 * row, b2, 16);
      v128.store(op + 3 * row, a3);
      v128.store(op + 3 * row, b3, 16);
    }
  }
}

/**
 * A channels-last stimulus `[T][P][C]` (P = H·W positions) into the time-last rows `[C][P][S]`, frames at
 * `off .. off + T` (the rest of each row is left as the host zeroed it).
 */
export function toTimeLast(src: usize, T: i32, P: i32, C: i32, dst: usize, S: i32, off: i32): void {
  for (let t = 0; t < T; t++) {
    for (let p = 0; p < P; p++) {
      const s = src + ((<usize>((t * P + p) * C)) << 2);
      for (let c = 0; c < C; c++) {
        store<f32>(dst + ((<usize>((c * P + p) * S + off + t)) << 2), load<f32>(s + ((<usize>c) << 2)));
      }
    }
  }
}
