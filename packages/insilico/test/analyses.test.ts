import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import {
  IncreaseObjective,
  MeanReducer,
  MeiAcrossContrasts,
  binnedVectorField,
  computeLstaLibrary,
  contrastGradient,
  equalizeChannels,
  getGradientGrid,
  getImagesCoordinate,
  getPcFromPca,
  gradientGridSvg,
  prepareMoviesDataset,
  preprocessImages,
  stimulusComposition,
  stimulusCompositionSvg,
  stimulusFrameSvgs,
  stimulusFrames,
  objectiveCurveSvg,
  vectorFieldSvg,
  videoFromChannelsFirst,
  videoFromTensor,
  videoToChannelsFirst,
  type Video,
} from '../src/index.js';
import { getModelTemporalPadding } from '../src/lsta.js';
import { numpyArange } from '../src/tuning.js';
import { stimulusCompositionPng, stimulusToGif } from '../src/node.js';
import { REPO_ROOT } from '@openretina/test-utils/fixtures';
import { IdentityModel } from './fake-model.js';
import { readGifInfo } from '@openretina/test-utils/gif';

const pcaRef = JSON.parse(readFileSync(join(REPO_ROOT, 'fixtures', 'insilico', 'pca.json'), 'utf8')) as {
  shape: [number, number, number, number];
  lsta: number[];
  pc1: number[];
  pc2: number[];
  explained_variance_ratio: number[];
  images: number[];
  coords: number[][];
  arange_lengths: Record<string, number>;
};

function testVideo(t = 20, h = 6, w = 5, c = 2): Video {
  const data = new Float32Array(t * h * w * c);
  for (let f = 0; f < t; f++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let k = 0; k < c; k++) {
          const space = Math.exp(-((i - 3) ** 2 + (j - 2) ** 2) / 3) * (k === 0 ? 1 : -0.5);
          data[((f * h + i) * w + j) * c + k] = space * Math.sin(f / 3 + k) + 0.01 * Math.cos(i * 7 + j * 3 + f);
        }
  return { data, shape: [t, h, w, c] };
}

describe('stimulus outputs', () => {
  it('layout helpers round-trip between (C, T, H, W) and channels-last', () => {
    const v = testVideo(3, 2, 2, 2);
    const first = videoToChannelsFirst(v);
    expect(Array.from(videoFromChannelsFirst(first, [1, 2, 3, 2, 2]).data)).toEqual(Array.from(v.data));
    const t = tf.tensor5d(v.data, [1, 3, 2, 2, 2]);
    expect(Array.from(videoFromTensor(t).data)).toEqual(Array.from(v.data));
    t.dispose();
  });
  it('composition: rank-1 maps per channel, positive centre, spectra up to Nyquist', () => {
    const comp = stimulusComposition(testVideo(20, 10, 9));
    expect(comp.names).toEqual(['Green', 'UV']);
    expect(comp.spatial[0]!.length).toBe(90);
    expect(Math.max(...comp.spatial[0]!.map(Math.abs))).toBeCloseTo(1, 10);
    expect(comp.spatial[1]![3 * 9 + 2]!).toBeGreaterThan(0); // sign flipped so the centre window is positive
    expect(comp.frequencies[0]!.length).toBe(10);
    expect(comp.time[19]).toBeCloseTo(20 / 30, 12);
  });
  it('SVG and PNG figures: the same figure with its words (title, axis labels, colour scale, scale bar)', () => {
    const svg = stimulusCompositionSvg(testVideo(), { highlight: [[5, 9]], title: 'session_2 · neuron 7', subtitle: 'converged' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<path [^>]*data-points/g)!.length).toBe(4); // 2 traces + 2 spectra
    for (const words of ['Weighted frequency', '50 µm', 'session_2 · neuron 7', 'Time [s]', 'Frequency [Hz]', 'Spatial component: UV'])
      expect(svg).toContain(words);
    expect(svg).toContain('<linearGradient'); // the colour bar of the spatial maps
    const png = decode(stimulusCompositionPng(testVideo(), { highlight: [[5, 9]], title: 'neuron 7' }));
    expect([png.width, png.height, png.channels]).toEqual([960, 640, 4]);
    // the title is drawn: dark pixels in the title band, centred
    let ink = 0;
    for (let y = 0; y < 26; y++) for (let x = 380; x < 580; x++) if (png.data[(y * 960 + x) * 4]! < 100) ink++;
    expect(ink).toBeGreaterThan(40);
  });
  it('objective curve', () => {
    const svg = objectiveCurveSvg([0.1, 0.2, 0.25], { title: 'MEI objective', converged: false, maxIterations: 3 });
    expect(svg).toContain('0.1000 → 0.2500 after 3 steps (+150.0 %) · NOT converged');
    expect(svg).toMatch(/<path [^>]*data-points="3"/);
  });
  it('frames and GIF: min-max to uint8, 2 channels → green/red, frame count and size', () => {
    const v = testVideo(7, 3, 4, 2);
    const { width, height, frames } = stimulusFrames(v, { scale: 2, startAtFrame: 2 });
    expect([width, height, frames.length]).toEqual([8, 6, 5]);
    expect(frames[0]![2]).toBe(0); // blue plane empty for 2 channels
    // labelled frames: the picture under a strip with the title and the frame index
    const svgs = stimulusFrameSvgs(v, { scale: 3, title: 'session_1 · neuron 2', highlight: [[3, 4]] });
    expect(svgs.length).toBe(7);
    expect(svgs[3]).toContain('frame 4/7 · 0.6 s · objective window');
    expect(svgs[0]).toContain('session_1 · neuron 2');
    const gif = readGifInfo(stimulusToGif(v, { scale: 3, title: 'session_1 · neuron 2' }));
    expect(gif).toEqual({ width: 12, height: 9 + 44, frames: 7 });
  });
});

