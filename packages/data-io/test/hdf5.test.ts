import { copyFileSync, cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  createSyntheticDataset,
  generateSyntheticData,
  loadH5IntoDict,
  readHdf5Dataset,
  writeHdf5Dataset,
  writeHdf5Session,
} from '../src/node.js';
import type { LazyMovie, LazyResponses, Movie, Responses } from '@openretina/contracts';
import { framesOf, isLazy } from '../src/index.js';
import { codedMovie, codedResponses, FIXTURES } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'dataio-h5-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const FIXTURE_OPTS = { seed: 0, numColors: 2, numStimuli: 3, numSessions: 2, clipLength: 1, height: 4, width: 4 };

/** The train part of a dataset below the lazy threshold: in memory. */
function eager<T extends Movie | Responses>(x: T | LazyMovie | LazyResponses): T {
  expect(isLazy(x)).toBe(false);
  return x as T;
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  expect(worst).toBeLessThanOrEqual(tol);
}

describe('generic HDF5 format', () => {
  it('reads the h5py-written fixture; it equals our create-data port with the same seed', async () => {
    const ds = await readHdf5Dataset(`${FIXTURES}generic_hdf5`, { testNames: ['random_noise_2'], stimulusSize: [2, 4, 4] });
    expect(Object.keys(ds.movies)).toEqual(['session_0', 'session_1']);
    const ref = generateSyntheticData(FIXTURE_OPTS);
    for (const s of ['session_0', 'session_1']) {
      const m = ds.movies[s]!;
      const r = ds.responses[s]!;
      expect(m.train.shape).toEqual([70 + 71, 4, 4, 2]);
      expect(m.test.random_noise_2!.shape).toEqual([72, 4, 4, 2]);
      const refTrain = [...ref.stimuli.random_noise_0!.data, ...ref.stimuli.random_noise_1!.data];
      expectClose(eager(m.train).data, refTrain, 0);
      expectClose(m.test.random_noise_2!.data, ref.stimuli.random_noise_2!.data, 0);
      const n = ref.sessions[s]!.responses.random_noise_0!.shape[1];
      expect(r.train.shape).toEqual([141, n]);
      expectClose(
        eager(r.train).data,
        [...ref.sessions[s]!.responses.random_noise_0!.data, ...ref.sessions[s]!.responses.random_noise_1!.data],
        1e-5,
      );
      expectClose(r.test.random_noise_2!.data, ref.sessions[s]!.responses.random_noise_2!.data, 1e-5);
      expect(r.sessionKwargs!.celltypes).toEqual(ref.sessions[s]!.sessionInfo.celltypes);
    }
  });

  it('round-trips a dataset written by createSyntheticDataset', async () => {
    const dir = join(tmp, 'synthetic');
    const created = await createSyntheticDataset(dir, { numColors: 3, numStimuli: 3, numSessions: 2, clipLength: 2, seed: 5 });
    expect(created.sessionNames).toEqual(['session_0', 'session_1']);
    expect(readdirSync(join(dir, 'stimuli')).sort()).toEqual(['random_noise_0.npy', 'random_noise_1.npy', 'random_noise_2.npy']);
    const again = generateSyntheticData({ numColors: 3, numStimuli: 3, numSessions: 2, clipLength: 2, seed: 5 });
    const ds = await readHdf5Dataset(dir, { testNames: ['random_noise_1'] });
    const m = ds.movies.session_1!;
    expect(m.train.shape).toEqual([140 + 144, 16, 8, 3]);
    expectClose(m.test.random_noise_1!.data, again.stimuli.random_noise_1!.data, 0);
    expectClose(ds.responses.session_1!.test.random_noise_1!.data, again.sessions.session_1!.responses.random_noise_1!.data, 0);
    for (const s of created.sessionNames) {
      const n = created.neuronsPerSession[s]!;
      expect(n).toBeGreaterThanOrEqual(10);
      expect(n).toBeLessThan(30);
      expect(ds.responses[s]!.train.shape).toEqual([284, n]);
      expect(ds.responses[s]!.sessionKwargs!.celltypes!.every((v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < 40)).toBe(
        true,
      );
    }
    // deterministic by seed
    const dir2 = join(tmp, 'synthetic2');
    await createSyntheticDataset(dir2, { numColors: 3, numStimuli: 3, numSessions: 2, clipLength: 2, seed: 5 });
    expect(readFileSync(join(dir2, 'stimuli', 'random_noise_0.npy')).equals(readFileSync(join(dir, 'stimuli', 'random_noise_0.npy')))).toBe(
      true,
    );
    // the shared train movie is not duplicated between sessions with the same stimuli
    expect(eager(ds.movies.session_0!.train).data).toBe(eager(ds.movies.session_1!.train).data);
    // no temp files left behind
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes session-specific stimuli, session info and normalises', async () => {
    const dir = join(tmp, 'override');
    await writeHdf5Dataset(dir, {
      stimuli: { a: codedMovie(6, 2, 3, 1), b: codedMovie(4, 2, 3, 1), t: codedMovie(3, 2, 3, 1) },
      sessions: {
        s1: {
          responses: { a: codedResponses(6, 2), b: codedResponses(4, 2), t: codedResponses(3, 2) },
          sessionInfo: { kind: ['on', 'off'], q: [0.5, 1.5] },
        },
        s2: {
          responses: { a: codedResponses(6, 2), t: codedResponses(3, 2) },
          stimuli: { a: { data: new Float32Array(6 * 6).fill(7), shape: [6, 2, 3, 1] } },
        },
      },
      extension: '.h5',
    });
    const ds = await readHdf5Dataset(dir, { testNames: ['t'], normMean: 1, normStd: 2 });
    expect(ds.movies.s1!.train.shape).toEqual([10, 2, 3, 1]);
    expect(eager(ds.movies.s1!.train).data[0]).toBe((0 - 1) / 2);
    expect(ds.movies.s1!.normStd).toBe(2);
    expect(ds.movies.s2!.train.shape).toEqual([6, 2, 3, 1]);
    expect(eager(ds.movies.s2!.train).data[5]).toBe(3);
    expect(ds.responses.s1!.sessionKwargs).toEqual({ kind: ['on', 'off'], q: [0.5, 1.5] });
    expect(eager(ds.responses.s1!.train).data[2 * 6]).toBe(0); // frame 0 of b after the 6 frames of a
    const tree = await loadH5IntoDict(join(dir, 's1.h5'));
    expect(Object.keys(tree).sort()).toEqual(['responses_a', 'responses_b', 'responses_t', 'session_info']);
    expect((tree.responses_a as { shape: number[] }).shape).toEqual([2, 6]);
  });

  it.each([
    ['eager', undefined],
    ['lazy', 0],
  ])('gives clear errors for corrupt, truncated and inconsistent files (%s)', async (mode, lazyThresholdBytes) => {
    const base = join(tmp, `errors-${mode}`);
    const opts = lazyThresholdBytes === undefined ? {} : { lazyThresholdBytes };
    const fresh = (name: string) => {
      const d = join(base, name);
      cpSync(`${FIXTURES}generic_hdf5`, d, { recursive: true });
      return d;
    };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    // truncated
    let d = fresh('truncated');
    const bytes = readFileSync(join(d, 'session_0.hdf5'));
    writeFileSync(join(d, 'session_0.hdf5'), bytes.subarray(0, 2000));
    await expect(readHdf5Dataset(d, { ...opts, testNames: ['random_noise_2'] })).rejects.toThrow(
      /session_0.hdf5: truncated HDF5 file: the superblock says \d+ bytes, the file has 2000/,
    );
    // not HDF5
    d = fresh('garbage');
    writeFileSync(join(d, 'session_1.hdf5'), 'this is not hdf5 at all');
    await expect(readHdf5Dataset(d, { ...opts, testNames: ['random_noise_2'] })).rejects.toThrow(/session_1.hdf5: not an HDF5 file/);
    // wrong stimulus size
    d = fresh('size');
    await expect(readHdf5Dataset(d, { ...opts, testNames: ['random_noise_2'], stimulusSize: [3, 4, 4] })).rejects.toThrow(
      /random_noise_0.npy: stimulus \(C, T, H, W\) \[2, 70, 4, 4\] does not match the stimulus size \[C, H, W\] \[3, 4, 4\]/,
    );
    // truncated .npy stimulus
    d = fresh('truncated-npy');
    const npy = readFileSync(join(d, 'stimuli', 'random_noise_0.npy'));
    writeFileSync(join(d, 'stimuli', 'random_noise_0.npy'), npy.subarray(0, npy.length - 100));
    await expect(readHdf5Dataset(d, { ...opts, testNames: ['random_noise_2'] })).rejects.toThrow(
      /random_noise_0.npy: truncated .npy data: shape \[2, 70, 4, 4\] of "<f8" needs 17920 bytes, found 17820/,
    );
    // missing stimulus
    d = fresh('missing');
    rmSync(join(d, 'stimuli', 'random_noise_1.npy'));
    await expect(readHdf5Dataset(d, { ...opts, testNames: ['random_noise_2'] })).rejects.toThrow(
      /responses "responses_random_noise_1" have no stimulus: neither .*random_noise_1.npy nor a dataset "stimulus_random_noise_1"/,
    );
    // NaN and wrong lengths
    d = join(base, 'nan');
    await writeHdf5Session(join(d, 's.h5'), {
      responses: { a: { data: Float32Array.from([1, 2, NaN, 4]), shape: [2, 2] }, t: codedResponses(2, 2) },
    });
    await writeHdf5Dataset(d, { stimuli: { a: codedMovie(2, 1, 1, 1), t: codedMovie(2, 1, 1, 1) }, sessions: {} });
    await expect(readHdf5Dataset(d, { ...opts, testNames: ['t'] })).rejects.toThrow(
      /s.h5\/responses_a: NaN in the responses \(neuron 0, frame 1\)/,
    );
    const ok = await readHdf5Dataset(d, { ...opts, testNames: ['t'], allowNaN: true });
    expect(ok.lazy).toBe(lazyThresholdBytes === 0);
    expect(Number.isNaN(framesOf(ok.responses.s!.train).toArray()[2])).toBe(true);
    d = join(base, 'len');
    await writeHdf5Dataset(d, {
      stimuli: { a: codedMovie(3, 1, 1, 1), t: codedMovie(2, 1, 1, 1) },
      sessions: { s: { responses: { a: codedResponses(2, 2), t: codedResponses(2, 2) } } },
    });
    await expect(readHdf5Dataset(d, { ...opts, testNames: ['t'] })).rejects.toThrow(
      /responses \(N, T\) \[2, 2\] have 2 frames but stimulus "a" has 3/,
    );
    d = join(base, 'notest');
    await writeHdf5Dataset(d, { stimuli: { a: codedMovie(3, 1, 1, 1) }, sessions: { s: { responses: { a: codedResponses(3, 2) } } } });
    await expect(readHdf5Dataset(d, { ...opts, testNames: ['t'] })).rejects.toThrow(/none of the test names \[t\] has responses/);
    await expect(readHdf5Dataset(join(base, 'nope'), { ...opts, testNames: [] })).rejects.toThrow(/is not a directory/);
    copyFileSync(`${FIXTURES}npy/f4.npy`, join(base, 'x.h5'));
    warn.mockRestore();
  });
});
