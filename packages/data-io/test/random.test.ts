import { describe, expect, it } from 'vitest';
import { MT19937 } from '../src/index.js';
import { drawValidationClips } from '../src/loaders/clip-splits.js';

// Reference values printed by numpy 1.24 (legacy RandomState / np.random.seed).
describe('MT19937 (numpy legacy RandomState parity)', () => {
  it('gives the reference first output for seed 5489', () => {
    expect(new MT19937(5489).nextUint32()).toBe(3499211612);
  });
  it('matches np.random.seed(3) draws: choice, randn, random, randint', () => {
    const r = new MT19937(3);
    expect([0, 1, 2].map(() => 10 + r.randint(0, 20))).toEqual([20, 13, 18]);
    const n = [r.normal(), r.normal(), r.normal()];
    expect(n[0]).toBeCloseTo(0.98055387, 7);
    expect(n[1]).toBeCloseTo(0.02701904, 7);
    expect(n[2]).toBeCloseTo(-0.46004212, 7);
    expect(r.random()).toBeCloseTo(0.45683322, 7);
    expect(r.random()).toBeCloseTo(0.64914405, 7);
    expect(r.randints(0, 15, 4)).toEqual([1, 10, 6, 2]);
  });
  it('draws validation clips like RandomState(seed).choice(n, k, replace=False)', () => {
    expect(drawValidationClips(20, 5, 42)).toEqual([0, 17, 15, 1, 8]);
    expect(drawValidationClips(69, 20, 42)).toEqual([22, 0, 47, 4, 53, 18, 10, 33, 44, 12, 31, 9, 59, 5, 68, 30, 57, 35, 56, 46]);
    expect(drawValidationClips(12, 3, 7)).toEqual([7, 10, 2]);
    expect(() => drawValidationClips(3, 4)).toThrow(/Cannot draw 4 validation clips from 3/);
  });
});
