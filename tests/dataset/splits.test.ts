import { describe, expect, it } from 'vitest';
import { aamiClassOf, DS1_RECORDS, DS2_RECORDS, PACED_RECORDS } from '../../src/dataset/aamiClasses.js';
import { checkProtocolRecords, groupBy, INTER_RECORD_FOLDS, INTER_VALIDATION_RECORDS, interRecordFolds, missingProtocolRecords, splitBeats, type SplitBeat } from '../../src/dataset/splits.js';
import { MITDB_RECORDS } from '../../src/config.js';

/** A synthetic beat list over all 48 records, with every MIT-BIH beat symbol and a few non-beats. */
function syntheticBeats(): SplitBeat[] {
  const symbols = ['N', 'N', 'N', 'N', 'L', 'R', 'e', 'j', 'A', 'a', 'J', 'S', 'V', 'E', 'F', '/', 'f', 'Q', '?', 'B', 'r', 'n', '+', '~'];
  const beats: SplitBeat[] = [];
  for (const record of MITDB_RECORDS) for (let k = 0; k < 60; k++) beats.push({ record, symbol: symbols[(k * 7 + Number(record)) % symbols.length] });
  return beats;
}

describe('AAMI classes', () => {
  it('maps MIT-BIH symbols as de Chazal 2004 does (e and j are N) and leaves other symbols out', () => {
    expect(['N', 'L', 'R', 'e', 'j'].map(aamiClassOf)).toEqual(['N', 'N', 'N', 'N', 'N']);
    expect(['A', 'a', 'J', 'S'].map(aamiClassOf)).toEqual(['S', 'S', 'S', 'S']);
    expect(['V', 'E', 'F', '/', 'f', 'Q'].map(aamiClassOf)).toEqual(['V', 'V', 'F', 'Q', 'Q', 'Q']);
    expect(['B', 'r', 'n', '?', '!', '+', '~', '|', 'toString'].map(aamiClassOf)).toEqual(Array(9).fill(undefined));
  });

  it('has de Chazal DS1 and DS2 disjoint, 22 records each, covering the 44 non-paced records', () => {
    expect(DS1_RECORDS).toHaveLength(22);
    expect(DS2_RECORDS).toHaveLength(22);
    expect(DS1_RECORDS.filter((r) => DS2_RECORDS.includes(r))).toEqual([]);
    expect([...DS1_RECORDS, ...DS2_RECORDS, ...PACED_RECORDS].sort()).toEqual([...MITDB_RECORDS].sort());
  });
});