describe('tuning analyses', () => {
  it('numpy.arange lengths match numpy (incl. the 1 + step end)', () => {
    for (const [s, n] of Object.entries(pcaRef.arange_lengths)) expect(numpyArange(-1, 1 + Number(s), Number(s)).length).toBe(n);
  });
  it('MeiAcrossContrasts scales channels; gradients, grid and norms', () => {
    const model = new IdentityModel(2);
    const stim = tf.tensor5d([1, 2, 3, 4, 5, 6], [1, 3, 1, 1, 2]);
    // objective = mean_t (c0·s0 + c1·s1)/2 → ∂/∂c0 = mean(s0)/2 = 1.5, ∂/∂c1 = mean(s1)/2 = 2
    const obj = new IncreaseObjective(model, [0, 1], undefined, new MeanReducer());
    const gen = new MeiAcrossContrasts([0.5, -1], stim);
    expect(Array.from(gen.forward().dataSync())).toEqual([0.5, -2, 1.5, -4, 2.5, -6]);
    const { gradient, response } = contrastGradient(gen, obj);
    expect(Array.from(gradient)).toEqual([1.5, 2]);
    expect(response).toBeCloseTo((0.5 * 3 - 4) / 2, 6);
    gen.dispose();
    const before = tf.memory().numTensors;
    const g = getGradientGrid(stim, obj, { stepSize: 0.5 });
    expect(tf.memory().numTensors).toBe(before);
    expect(g.greenContrastValues).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(g.grid[0][2]![4]).toBeCloseTo(1.5, 6);
    expect(g.normGrid[0]![0]).toBeCloseTo(2.5, 6);
    expect(g.respGrid[4]![0]).toBeCloseTo((3 - 4) / 2, 6);
    expect(gradientGridSvg(g)).toContain('Green contrast');
    stim.dispose();
  });
  it('equalizeChannels: equal channel norms, total norm kept, optional green flip', () => {
    const stim = tf.tensor5d([3, 0.1, 4, 0.2, 0, 0.3], [1, 3, 1, 1, 2]);
    const eq = equalizeChannels(stim, true);
    const d = eq.dataSync();
    const n0 = Math.hypot(d[0]!, d[2]!, d[4]!);
    const n1 = Math.hypot(d[1]!, d[3]!, d[5]!);
    expect(n0).toBeCloseTo(n1, 5);
    expect(Math.hypot(...d)).toBeCloseTo(tf.norm(stim).dataSync()[0]!, 5);
    expect(d[0]!).toBeLessThan(0);
    tf.dispose([stim, eq]);
  });
});

