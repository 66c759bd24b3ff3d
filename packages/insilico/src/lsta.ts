import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, type DifferentiableResponseModel } from '@openretina/contracts';
import { PCA } from 'ml-pca';

/** Greyscale or colour images as plain arrays, `[H, W]` row-major with `channels` values per pixel. */
export interface RawImage {
  data: ArrayLike<number>;
  width: number;
  height: number;
  channels: number;
}

/**
 * `load_and_preprocess_images` without the file reading: each image is downsampled by the integer factor
 * `max(1, floor(min(H/targetH, W/targetW)))` (every n-th pixel), centre-cropped to `targetH × targetW`, and its first
 * channel repeated to `nChannels`. Returns `[n, targetH, targetW, nChannels]` channels-last.
 * (OpenRetina stacks the raw PNG arrays, so it needs greyscale images of one size; we take the first channel.)
 */
export function preprocessImages(
  images: readonly RawImage[],
  targetH: number,
  targetW: number,
  nChannels: number,
): { data: Float32Array; shape: [number, number, number, number] } {
  if (images.length === 0) throw new ConfigError('No images to preprocess.');
  const out = new Float32Array(images.length * targetH * targetW * nChannels);
  images.forEach((img, k) => {
    const factor = Math.max(1, Math.trunc(Math.min(img.height / targetH, img.width / targetW)));
    const dh = Math.ceil(img.height / factor);
    const dw = Math.ceil(img.width / factor);
    if (dh < targetH || dw < targetW)
      throw new ShapeError(`Image ${k} (${img.height}×${img.width}) is smaller than ${targetH}×${targetW}.`);
    const sh = Math.floor((dh - targetH) / 2);
    const sw = Math.floor((dw - targetW) / 2);
    for (let i = 0; i < targetH; i++)
      for (let j = 0; j < targetW; j++) {
        const v = img.data[((sh + i) * factor * img.width + (sw + j) * factor) * img.channels]!;
        for (let c = 0; c < nChannels; c++) out[((k * targetH + i) * targetW + j) * nChannels + c] = v;
      }
  });
  return { data: out, shape: [images.length, targetH, targetW, nChannels] };
}

/** `get_model_temporal_padding`: how many frames the model's output is shorter than a 100-frame input. */
export function getModelTemporalPadding(model: DifferentiableResponseModel, session?: string): number {
  return tf.tidy(() => {
    const x = tf.zeros(model.stimulusShape(100)) as tf.Tensor5D;
    return 100 - model.forward(x, session === undefined ? {} : { session }).shape[1];
  });
}

export interface PrepareMoviesOptions {
  nImageFrames?: number;
  /** `(x − mean)/std` for every channel (OpenRetina reads these from `data_info["movie_norm_dict"]`); omit to skip. */
  normalization?: { mean: number; std: number };
}

/**
 * `prepare_movies_dataset`: each image `[H, W, C]` becomes a movie of `nEmpty + nImageFrames` frames, where
 * `nEmpty = temporal padding + 10`; after optional normalisation the first `nEmpty` frames are set to the mean of all
 * movies. Returns `[n, T, H, W, C]` data and `nEmpty`.
 */
export function prepareMoviesDataset(
  model: DifferentiableResponseModel,
  images: { data: Float32Array; shape: readonly [number, number, number, number] },
  options: PrepareMoviesOptions & { session?: string } = {},
): { movies: Float32Array; shape: [number, number, number, number, number]; nEmptyFrames: number } {
  const [n, h, w, c] = images.shape;
  const nEmpty = getModelTemporalPadding(model, options.session) + 10;
  const frames = nEmpty + (options.nImageFrames ?? 16);
  const plane = h * w * c;
  const movies = new Float32Array(n * frames * plane);
  for (let k = 0; k < n; k++) {
    const img = images.data.subarray(k * plane, (k + 1) * plane);
    for (let t = 0; t < frames; t++) movies.set(img, (k * frames + t) * plane);
  }
  const norm = options.normalization;
  if (norm) for (let i = 0; i < movies.length; i++) movies[i] = (movies[i]! - norm.mean) / norm.std;
  let mean = 0;
  for (const v of movies) mean += v;
  mean /= movies.length;
  for (let k = 0; k < n; k++) movies.fill(mean, k * frames * plane, (k * frames + nEmpty) * plane);
  return { movies, shape: [n, frames, h, w, c], nEmptyFrames: nEmpty };
}

