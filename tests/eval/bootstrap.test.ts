import { describe, expect, it } from 'vitest';
import { statsFromMatrix } from '../../src/eval/beats.js';
import { bootstrapGross, bootstrapGrossOverRuns, formatInterval, pairedBootstrapGross } from '../../src/eval/bootstrap.js';
import { addConfusionMatrices, emptyConfusionMatrix, type ConfusionMatrix } from '../../src/eval/ec57.js';

/** A record's bxb matrix from (reference, test) label pairs and counts. */
const record = (cells: [string, string, number][]): ConfusionMatrix => {
  const m = emptyConfusionMatrix();
  for (const [r, c, n] of cells) (m as Record<string, Record<string, number>>)[r][c] += n;
  return m;
};

describe('bootstrapGross', () => {
  it('collapses to the gross figure when every record is alike', () => {
    const same = record([['N', 'N', 900], ['V', 'V', 45], ['V', 'N', 5], ['N', 'V', 10], ['S', 'S', 8], ['S', 'N', 2], ['N', 'S', 8]]);
    const b = bootstrapGross([same, same, same, same], { iterations: 200 });
    const { veb, sveb } = statsFromMatrix(same);
    expect(b.veb.se?.low).toBeCloseTo(veb.sePercent!, 10);
    expect(b.veb.se?.high).toBeCloseTo(veb.sePercent!, 10);
    expect(b.veb.pp?.low).toBeCloseTo(veb.ppPercent!, 10);
    expect(b.sveb.se?.high).toBeCloseTo(sveb.sePercent!, 10);
    expect(b.sveb.pp?.low).toBeCloseTo(sveb.ppPercent!, 10);
    expect(b).toMatchObject({ iterations: 200, level: 0.95, seed: 1, records: 4 });
  });

  it('resamples records, not beats: one patient with every VEB found and one with none span 0 to 100 %', () => {
    // Two records: the resampled pair is {A, A} (Se 100), {A, B} or {B, A} (50) or {B, B} (0), each pair 1/4 likely.
    const found = record([['N', 'N', 100], ['V', 'V', 10]]);
    const missed = record([['N', 'N', 100], ['V', 'N', 10]]);
    const b = bootstrapGross([found, missed], { iterations: 2000 });
    expect(b.veb.se).toEqual({ low: 0, high: 100 });
    // At 40 % coverage only the middle outcome (half the draws) is left.
    expect(bootstrapGross([found, missed], { iterations: 2000, level: 0.4 }).veb.se).toEqual({ low: 50, high: 50 });
    // No SVEB anywhere: no interval, rather than a made-up one.
    expect(b.sveb.se).toBeUndefined();
    expect(formatInterval(b.sveb.se)).toBe('-');
    expect(formatInterval(b.veb.se)).toBe('0.0–100.0');
  });

  it('is reproducible from its seed, and the seed matters', () => {
    const records = [5, 9, 14, 20, 31, 40].map((v) => record([['N', 'N', 500], ['V', 'V', v], ['V', 'N', 40 - v], ['N', 'V', v % 7]]));
    expect(bootstrapGross(records, { seed: 3 })).toEqual(bootstrapGross(records, { seed: 3 }));
    expect(bootstrapGross(records, { seed: 3, iterations: 300 }).veb.se).not.toEqual(bootstrapGross(records, { seed: 4, iterations: 300 }).veb.se);
  });

  it('paired: the same records resampled for both models, so a difference both share does not widen the interval', () => {
    // Records that differ a lot from one another, and a second model that finds one VEB fewer in each.
    const first = [2, 10, 25, 40].map((v) => record([['N', 'N', 400], ['V', 'V', v], ['V', 'N', 2]]));
    const second = [2, 10, 25, 40].map((v) => record([['N', 'N', 400], ['V', 'V', v - 1], ['V', 'N', 3]]));
    const paired = pairedBootstrapGross(first, second);
    expect(paired.difference.vebSe).toBeCloseTo(paired.first.vebSe! - paired.second.vebSe!, 10);
    expect(paired.difference.vebSe).toBeGreaterThan(0);
    // Every draw has the first model ahead: the interval excludes 0, although each model's own interval is wide.
    expect(paired.veb.se!.low).toBeGreaterThan(0);
    expect(bootstrapGross(second).veb.se!.high).toBeGreaterThan(bootstrapGross(first).veb.se!.low);
    // A model against itself differs by nothing.
    const self = pairedBootstrapGross(first, first);
    expect(self.veb.se).toEqual({ low: 0, high: 0 });
    expect(self.difference.vebPp).toBe(0);
    expect(self.sveb.se).toBeUndefined();
    expect(() => pairedBootstrapGross(first, second.slice(1))).toThrow(/same records/);
  });
});

describe('bootstrapGrossOverRuns', () => {
  const patients = (found: number[]): ConfusionMatrix[] => found.map((v) => record([['N', 'N', 300], ['V', 'V', v], ['V', 'N', 20 - v], ['S', 'S', 5], ['N', 'S', 3]]));

  it('with one run, gives the intervals over patients alone', () => {
    const run = patients([4, 9, 13, 17, 20]);
    const over = bootstrapGrossOverRuns([run]);
    const { runs, perRun, ...intervals } = over;
    expect(intervals).toEqual(bootstrapGross(run));
    expect(runs).toBe(1);
    expect(perRun[0].vebSe).toBeCloseTo(statsFromMatrix(addConfusionMatrices(run)).veb.sePercent!, 10);
  });

  it('covers the spread between runs that patients alone do not: two runs, every VEB found and none, span 0 to 100 %', () => {
    // Identical patients, so resampling them changes nothing; only the run drawn does.
    const allFound = patients([20, 20, 20]), noneFound = patients([0, 0, 0]);
    expect(bootstrapGross(allFound).veb.se).toEqual({ low: 100, high: 100 });
    const over = bootstrapGrossOverRuns([allFound, noneFound]);
    expect(over.veb.se).toEqual({ low: 0, high: 100 });
    expect(over.perRun.map((f) => f.vebSe)).toEqual([100, 0]);
    expect(over).toMatchObject({ runs: 2, records: 3, iterations: 2000 });
    // The SVEB figures are alike in both runs: their interval stays a point.
    expect(over.sveb.se).toEqual({ low: 100, high: 100 });
  });

  it('is reproducible from its seed, and refuses runs scored on other records', () => {
    const a = patients([3, 8, 12, 19]), b = patients([5, 6, 15, 18]);
    expect(bootstrapGrossOverRuns([a, b], { seed: 2 })).toEqual(bootstrapGrossOverRuns([a, b], { seed: 2 }));
    expect(() => bootstrapGrossOverRuns([a, b.slice(1)])).toThrow(/same records/);
    expect(() => bootstrapGrossOverRuns([])).toThrow(/one or more runs/);
  });
});
