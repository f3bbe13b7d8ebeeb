/**
 * Mixup's draws and blend: Beta(α, α) with the right mean and variance (both Gamma paths), a partner permutation
 * fixed by the seed, and the blend λ x + (1 - λ) x[partner] exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/dataset/seededRandom.js';
import { trySetBackend } from '../../src/model/backend.js';
import { betaSample, gammaSample, mixRows, mixupPlan } from '../../src/model/mixup.js';

const moments = (draws: number[]) => {
  const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
  return { mean, variance: draws.reduce((a, b) => a + (b - mean) ** 2, 0) / (draws.length - 1) };
};

describe('mixup', () => {
  beforeAll(async () => {
    expect(await trySetBackend('wasm')).toBe(true);
  });

  it.each([0.3, 1, 3.5])('Gamma(%s) draws have mean and variance equal to the shape', (shape) => {
    const rng = new SeededRandom(7);
    const { mean, variance } = moments(Array.from({ length: 40_000 }, () => gammaSample(rng, shape)));
    expect(mean).toBeCloseTo(shape, 1);
    expect(variance / shape).toBeGreaterThan(0.95);
    expect(variance / shape).toBeLessThan(1.05);
  });

  it.each([0.2, 0.4, 2])('Beta(%s, %s) draws lie in [0, 1] with mean 1/2 and variance 1 / (4 (2a + 1))', (alpha) => {
    const rng = new SeededRandom(11);
    const draws = Array.from({ length: 40_000 }, () => betaSample(rng, alpha));
    expect(draws.every((d) => d >= 0 && d <= 1)).toBe(true);
    const { mean, variance } = moments(draws);
    expect(mean).toBeCloseTo(0.5, 2);
    expect(variance * 4 * (2 * alpha + 1)).toBeGreaterThan(0.97);
    expect(variance * 4 * (2 * alpha + 1)).toBeLessThan(1.03);
  });

  it('a plan is a permutation of the batch, the same for the same generator state', () => {
    const a = mixupPlan(new SeededRandom(5), 64, 0.2);
    const b = mixupPlan(new SeededRandom(5), 64, 0.2);
    expect(a).toEqual(b);
    expect([...a.partner].sort((x, y) => x - y)).toEqual(Array.from({ length: 64 }, (_, i) => i));
    expect(mixupPlan(new SeededRandom(6), 64, 0.2)).not.toEqual(a);
  });

  it('blends each row with its partner row by lambda', () => {
    const x = tf.tensor3d([[[1], [2]], [[10], [20]], [[100], [200]]]);
    const mixed = mixRows(x, { lambda: 0.75, partner: Int32Array.from([2, 0, 1]) });
    expect(mixed.shape).toEqual([3, 2, 1]);
    expect(Array.from(mixed.dataSync())).toEqual([0.75 * 1 + 0.25 * 100, 0.75 * 2 + 0.25 * 200, 0.75 * 10 + 0.25 * 1, 0.75 * 20 + 0.25 * 2, 0.75 * 100 + 0.25 * 10, 0.75 * 200 + 0.25 * 20]);
  });
});
