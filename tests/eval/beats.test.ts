import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AAMI_CLASS_OF_SYMBOL } from '../../src/dataset/aamiClasses.js';
import { ConfigError } from '../../src/errors.js';
import {
  bxbLineCounts,
  formatBxbLine,
  resolveClassMap,
  scoreBeatClasses,
  summarizeBeatClasses,
  type BeatClassScore,
} from '../../src/eval/beats.js';
import { aamiClassMap, bxbClassMap, MIT_CODE, type MatchableAnnotation } from '../../src/eval/ec57.js';
import { symbolToCode } from '../../src/wfdb/annotationCodes.js';
import { readAnnotations } from '../../src/wfdb/annotations.js';
import { readHeader } from '../../src/wfdb/header.js';
import { MITDB_DIR, REFERENCE_DIR, skipWithoutMitdb, skipWithoutReference } from '../helpers/mitdb.js';

/** An annotation at `sample` with the rdann symbol `symbol`. */
const at = (sample: number, symbol: string): MatchableAnnotation => ({ sample, code: symbolToCode(symbol), subtype: 0 });
/** Reference and test streams from `symbol@sample` lists, e.g. `'N@100 V@400'`. */
const stream = (text: string): MatchableAnnotation[] =>
  text.split(/\s+/).filter(Boolean).map((item) => {
    const [symbol, sample] = item.split('@');
    return at(Number(sample), symbol);
  });

describe('class maps', () => {
  it('bxb counts escape beats e, j, n as SVEB; the literature map counts them as N', () => {
    for (const s of ['e', 'j', 'n']) {
      expect(bxbClassMap(symbolToCode(s))).toBe('S');
      expect(aamiClassMap(symbolToCode(s))).toBe('N');
    }
  });

  it('agree on every other beat code (de Chazal 2004 table)', () => {
    const table: Record<string, string> = { N: 'N', L: 'N', R: 'N', B: 'N', A: 'S', a: 'S', J: 'S', S: 'S', V: 'V', E: 'V', r: 'V', F: 'F', '/': 'Q', f: 'Q', Q: 'Q', '?': 'Q', '!': 'O' };
    for (const [symbol, label] of Object.entries(table)) {
      expect([symbol, bxbClassMap(symbolToCode(symbol))]).toEqual([symbol, label]);
      expect([symbol, aamiClassMap(symbolToCode(symbol))]).toEqual([symbol, label]);
    }
  });

  it("the dataset's labels (AAMI_CLASS_OF_SYMBOL, by symbol) are the scorer's literature map (by code): models are scored on the classes they learned", () => {
    const symbols = Object.keys(AAMI_CLASS_OF_SYMBOL);
    expect(symbols.length).toBe(15);
    for (const symbol of symbols) expect([symbol, aamiClassMap(symbolToCode(symbol))]).toEqual([symbol, AAMI_CLASS_OF_SYMBOL[symbol]]);
  });

  it('resolves names and rejects unknown ones with ECG_ERR_BAD_OPTION', () => {
    expect(resolveClassMap('bxb')).toBe(bxbClassMap);
    expect(resolveClassMap('aami')).toBe(aamiClassMap);
    expect(() => resolveClassMap('x' as 'bxb')).toThrow(ConfigError);
  });
});

describe('scoreBeatClasses on small cases', () => {
  const fsHz = 360;

  it('fills the confusion matrix, unmatched rows and columns included', () => {
    const ref = stream('N@100 V@400 A@700 F@1000 N@1300 V@1600');
    const test = stream('N@102 V@398 N@700 V@1001 A@1450 V@1600');
    const s = scoreBeatClasses(ref, test, { fsHz, classMap: 'bxb' });
    expect(s.matrix.N.N).toBe(1);
    expect(s.matrix.V.V).toBe(2);
    expect(s.matrix.S.N).toBe(1);
    expect(s.matrix.F.V).toBe(1);
    expect(s.matrix.N.O).toBe(1); // N@1300 missed
    expect(s.matrix.O.S).toBe(1); // A@1450 has no reference beat
    // VEB +P leaves out test V on a reference F beat; SVEB +P counts the unmatched test S.
    expect(s.veb).toMatchObject({ tp: 2, fn: 0, fp: 0, sePercent: 100, ppPercent: 100 });
    expect(s.sveb).toMatchObject({ tp: 0, fn: 1, fp: 1, sePercent: 0, ppPercent: 0 });
    expect(s.qrs).toMatchObject({ tp: 5, fn: 1, fp: 1 });
    expect(s.perClass.V).toMatchObject({ tp: 2, fn: 0, fp: 1 });
    expect(s.accuracyPercent).toBeCloseTo(60, 10);
  });

  it('VEB +P counts test V on reference N, S and unmatched; not on F or Q', () => {
    const ref = stream('N@100 A@400 F@700 Q@1000');
    const test = stream('V@100 V@400 V@700 V@1000 V@1300');
    const s = scoreBeatClasses(ref, test, { fsHz, endSample: 2000, classMap: 'bxb' });
    expect(s.veb).toMatchObject({ tp: 0, fn: 0, fp: 3 });
    expect(s.veb.sePercent).toBeUndefined();
  });

  it('escape beats: bxb scores a j called N as a missed SVEB, the literature map as a correct N', () => {
    const ref = stream('N@100 j@400 N@700');
    const test = stream('N@100 N@400 N@700');
    expect(scoreBeatClasses(ref, test, { fsHz, classMap: 'bxb' }).sveb).toMatchObject({ tp: 0, fn: 1, fp: 0 });
    expect(scoreBeatClasses(ref, test, { fsHz, classMap: 'aami' }).sveb).toMatchObject({ tp: 0, fn: 0, fp: 0 });
    expect(scoreBeatClasses(ref, test, { fsHz }).matrix.N.N).toBe(3); // default map: aami
  });

  it('exposes who matched whom by index', () => {
    const ref = stream('N@100 V@400');
    const test = stream('N@90 V@402');
    const s = scoreBeatClasses(ref, test, { fsHz });
    expect(s.pairs.map((p) => [p.refIndex, p.testIndex])).toEqual([[0, 0], [1, 1]]);
  });

  it('formats bxb -L lines: counts, `-` for undefined figures', () => {
    const s = scoreBeatClasses(stream('N@100 N@400'), stream('N@100 N@400'), { fsHz, classMap: 'bxb' });
    expect(bxbLineCounts(s.matrix)).toEqual([2, ...Array(18).fill(0)]);
    expect(formatBxbLine('999', s)).toBe(
      ' 999     2   0   0   0   0   0   0   0   0   0   0   0    0   0   0   0   0   0   0 100.00 100.00      -      -      -      -   0.00',
    );
  });
});