export interface LstaOptions {
  session?: string;
  batchSize?: number;
  /** Output frames `[start, end)` whose responses are summed (default `[5, 15)`). */
  integrationWindow?: readonly [number, number];
}

/**
 * `compute_lsta_library`: for each movie, `∂/∂movie Σ_{t∈window} response[t, cell]`, averaged over **all** frames of
 * the movie (as OpenRetina does) → LSTAs `[n, H, W, C]`; plus the responses `[n, T_out, N]`.
 */
export function computeLstaLibrary(
  model: DifferentiableResponseModel,
  movies: tf.Tensor5D,
  cellId: number,
  options: LstaOptions = {},
): { lsta: Float32Array; lstaShape: [number, number, number, number]; responses: Float32Array; responseShape: [number, number, number] } {
  const [n, , h, w, c] = movies.shape;
  const batch = options.batchSize ?? 64;
  const [w0, w1] = options.integrationWindow ?? [5, 15];
  const lsta = new Float32Array(n * h * w * c);
  const responseParts: Float32Array[] = [];
  let responseShape: [number, number, number] = [n, 0, 0];
  for (let i = 0; i < n; i += batch) {
    const size = Math.min(batch, n - i);
    const { l, r, rs } = tf.tidy(() => {
      const x = tf.slice(movies, [i, 0, 0, 0, 0], [size, -1, -1, -1, -1]);
      let outShape: number[] = [];
      let outData: Float32Array = new Float32Array(0);
      const g = tf.grad((m: tf.Tensor) => {
        const out = model.forward(m as tf.Tensor5D, options.session === undefined ? {} : { session: options.session });
        const nCells = out.shape[2];
        if (!(cellId >= 0 && cellId < nCells)) throw new ConfigError(`cell_id ${cellId} is out of bounds (number of cells: ${nCells}).`);
        outShape = out.shape;
        outData = Float32Array.from(out.dataSync());
        const end = Math.min(w1, out.shape[1]);
        const start = Math.min(w0, end);
        return tf.sum(tf.slice(out, [0, start, cellId], [-1, end - start, 1]));
      })(x);
      return { l: Float32Array.from(tf.mean(g, 1).dataSync()), r: outData, rs: outShape };
    });
    lsta.set(l, i * h * w * c);
    responseParts.push(r);
    responseShape = [n, rs[1]!, rs[2]!];
  }
  const responses = new Float32Array(responseParts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of responseParts) {
    responses.set(p, off);
    off += p.length;
  }
  return { lsta, lstaShape: [n, h, w, c], responses, responseShape };
}

export interface PcResult {
  pc1: Float64Array;
  pc2: Float64Array;
  /** Explained variance ratios of the two components. */
  explainedVariance: [number, number];
}

/**
 * `get_pc_from_pca`: PCA (centred, 2 components, ml-pca) of one channel of the LSTAs `[n, H, W, C]`, each flattened to
 * `H·W`. Component signs follow scikit-learn ≥ 1.5 (`svd_flip` on the components: the largest-|value| entry is positive).
 */
export function getPcFromPca(lsta: Float32Array, shape: readonly [number, number, number, number], channel: number): PcResult {
  const [n, h, w, c] = shape;
  if (n < 2) throw new ConfigError(`PCA needs at least 2 LSTAs, got ${n}.`);
  const rows: number[][] = [];
  for (let k = 0; k < n; k++) rows.push(Array.from({ length: h * w }, (_, p) => lsta[(k * h * w + p) * c + channel]!));
  const pca = new PCA(rows, { center: true, scale: false });
  const vectors = pca.getEigenvectors();
  const ratios = pca.getExplainedVariance();
  const comp = (j: number): Float64Array => {
    const v = Float64Array.from(vectors.getColumn(j));
    let best = 0;
    for (let i = 1; i < v.length; i++) if (Math.abs(v[i]!) > Math.abs(v[best]!)) best = i;
    if (v[best]! < 0) v.forEach((x, i) => (v[i] = -x));
    return v;
  };
  return { pc1: comp(0), pc2: comp(1), explainedVariance: [ratios[0] ?? 0, ratios[1] ?? 0] };
}

