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
import { ConfigError } from '../errors.js';
import { quantile } from '../quantile.js';
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

/** The four gross figures the inter-patient targets are set on (literature map), in per cent. */
export interface GrossFigures {
  vebSe: number | undefined;
  vebPp: number | undefined;
  svebSe: number | undefined;
  svebPp: number | undefined;
}

const FIGURES = ['vebSe', 'vebPp', 'svebSe', 'svebPp'] as const;

/** The gross figures of the records' summed bxb matrices. */
export function grossFigures(perRecord: readonly ConfusionMatrix[]): GrossFigures {
  const { veb, sveb } = statsFromMatrix(addConfusionMatrices(perRecord));
  return { vebSe: veb.sePercent, vebPp: veb.ppPercent, svebSe: sveb.sePercent, svebPp: sveb.ppPercent };
}

/**
 * Percentile intervals of `figuresOf` over bootstrap draws of `count` records (indices resampled with replacement). A
 * draw in which a figure is undefined (no VEB in the resampled records, say) is left out of that figure's interval;
 * a figure undefined in more than half the draws gets none.
 */
function percentileIntervals(count: number, options: BootstrapOptions, figuresOf: (records: number[], rng: SeededRandom) => GrossFigures): Pick<GrossBootstrap, 'iterations' | 'level' | 'seed' | 'records' | 'veb' | 'sveb'> {
  const { iterations = 2000, level = 0.95, seed = 1 } = options;
  const rng = new SeededRandom(seed);
  const draws: Record<keyof GrossFigures, number[]> = { vebSe: [], vebPp: [], svebSe: [], svebPp: [] };
  for (let b = 0; b < iterations && count > 0; b++) {
    const figures = figuresOf(Array.from({ length: count }, () => rng.int(count)), rng);
    for (const f of FIGURES) if (figures[f] !== undefined) draws[f].push(figures[f]!);
  }
  const tail = (1 - level) / 2;
  const interval = (values: number[]): Interval | undefined => {
    if (values.length === 0 || values.length < iterations / 2) return undefined;
    values.sort((a, b) => a - b);
    return { low: quantile(values, tail), high: quantile(values, 1 - tail) };
  };
  return {
    iterations, level, seed, records: count,
    veb: { se: interval(draws.vebSe), pp: interval(draws.vebPp) },
    sveb: { se: interval(draws.svebSe), pp: interval(draws.svebPp) },
  };
}

/**
 * Percentile intervals of the gross VEB and SVEB Se and +P over patients (see the module comment), from one bxb
 * confusion matrix per test record.
 */
export function bootstrapGross(perRecord: readonly ConfusionMatrix[], options: BootstrapOptions = {}): GrossBootstrap {
  return percentileIntervals(perRecord.length, options, (records) => grossFigures(records.map((r) => perRecord[r])));
}

/** Intervals over patients and retraining, and each run's own figures (see bootstrapGrossOverRuns). */
export interface RetrainingBootstrap extends GrossBootstrap {
  runs: number;
  perRun: GrossFigures[];
}

/**
 * Percentile intervals over both the test patients and the training run: `runs[i][k]` is record k's matrix as
 * scored by run i, one recipe trained with other seeds. Each draw takes one run at random, then resamples the
 * records, so the interval covers "retrain this recipe and test it on another 22 patients like these", which the
 * intervals over patients alone (one run) leave out. With a handful of runs the retraining part is coarse: the
 * runs' spread is taken as it was observed, not smoothed.
 */
export function bootstrapGrossOverRuns(runs: readonly (readonly ConfusionMatrix[])[], options: BootstrapOptions = {}): RetrainingBootstrap {
  const count = runs[0]?.length ?? 0;
  if (runs.length === 0 || runs.some((r) => r.length !== count)) {
    throw new ConfigError('ECG_ERR_BAD_OPTION', `intervals over retraining need one or more runs scored on the same records (${runs.map((r) => r.length).join(', ') || 'no runs'})`);
  }
  return {
    ...percentileIntervals(count, options, (records, rng) => {
      // One run draws no run index, so it gives exactly bootstrapGross's intervals.
      const run = runs.length === 1 ? runs[0] : runs[rng.int(runs.length)];
      return grossFigures(records.map((r) => run[r]));
    }),
    runs: runs.length,
    perRun: runs.map((r) => grossFigures(r)),
  };
}