describe('splitBeats', () => {
  const beats = syntheticBeats();

  it('inter: train and validation from DS1 only, test from DS2 only, no beat twice, paced and non-AAMI beats out', () => {
    const split = splitBeats(beats, 'inter');
    const recordsOf = (ids: number[]) => new Set(ids.map((i) => beats[i].record));
    for (const r of recordsOf([...split.train, ...split.validation])) expect(DS1_RECORDS).toContain(r);
    for (const r of recordsOf(split.test)) expect(DS2_RECORDS).toContain(r);
    const all = [...split.train, ...split.validation, ...split.test];
    expect(new Set(all).size).toBe(all.length);
    for (const i of all) {
      expect(PACED_RECORDS).not.toContain(beats[i].record);
      expect(split.classes[split.labels[i]]).toBe(aamiClassOf(beats[i].symbol));
    }
    const used = beats.filter((b) => !PACED_RECORDS.includes(b.record) && aamiClassOf(b.symbol) !== undefined).length;
    expect(all.length).toBe(used);
  });

  it('inter with validation by records: whole DS1 records held out, no patient on two sides, the same test set', () => {
    const byBeats = splitBeats(beats, 'inter');
    const split = splitBeats(beats, 'inter', { interValidation: 'records' });
    const recordsOf = (ids: number[]) => [...new Set(ids.map((i) => beats[i].record))].sort();
    expect(recordsOf(split.validation)).toEqual([...INTER_VALIDATION_RECORDS].sort());
    expect(recordsOf(split.train).filter((r) => INTER_VALIDATION_RECORDS.includes(r))).toEqual([]);
    expect(recordsOf(split.train)).toHaveLength(DS1_RECORDS.length - INTER_VALIDATION_RECORDS.length);
    expect(split.test).toEqual(byBeats.test);
    expect([...split.train, ...split.validation].sort((a, b) => a - b)).toEqual([...byBeats.train, ...byBeats.validation].sort((a, b) => a - b));
    for (const r of INTER_VALIDATION_RECORDS) expect(DS1_RECORDS).toContain(r);
  });

  it('inter, patient-wise folds: five groups of DS1 records partition DS1, ectopic-rich records spread over them', () => {
    const byBeats = splitBeats(beats, 'inter');
    const groups = interRecordFolds(beats, byBeats.labels);
    expect(groups).toHaveLength(INTER_RECORD_FOLDS);
    expect(groups.flat().sort()).toEqual([...DS1_RECORDS].sort());
    for (const group of groups) expect(group.length === 4 || group.length === 5).toBe(true);
    const ectopicOf = (records: string[]) => byBeats.train.concat(byBeats.validation).filter((i) => records.includes(beats[i].record) && byBeats.labels[i] > 0).length;
    const counts = groups.map(ectopicOf);
    expect(Math.min(...counts)).toBeGreaterThan(0);
    const recordsOf = (ids: number[]) => [...new Set(ids.map((i) => beats[i].record))].sort();
    groups.forEach((group, k) => {
      const split = splitBeats(beats, 'inter', { interValidation: 'records', validationFold: k + 1 });
      expect(recordsOf(split.validation)).toEqual(group);
      expect(recordsOf(split.train).filter((r) => group.includes(r))).toEqual([]);
      expect(split.test).toEqual(byBeats.test);
      expect(split.description).toMatch(new RegExp(`records ${group.join(', ')} held out, patient fold ${k + 1} of 5`));
      expect(split.validationFold).toBe(k + 1);
    });
    // Without a fold, validation by records keeps the fixed three records, which are no fold.
    const fixed = splitBeats(beats, 'inter', { interValidation: 'records' });
    expect(recordsOf(fixed.validation)).toEqual([...INTER_VALIDATION_RECORDS].sort());
    expect(fixed.validationFold).toBeNull();
    expect(byBeats.validationFold).toBe(1);
  });

  it('intra: stratified 80/20 with no beat in both halves, reproducible from the seed', () => {
    const split = splitBeats(beats, 'intra', { seed: 7 });
    const all = [...split.train, ...split.validation, ...split.test];
    expect(new Set(all).size).toBe(all.length);
    for (let label = 0; label < 5; label++) {
      const total = all.filter((i) => split.labels[i] === label).length;
      const inTest = split.test.filter((i) => split.labels[i] === label).length;
      expect(Math.abs(inTest - total * 0.2)).toBeLessThanOrEqual(1);
    }
    expect(splitBeats(beats, 'intra', { seed: 7 })).toEqual(split);
    expect(splitBeats(beats, 'intra', { seed: 8 }).test).not.toEqual(split.test);
  });

  it('seed: N L R A V resampled with replacement to the same count per class; the leak-free test set shares no beat with training', () => {
    const split = splitBeats(beats, 'seed', { seedBeatsPerClass: 100 });
    expect(split.classes).toEqual(['N', 'L', 'R', 'A', 'V']);
    expect(split.beatNormalisation).toBe('zscore');
    const all = [...split.train, ...split.validation, ...split.test];
    expect(all).toHaveLength(500);
    for (let label = 0; label < 5; label++) expect(all.filter((i) => split.labels[i] === label)).toHaveLength(100);
    const training = new Set([...split.train, ...split.validation]);
    expect(split.test.some((i) => training.has(i))).toBe(true); // the original protocol leaks (resampling with replacement)
    expect(split.testLeakFree!.length).toBeLessThan(split.test.length);
    expect(split.testLeakFree!.some((i) => training.has(i))).toBe(false);
  });

  it.each(['seed', 'intra', 'inter'] as const)('%s: validation folds are disjoint shares of one training pool, with the same test set; fold 1 is the default split', (protocol) => {
    const options = protocol === 'seed' ? { seedBeatsPerClass: 100 } : {};
    const first = splitBeats(beats, protocol, options);
    const sorted = (ids: number[]) => [...ids].sort((a, b) => a - b);
    const pool = sorted([...first.train, ...first.validation]);
    const seen = new Set<number>();
    for (let fold = 1; fold <= 10; fold++) {
      const split = splitBeats(beats, protocol, { ...options, validationFold: fold });
      if (fold === 1) expect(split).toEqual(first);
      expect(split.test).toEqual(first.test);
      expect(split.testLeakFree).toEqual(first.testLeakFree);
      expect(sorted([...split.train, ...split.validation])).toEqual(pool);
      expect(Math.abs(split.validation.length - first.validation.length)).toBeLessThanOrEqual(5); // rounding, per class
      // Seed-protocol beats repeat (resampling with replacement), so there folds are disjoint by position (next test).
      if (protocol !== 'seed') for (const i of split.validation) {
        expect(split.train).not.toContain(i);
        expect(seen.has(i)).toBe(false);
        seen.add(i);
      }
    }
    if (protocol !== 'seed') expect(seen.size).toBe(pool.length); // ten tenths cover the pool
    expect(splitBeats(beats, protocol, { ...options, validationFold: 2 }).description).toMatch(/validation fold 2 of 10$/);
  });

  it('seed: fold k validates on the k-th tenth of the shuffled training pool', () => {
    const first = splitBeats(beats, 'seed', { seedBeatsPerClass: 100 });
    const poolInOrder = [...first.validation, ...first.train];
    const third = splitBeats(beats, 'seed', { seedBeatsPerClass: 100, validationFold: 3 });
    expect(third.validation).toEqual(poolInOrder.slice(80, 120));
    expect(third.train).toEqual([...poolInOrder.slice(0, 80), ...poolInOrder.slice(120)]);
  });

  it('rejects bad options with ConfigError', () => {
    for (const validationFold of [0, 11, 1.5]) {
      expect(() => splitBeats(beats, 'intra', { validationFold })).toThrow(expect.objectContaining({ code: 'ECG_ERR_BAD_OPTION', message: expect.stringMatching(/1\.\.10/) }));
    }
    expect(() => splitBeats(beats, 'inter', { interValidation: 'records', validationFold: 6 })).toThrow(/1\.\.5 \(groups of DS1 records\)/);
    expect(() => splitBeats(beats, 'intra', { testFraction: 1.5 })).toThrow(expect.objectContaining({ code: 'ECG_ERR_BAD_OPTION' }));
    expect(() => splitBeats(beats, 'bogus' as never)).toThrow(/unknown protocol/);
    // A dataset of a few records (dataset build --records) is no protocol's split to train on.
    const some = beats.filter((b) => b.record !== '232' && b.record !== '101').map((b) => b.record);
    for (const protocol of ['inter', 'intra', 'seed'] as const) {
      expect(() => checkProtocolRecords(some, protocol)).toThrow(expect.objectContaining({ code: 'ECG_ERR_BAD_OPTION', message: expect.stringMatching(new RegExp(`the ${protocol} protocol .* lacks 2: 101 232`)) }));
      expect(() => checkProtocolRecords(beats.map((b) => b.record), protocol)).not.toThrow();
    }
    expect(missingProtocolRecords(['101', '100'])).toHaveLength(42);
  });
});

describe('groupBy', () => {
  it('groups indices by key, each group in the order given, the groups in order of first appearance', () => {
    const record = ['b', 'a', 'b', 'c', 'a'];
    expect([...groupBy([4, 0, 1, 2, 3], (i) => record[i]).entries()]).toEqual([['a', [4, 1]], ['b', [0, 2]], ['c', [3]]]);
    expect(groupBy([], (i) => i).size).toBe(0);
  });
});