describe('LSTA vector-field analysis', () => {
  it('image preprocessing: integer downsampling, centre crop, channel repeat', () => {
    const img = { data: Float32Array.from({ length: 8 * 10 }, (_, i) => i), width: 10, height: 8, channels: 1 };
    const { data, shape } = preprocessImages([img], 3, 4, 2);
    expect(shape).toEqual([1, 3, 4, 2]);
    // factor 2 → 4×5 image (rows 0,2,4,6; cols 0,2,4,6,8), crop rows [0,3), cols [0,4)
    expect(data[0]).toBe(0);
    expect(data[2]).toBe(2);
    expect(data[4 * 2]).toBe(20);
    expect(data[1]).toBe(0);
  });
  it('movies, temporal padding and LSTAs (identity model: gradient = window indicator)', () => {
    const model = new IdentityModel(2);
    expect(getModelTemporalPadding(model)).toBe(0);
    const images = { data: Float32Array.from([1, 2, 3, 4]), shape: [2, 1, 1, 2] as const };
    const { movies, shape, nEmptyFrames } = prepareMoviesDataset(model, images, { nImageFrames: 6, normalization: { mean: 1, std: 2 } });
    expect(nEmptyFrames).toBe(10);
    expect(shape).toEqual([2, 16, 1, 1, 2]);
    const mean = ((1 - 1) / 2 + (2 - 1) / 2 + (3 - 1) / 2 + (4 - 1) / 2) / 4;
    expect(movies[0]).toBeCloseTo(mean, 6);
    expect(movies[15 * 2]).toBeCloseTo(0, 6);
    const x = tf.tensor5d(movies, shape);
    const before = tf.memory().numTensors;
    const r = computeLstaLibrary(model, x, 1, { batchSize: 1, integrationWindow: [2, 6] });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.lstaShape).toEqual([2, 1, 1, 2]);
    expect(Array.from(r.lsta)).toEqual([0, 4 / 16, 0, 4 / 16]);
    expect(r.responseShape).toEqual([2, 16, 2]);
    expect(() => computeLstaLibrary(model, x, 5)).toThrow(/out of bounds/);
    x.dispose();
  });
  it('PCA matches the numpy reference; projections and binned field', () => {
    const { pc1, pc2, explainedVariance } = getPcFromPca(Float32Array.from(pcaRef.lsta), pcaRef.shape, 0);
    pcaRef.pc1.forEach((v, i) => expect(pc1[i]!).toBeCloseTo(v, 5));
    pcaRef.pc2.forEach((v, i) => expect(pc2[i]!).toBeCloseTo(v, 5));
    expect(explainedVariance[0]).toBeCloseTo(pcaRef.explained_variance_ratio[0]!, 5);
    expect(explainedVariance[1]).toBeCloseTo(pcaRef.explained_variance_ratio[1]!, 5);
    const n = pcaRef.shape[0];
    const coords = getImagesCoordinate(pcaRef.images, n, pc1, pc2);
    coords.forEach(([a, b], k) => {
      expect(a).toBeCloseTo(pcaRef.coords[k]![0]!, 5);
      expect(b).toBeCloseTo(pcaRef.coords[k]![1]!, 5);
    });
    const responses = Array.from({ length: n }, (_, k) => k);
    const field = binnedVectorField(
      Float32Array.from(pcaRef.lsta),
      pcaRef.shape,
      0,
      pcaRef.images,
      coords,
      { pc1, pc2 },
      { xBins: 3, yBins: 3, responses },
    );
    // numpy.digitize drops points on the max edge: every image but the extreme ones lands in a bin
    const placed = field.tails.length;
    expect(placed).toBeGreaterThan(0);
    expect(placed).toBeLessThanOrEqual(9);
    expect(field.responses!.length).toBe(placed);
    const svg = vectorFieldSvg(field, { pcs: { pc1, pc2, height: 4, width: 5, explainedVariance } });
    expect(svg.match(/<polygon/g)!.length).toBe(placed + 2);
    expect(svg).toContain('PC1 (77.2%)');
  });
  it('binning on a hand-made case', () => {
    const lsta = Float32Array.from([1, 0, 3, 0, 5, 0]); // 3 LSTAs of 1 pixel, 2 channels
    const images = [10, 20, 30];
    const coords: [number, number][] = [
      [0, 0],
      [0.2, 0],
      [1, 1],
    ];
    const f = binnedVectorField(lsta, [3, 1, 1, 2], 0, images, coords, { pc1: [1], pc2: [2] }, { xBins: 2, yBins: 2 });
    // [1,1] is on the max edge → dropped; the other two share bin (0, 0)
    expect(f.tails).toEqual([[15, 30]]);
    expect(f.heads).toEqual([[2, 4]]);
    expect(f.binCenters).toEqual([[0.25, 0.25]]);
  });
});