/** Two models' figures on the same records, and intervals of their difference (first minus second). */
export interface PairedBootstrap extends GrossBootstrap {
  first: GrossFigures;
  second: GrossFigures;
  difference: GrossFigures;
}

/**
 * A paired comparison of two models scored on the same test records (`first[k]` and `second[k]` are record k's
 * matrices): every draw resamples the records once and takes both models' gross figures on that same resample, so
 * the interval of the difference leaves out what the two share (which patients were tested). An interval that
 * excludes 0 says the difference is larger than the choice of patients explains.
 */
export function pairedBootstrapGross(first: readonly ConfusionMatrix[], second: readonly ConfusionMatrix[], options: BootstrapOptions = {}): PairedBootstrap {
  if (first.length !== second.length) throw new ConfigError('ECG_ERR_BAD_OPTION', `a paired comparison needs the same records for both models (${first.length} and ${second.length})`);
  const difference = (a: GrossFigures, b: GrossFigures): GrossFigures =>
    Object.fromEntries(FIGURES.map((f) => [f, a[f] === undefined || b[f] === undefined ? undefined : a[f]! - b[f]!])) as unknown as GrossFigures;
  const a = grossFigures(first), b = grossFigures(second);
  return {
    ...percentileIntervals(first.length, options, (records) => difference(grossFigures(records.map((r) => first[r])), grossFigures(records.map((r) => second[r])))),
    first: a, second: b, difference: difference(a, b),
  };
}

/** An interval as `low–high` with one decimal, or `-`. */
export function formatInterval(interval: Interval | undefined): string {
  return interval ? `${interval.low.toFixed(1)}–${interval.high.toFixed(1)}` : '-';
}

/** The four intervals of the inter-patient targets on one line: `VEB Se 77.8–95.9, +P 80.3–97.6; SVEB Se ..., +P ...`. */
export function formatGrossIntervals(b: Pick<GrossBootstrap, 'veb' | 'sveb'>): string {
  return `VEB Se ${formatInterval(b.veb.se)}, +P ${formatInterval(b.veb.pp)}; SVEB Se ${formatInterval(b.sveb.se)}, +P ${formatInterval(b.sveb.pp)}`;
}

/** The paired comparison as a table: both models' gross figures, their difference and its interval. */
export function formatComparison(model: string, c: PairedBootstrap & { against: string }): string {
  const pct = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(2));
  const rows: [string, keyof GrossFigures, Interval | undefined][] = [
    ['VEB Se', 'vebSe', c.veb.se], ['VEB +P', 'vebPp', c.veb.pp], ['SVEB Se', 'svebSe', c.sveb.se], ['SVEB +P', 'svebPp', c.sveb.pp],
  ];
  const lines = ['', `${model} against ${c.against}, literature map, paired over patients (the same ${c.records} records resampled for both, ${c.iterations} draws):`];
  lines.push(`figure    ${model.slice(0, 14).padStart(14)}  ${c.against.slice(0, 14).padStart(14)}  difference  ${Math.round(c.level * 100)} % interval of the difference`);
  for (const [name, key, interval] of rows) {
    const d = c.difference[key];
    lines.push(`${name.padEnd(8)}  ${pct(c.first[key]).padStart(14)}  ${pct(c.second[key]).padStart(14)}  ${d === undefined ? '         -' : d.toFixed(2).padStart(10)}  ${interval ? `${interval.low.toFixed(2)} to ${interval.high.toFixed(2)}` : '-'}`);
  }
  return lines.join('\n') + '\n';
}
