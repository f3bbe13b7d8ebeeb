import { describe, expect, it } from 'vitest';
import { median, quantile } from '../src/quantile.js';

describe('quantile and median', () => {
  it('interpolates between order statistics as R type 7 (numpy\'s default) does', () => {
    const sorted = [1, 2, 3, 4];
    expect(quantile(sorted, 0)).toBe(1);
    expect(quantile(sorted, 1)).toBe(4);
    expect(quantile(sorted, 0.5)).toBe(2.5);
    expect(quantile(sorted, 0.25)).toBeCloseTo(1.75, 12); // numpy.quantile([1, 2, 3, 4], 0.25)
    expect(quantile([7], 0.9)).toBe(7);
  });

  it('takes the median of unsorted values without sorting them in place', () => {
    const values = [5, 1, 4, 2, 3];
    expect(median(values)).toBe(3);
    expect(values).toEqual([5, 1, 4, 2, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
