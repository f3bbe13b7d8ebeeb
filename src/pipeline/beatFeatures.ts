import { ConfigError } from '../errors.js';
import type { BeatWindow } from '../types.js';
import { RR_FEATURE_COUNT, RR_FEATURE_NAMES, rrFeatureVector } from './rrFeatures.js';

/**
 * The feature vector joined to the window before the classifier head: the RR features (rrFeatures.ts), then the
 * comparison with the stream's usual beat (compareToTemplate.ts). Built by these functions for the training set and
 * for the live stream alike. A model's manifest lists the names it was trained on; `featureColumns` selects those, so
 * a model trained on fewer features (RR only) still runs on a stream or a dataset that makes more.
 */
export const TEMPLATE_FEATURE_NAMES = [
  'templateQrsCorrelation', 'templatePCorrelation', 'templateTCorrelation', 'templateQrsAmplitudeRatio', 'templateQrsResidual',
] as const;

export const BEAT_FEATURE_NAMES = [...RR_FEATURE_NAMES, ...TEMPLATE_FEATURE_NAMES] as const;
export const BEAT_FEATURE_COUNT = BEAT_FEATURE_NAMES.length;

/** Named groups of features, for `train --features`. */
export const FEATURE_GROUPS: Record<string, readonly string[]> = { rr: RR_FEATURE_NAMES, template: TEMPLATE_FEATURE_NAMES };

/** Writes all BEAT_FEATURE_NAMES of one beat into `out` at `offset`; template features are NaN if the beat has none. */
export function beatFeatureVector(beat: Pick<BeatWindow, 'rr' | 'template'>, out = new Float32Array(BEAT_FEATURE_COUNT), offset = 0): Float32Array {
  rrFeatureVector(beat.rr, out, offset);
  const t = beat.template;
  const o = offset + RR_FEATURE_COUNT;
  out[o] = t?.qrsCorrelation ?? NaN;
  out[o + 1] = t?.pCorrelation ?? NaN;
  out[o + 2] = t?.tCorrelation ?? NaN;
  out[o + 3] = t?.qrsAmplitudeRatio ?? NaN;
  out[o + 4] = t?.qrsResidual ?? NaN;
  return out;
}

/**
 * Column indices of `wanted` within `available` (feature names), for copying a model's features out of rows with more
 * columns; a name that is not available is an error naming both lists.
 */
export function featureColumns(available: readonly string[], wanted: readonly string[], what = 'features'): number[] {
  return wanted.map((name) => {
    const k = available.indexOf(name);
    if (k < 0) throw new ConfigError('ECG_ERR_BAD_OPTION', `${what}: the model needs feature "${name}", which is not among ${available.join(', ') || '(none)'}`);
    return k;
  });
}

/**
 * Copies rows `indices[from..to)` of `rows` (each `rowLength` wide: a window, a feature row) into a new array, in
 * that order: a batch of beats out of a dataset's arrays.
 */
export function selectRows(rows: Float32Array, rowLength: number, indices: ArrayLike<number>, from = 0, to = indices.length): Float32Array {
  const out = new Float32Array((to - from) * rowLength);
  for (let k = 0; k < to - from; k++) {
    const i = indices[from + k];
    out.set(rows.subarray(i * rowLength, (i + 1) * rowLength), k * rowLength);
  }
  return out;
}

/** Copies the `columns` of each `from`-wide row of `rows` into a new array of `columns.length`-wide rows. */
export function selectColumns(rows: Float32Array, from: number, columns: readonly number[]): Float32Array {
  const n = from > 0 ? rows.length / from : 0;
  const out = new Float32Array(n * columns.length);
  for (let i = 0; i < n; i++) for (let c = 0; c < columns.length; c++) out[i * columns.length + c] = rows[i * from + columns[c]];
  return out;
}
