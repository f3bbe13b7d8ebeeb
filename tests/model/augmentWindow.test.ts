import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/dataset/seededRandom.js';
import { augmentWindow } from '../../src/model/train.js';

const L = 360;
const CENTRE = 180;
/** A Gaussian QRS-like bump of sd `width` samples at the R-peak, plus a ramp so that shifts and stretches show. */
const bump = (x: number, width = 8) => Math.exp(-0.5 * ((x - CENTRE) / width) ** 2) + 0.001 * x;
const window = Float32Array.from({ length: L }, (_, j) => bump(j));

describe('augmentWindow', () => {
  it('without a stretch, draws and writes exactly what the augmentation did before stretching existed', () => {
    const a = { amplitude: 0.2, shiftSamples: 5, noise: 0.03 };
    const out = new Float32Array(L);
    augmentWindow(window, out, CENTRE, a, new SeededRandom(42));
    // The earlier code, written out: gain, shift, then two draws per sample for the noise.
    const rng = new SeededRandom(42);
    const gain = 1 + a.amplitude * (2 * rng.next() - 1);
    const shift = Math.round(a.shiftSamples * (2 * rng.next() - 1));
    const expected = new Float32Array(L);
    for (let j = 0; j < L; j++) {
      const g = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
      expected[j] = window[Math.min(L - 1, Math.max(0, j - shift))] * gain + a.noise * g;
    }
    expect(out).toEqual(expected);
    const after = new SeededRandom(42);
    for (let k = 0; k < 2 + 2 * L; k++) after.next();
    expect(after.next()).toBe(rng.next()); // the same number of draws
  });

  it('stretches about the R-peak: the peak stays, the width scales by the drawn factor', () => {
    const out = new Float32Array(L);
    augmentWindow(window, out, CENTRE, { amplitude: 0, shiftSamples: 0, noise: 0, stretch: 0.1 }, new SeededRandom(7));
    const rng = new SeededRandom(7);
    rng.next(); rng.next();
    const scale = 1 + 0.1 * (2 * rng.next() - 1);
    expect(Math.abs(scale - 1)).toBeGreaterThan(0.01);
    // out(j) = window(CENTRE + (j - CENTRE) / scale), linearly interpolated.
    for (let j = 100; j < 260; j++) expect(out[j]).toBeCloseTo(bump(CENTRE + (j - CENTRE) / scale), 2);
    expect(out[CENTRE]).toBeCloseTo(window[CENTRE], 6);
    const halfWidth = (x: Float32Array) => x.filter((v, j) => v - 0.001 * j > 0.5).length;
    expect(halfWidth(out) / halfWidth(window)).toBeCloseTo(scale, 1);
  });

  it('draws a different stretch for each window, within the asked range', () => {
    const rng = new SeededRandom(3);
    const widths = Array.from({ length: 20 }, () => {
      const out = new Float32Array(L);
      augmentWindow(window, out, CENTRE, { amplitude: 0, shiftSamples: 0, noise: 0, stretch: 0.2 }, rng);
      return out.filter((v, j) => v - 0.001 * j > 0.5).length / window.filter((v, j) => v - 0.001 * j > 0.5).length;
    });
    expect(new Set(widths).size).toBeGreaterThan(3);
    expect(Math.min(...widths)).toBeGreaterThanOrEqual(0.75);
    expect(Math.max(...widths)).toBeLessThanOrEqual(1.25);
  });
});
