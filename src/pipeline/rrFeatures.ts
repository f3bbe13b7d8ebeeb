import type { RrFeatures } from '../types.js';

/**
 * The RR feature vector the classifier sees, built the same way for training and for the live stream.
 * Intervals go in seconds (they are about 1, like the other inputs); the ratios carry the prematurity and
 * compensatory-pause information that tells S and V beats from N beats across patients with different heart rates.
 */
export const RR_FEATURE_NAMES = [
  'previousRrS', 'nextRrS', 'localMeanRrS', 'recordMeanRrS',
  'previousOverLocal', 'nextOverLocal', 'previousOverNext', 'localOverRecord', 'localVariationOverLocal',
] as const;

export const RR_FEATURE_COUNT = RR_FEATURE_NAMES.length;

/** Writes the features of one beat into `out` at `offset` (for packing many beats into one array); returns `out`. */
export function rrFeatureVector(rr: RrFeatures, out = new Float32Array(RR_FEATURE_COUNT), offset = 0): Float32Array {
  const ratio = (a: number, b: number): number => (b > 0 ? a / b : 1);
  out[offset] = rr.previousRrMs / 1000;
  out[offset + 1] = rr.nextRrMs / 1000;
  out[offset + 2] = rr.localMeanRrMs / 1000;
  out[offset + 3] = rr.recordMeanRrMs / 1000;
  out[offset + 4] = ratio(rr.previousRrMs, rr.localMeanRrMs);
  out[offset + 5] = ratio(rr.nextRrMs, rr.localMeanRrMs);
  out[offset + 6] = ratio(rr.previousRrMs, rr.nextRrMs);
  out[offset + 7] = ratio(rr.localMeanRrMs, rr.recordMeanRrMs);
  out[offset + 8] = ratio(rr.localVariationRrMs, rr.localMeanRrMs);
  return out;
}

/**
 * The RR intervals back from a stored feature row (a dataset's, whose columns are `featureNames`), for replaying
 * stored beats through rules that read `rr`; undefined when the row lacks an RR column.
 */
export function rrFeaturesFromRow(row: ArrayLike<number>, featureNames: readonly string[]): RrFeatures | undefined {
  const columns = RR_FEATURE_NAMES.map((name) => featureNames.indexOf(name));
  if (columns.some((k) => k < 0)) return undefined;
  const [previousRrS, nextRrS, localMeanRrS, recordMeanRrS, , , , , localVariationOverLocal] = columns.map((k) => row[k]);
  return {
    previousRrMs: previousRrS * 1000, nextRrMs: nextRrS * 1000, localMeanRrMs: localMeanRrS * 1000, recordMeanRrMs: recordMeanRrS * 1000,
    localVariationRrMs: localVariationOverLocal * localMeanRrS * 1000,
  };
}
