import { describe, expect, it } from 'vitest';
import { SeededRandom, seededRandom, shuffleInPlace } from '../../src/dataset/seededRandom.js';

describe('seeded random numbers (mulberry32)', () => {
  it('gives the reference C mulberry32 outputs from state 0, scaled to [0, 1)', () => {
    const random = seededRandom(0);
    const first = [random(), random(), random()].map((x) => Math.round(x * 4294967296));
    // The reference C mulberry32 (uint32 arithmetic), run by hand in Python from state 0, gives these three outputs.
    expect(first).toEqual([1144304738, 1416247, 958946056]);
    for (let i = 0; i < 1000; i++) {
      const x = random();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });

  it('SeededRandom is the same generator, and a stored state continues the sequence (checkpoints)', () => {
    const a = seededRandom(42);
    const b = new SeededRandom(42);
    for (let i = 0; i < 10; i++) expect(b.next()).toBe(a());
    const resumed = new SeededRandom(b.state);
    expect([resumed.next(), resumed.int(10)]).toEqual([b.next(), b.int(10)]);
  });

  it('normal() is Box-Muller on the next two uniform draws, with mean 0 and variance 1', () => {
    const [a, b] = [new SeededRandom(3), new SeededRandom(3)];
    const [u1, u2] = [b.next(), b.next()];
    expect(a.normal()).toBe(Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
    expect(a.state).toBe(b.state);
    const draws = Array.from({ length: 40_000 }, () => a.normal());
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    const variance = draws.reduce((s, x) => s + (x - mean) ** 2, 0) / (draws.length - 1);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.03);
  });

  it('shuffles as shuffleInPlace does with the same seed', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    expect(new SeededRandom(9).shuffle([...items])).toEqual(shuffleInPlace([...items], seededRandom(9)));
    expect(new SeededRandom(9).shuffle([...items])).not.toEqual(items);
  });
});
