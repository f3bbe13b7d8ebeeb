import { describe, expect, it } from 'vitest';
import { RR_FEATURE_NAMES, rrFeaturesFromRow, rrFeatureVector } from '../../src/pipeline/rrFeatures.js';
import type { RrFeatures } from '../../src/types.js';

const rr: RrFeatures = { previousRrMs: 600, nextRrMs: 1100, localMeanRrMs: 800, recordMeanRrMs: 850, localVariationRrMs: 120 };

describe('rrFeatureVector', () => {
  it('writes intervals in seconds and the ratios, at an offset', () => {
    const out = rrFeatureVector(rr, new Float32Array(RR_FEATURE_NAMES.length + 2), 2);
    expect(Array.from(out.subarray(0, 2))).toEqual([0, 0]);
    const expected = [0.6, 1.1, 0.8, 0.85, 600 / 800, 1100 / 800, 600 / 1100, 800 / 850, 120 / 800];
    Array.from(out.subarray(2)).forEach((v, k) => expect(v).toBeCloseTo(expected[k], 6));
  });

  it('gives ratio 1 where the denominator is not positive', () => {
    const out = rrFeatureVector({ ...rr, localMeanRrMs: 0, nextRrMs: 0 });
    expect(out[RR_FEATURE_NAMES.indexOf('previousOverLocal')]).toBe(1);
    expect(out[RR_FEATURE_NAMES.indexOf('previousOverNext')]).toBe(1);
  });
});

describe('rrFeaturesFromRow', () => {
  it('reads the intervals back from a stored row, whatever the column order', () => {
    const names = ['templateQrsCorrelation', ...[...RR_FEATURE_NAMES].reverse()];
    const vector = rrFeatureVector(rr);
    const row = Float32Array.from(names.map((name) => (name.startsWith('template') ? 0.5 : vector[RR_FEATURE_NAMES.indexOf(name as never)])));
    const back = rrFeaturesFromRow(row, names)!;
    for (const key of Object.keys(rr) as (keyof RrFeatures)[]) expect(back[key]).toBeCloseTo(rr[key], 3);
  });

  it('is undefined for a row without every RR column', () => {
    expect(rrFeaturesFromRow(new Float32Array(8), RR_FEATURE_NAMES.slice(0, 8))).toBeUndefined();
  });
});
