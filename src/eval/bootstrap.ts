/**
 * How much an EC57 gross figure depends on which patients happened to be tested: a percentile bootstrap over
 * records. Each draw resamples the test records with replacement, sums their bxb confusion matrices and recomputes
 * the gross statistics, as {@link summarizeBeatClasses} does for the records actually tested.
 *
 * Records, not beats, are the units: the beats of one patient are far from independent (DS2's record 232 alone holds
 * three quarters of its SVEBs), so resampling beats would understate the spread. Resampling the units that were
 * drawn independently is the cluster bootstrap (Davison and Hinkley, "Bootstrap Methods and their Application", 1997).
 */
import { SeededRandom } from '../dataset/seededRandom.js';
import { statsFromMatrix } from './beats.js';
import { addConfusionMatrices, type ConfusionMatrix } from './ec57.js';

/** A percentile interval, in per cent. */
export interface Interval {
  low: number;
  high: number;
}

export interface GrossBootstrap {
  /** Bootstrap draws. */
  iterations: number;
  /** Coverage of each interval, e.g. 0.95. */
  level: number;
  seed: number;
  records: number;
  /** Intervals of the gross figures; absent when fewer than half the draws define the figure (no such beats). */
  veb: { se?: Interval; pp?: Interval };
  sveb: { se?: Interval; pp?: Interval };
}

export interface BootstrapOptions {
  /** Default 2000. */
  iterations?: number;
  /** Default 0.95. */
  level?: number;
  /** Default 1: the same records give the same intervals on every machine. */
  seed?: number;
}

/** The q-quantile (0..1) of sorted values, linear between order statistics (R's type 7). */
function quantile(sorted: readonly number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  return sorted[lo] + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]) - sorted[lo]);
}

/**
 * Percentile intervals of the gross VEB and SVEB Se and +P over patients (see the module comment), from one bxb
 * confusion matrix per test record. A draw in which a figure is undefined (no VEB in the resampled records, say) is
 * left out of that figure's interval.
 */
export function bootstrapGross(perRecord: readonly ConfusionMatrix[], options: BootstrapOptions = {}): GrossBootstrap {
  const { iterations = 2000, level = 0.95, seed = 1 } = options;
  const rng = new SeededRandom(seed);
  const draws = { vebSe: [] as number[], vebPp: [] as number[], svebSe: [] as number[], svebPp: [] as number[] };
  for (let b = 0; b < iterations && perRecord.length > 0; b++) {
    const sample = Array.from({ length: perRecord.length }, () => perRecord[rng.int(perRecord.length)]);
    const { veb, sveb } = statsFromMatrix(addConfusionMatrices(sample));
    if (veb.sePercent !== undefined) draws.vebSe.push(veb.sePercent);
    if (veb.ppPercent !== undefined) draws.vebPp.push(veb.ppPercent);
    if (sveb.sePercent !== undefined) draws.svebSe.push(sveb.sePercent);
    if (sveb.ppPercent !== undefined) draws.svebPp.push(sveb.ppPercent);
  }
  const tail = (1 - level) / 2;
  const interval = (values: number[]): Interval | undefined => {
    if (values.length < iterations / 2) return undefined;
    values.sort((a, b) => a - b);
    return { low: quantile(values, tail), high: quantile(values, 1 - tail) };
  };
  return {
    iterations, level, seed, records: perRecord.length,
    veb: { se: interval(draws.vebSe), pp: interval(draws.vebPp) },
    sveb: { se: interval(draws.svebSe), pp: interval(draws.svebPp) },
  };
}

/** An interval as `low–high` with one decimal, or `-`. */
export function formatInterval(interval: Interval | undefined): string {
  return interval ? `${interval.low.toFixed(1)}–${interval.high.toFixed(1)}` : '-';
}