/** `get_images_coordinate`: each flattened image projected on PC1 and PC2 → `[n][2]`. */
export function getImagesCoordinate(
  images: ArrayLike<number>,
  n: number,
  pc1: ArrayLike<number>,
  pc2: ArrayLike<number>,
): [number, number][] {
  const d = pc1.length;
  if (images.length !== n * d) throw new ShapeError(`${images.length} values are not ${n} images of ${d} pixels.`);
  return Array.from({ length: n }, (_, k) => {
    let a = 0;
    let b = 0;
    for (let p = 0; p < d; p++) {
      a += images[k * d + p]! * pc1[p]!;
      b += images[k * d + p]! * pc2[p]!;
    }
    return [a, b];
  });
}

export interface BinnedVectorField {
  /** Arrow tails: binned mean images projected on PC1/PC2. */
  tails: [number, number][];
  /** Arrow directions: binned mean LSTAs projected on PC1/PC2. */
  heads: [number, number][];
  /** Bin centres in PC space. */
  binCenters: [number, number][];
  /** Mean response per bin, when responses were given. */
  responses?: number[];
}

/**
 * The data of `plot_clean_vectorfield`: images are binned by their PC coordinates (`xBins × yBins` equal bins between
 * the min and max, `numpy.digitize` semantics: the maximum falls outside the last bin and is dropped), and the mean
 * image, LSTA (one channel) and response of each non-empty bin are projected on PC1/PC2.
 */
export function binnedVectorField(
  lsta: Float32Array,
  lstaShape: readonly [number, number, number, number],
  channel: number,
  images: ArrayLike<number>,
  coordinates: readonly (readonly [number, number])[],
  pcs: { pc1: ArrayLike<number>; pc2: ArrayLike<number> },
  options: { xBins?: number; yBins?: number; responses?: ArrayLike<number> } = {},
): BinnedVectorField {
  const [n, h, w, c] = lstaShape;
  const d = h * w;
  const xBins = options.xBins ?? 31;
  const yBins = options.yBins ?? 31;
  const xs = coordinates.map((p) => p[0]);
  const ys = coordinates.map((p) => p[1]);
  const edges = (v: number[], bins: number) => {
    const lo = Math.min(...v);
    const hi = Math.max(...v);
    return Array.from({ length: bins + 1 }, (_, i) => (bins === 0 ? lo : lo + ((hi - lo) * i) / bins));
  };
  const xe = edges(xs, xBins);
  const ye = edges(ys, yBins);
  const digitize = (v: number, e: number[]) => {
    let k = 0;
    while (k < e.length && v >= e[k]!) k++;
    return k - 1;
  };
  const sums = new Map<number, { img: Float64Array; lsta: Float64Array; resp: number; count: number }>();
  for (let k = 0; k < n; k++) {
    const xi = digitize(xs[k]!, xe);
    const yi = digitize(ys[k]!, ye);
    if (xi < 0 || xi >= xBins || yi < 0 || yi >= yBins) continue;
    const key = xi * yBins + yi;
    let s = sums.get(key);
    if (!s) {
      s = { img: new Float64Array(d), lsta: new Float64Array(d), resp: 0, count: 0 };
      sums.set(key, s);
    }
    for (let p = 0; p < d; p++) {
      s.img[p]! += images[k * d + p]!;
      s.lsta[p]! += lsta[(k * d + p) * c + channel]!;
    }
    if (options.responses) s.resp += options.responses[k]!;
    s.count++;
  }
  if (sums.size === 0) throw new ConfigError('No images found in coordinate bins. Try adjusting bin size or coordinate range.');
  const out: BinnedVectorField = { tails: [], heads: [], binCenters: [], ...(options.responses ? { responses: [] } : {}) };
  const project = (v: Float64Array): [number, number] => {
    let a = 0;
    let b = 0;
    for (let p = 0; p < d; p++) {
      a += v[p]! * pcs.pc1[p]!;
      b += v[p]! * pcs.pc2[p]!;
    }
    return [a, b];
  };
  for (const key of [...sums.keys()].sort((a, b) => a - b)) {
    const s = sums.get(key)!;
    const xi = Math.floor(key / yBins);
    const yi = key % yBins;
    out.tails.push(project(s.img.map((v) => v / s.count)));
    out.heads.push(project(s.lsta.map((v) => v / s.count)));
    out.binCenters.push([0.5 * (xe[xi]! + xe[xi + 1]!), 0.5 * (ye[yi]! + ye[yi + 1]!)]);
    out.responses?.push(s.resp / s.count);
  }
  return out;
}