/**
 * A perturbed classifier's `.cls` files on DS2 scored by PhysioNet's bxb:
 * `bxb -r NNN -a atr cls -f 0 -L` per record (bxb-per-record.txt) and `sumstats` (bxb-sumstats.txt);
 * see ../shared/reference/cls-perturbed/README.md.
 */
describe.skipIf(skipWithoutMitdb() || skipWithoutReference())('perturbed classifier on DS2: reproduces bxb', () => {
  const dir = join(REFERENCE_DIR, 'cls-perturbed');
  const bxbLines = readFileSync(join(dir, 'bxb-per-record.txt'), 'utf8').trimEnd().split('\n').slice(1);
  const records = bxbLines.map((line) => line.trim().split(/\s+/)[0]);

  const scoreAll = async (classMap: 'bxb' | 'aami'): Promise<BeatClassScore[]> => {
    const scores: BeatClassScore[] = [];
    for (const record of records) {
      const header = await readHeader(join(MITDB_DIR, `${record}.hea`));
      const reference = await readAnnotations(join(MITDB_DIR, `${record}.atr`));
      const test = await readAnnotations(join(dir, `${record}.cls`));
      scores.push(scoreBeatClasses(reference, test, { fsHz: header.fsHz, fromSample: 0, endSample: header.numSamples, classMap }));
    }
    return scores;
  };
  const round2 = (x: number | undefined): number | undefined => (x === undefined ? undefined : Math.round(x * 100) / 100);

  it('prints every record line exactly as bxb -L does (bxb map)', async () => {
    expect(records).toHaveLength(22);
    const scores = await scoreAll('bxb');
    expect(records.map((r, i) => formatBxbLine(r, scores[i]))).toEqual(bxbLines);
  });

  it('gross and average figures as sumstats prints them (bxb map)', async () => {
    const summary = summarizeBeatClasses(await scoreAll('bxb'));
    const { gross, average } = summary;
    expect([gross.qrs, gross.veb, gross.sveb].flatMap((s) => [round2(s.sePercent), round2(s.ppPercent)])).toEqual([
      99.72, 99.79, 88.51, 80.81, 68.05, 70.14,
    ]);
    expect([average.qrs, average.veb, average.sveb].flatMap((s) => [round2(s.sePercent), round2(s.ppPercent)])).toEqual([
      99.72, 99.79, 92.27, 36.92, 60.28, 23.77,
    ]);
    expect(round2(average.rmsRrErrorMs)).toBe(75.89);
    // sumstats: "Total QRS complexes: 49712  Total VEBs: 3221  Total SVEBs: 2050" (reference beats counted).
    const m = gross.matrix;
    expect(gross.qrs.tp + gross.qrs.fn).toBe(49712);
    expect(gross.veb.tp + gross.veb.fn).toBe(3221);
    expect(gross.sveb.tp + gross.sveb.fn).toBe(2050);
    expect(m.S.S).toBe(1395);
  });

  it('literature map (e, j as N): VEB 88.51/80.81, SVEB 75.61/69.83', async () => {
    const { gross } = summarizeBeatClasses(await scoreAll('aami'));
    expect([gross.veb, gross.sveb].flatMap((s) => [round2(s.sePercent), round2(s.ppPercent)])).toEqual([88.51, 80.81, 75.61, 69.83]);
  });

  it('the literature map moves only escape beats: VEB and QRS counts are the same under both maps', async () => {
    const [bxb, aami] = [summarizeBeatClasses(await scoreAll('bxb')), summarizeBeatClasses(await scoreAll('aami'))];
    expect(aami.gross.veb).toEqual(bxb.gross.veb);
    expect(aami.gross.qrs).toEqual(bxb.gross.qrs);
  });
});

// Keeps MIT_CODE in the public surface checked: the VF marks the scorer relies on.
it('MIT codes of the VF marks are 32 and 33 ([ and ])', () => {
  expect([MIT_CODE.VFON, MIT_CODE.VFOFF]).toEqual([symbolToCode('['), symbolToCode(']')]);
});
