import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { confusionMatrix, matchBeats, MIT_CODE, type MatchableAnnotation } from '../../src/eval/ec57.js';
import { scoreQrs, summarizeQrs, type QrsCounts } from '../../src/eval/qrs.js';
import { readAnnotations } from '../../src/wfdb/annotations.js';
import { readHeader } from '../../src/wfdb/header.js';
import { MITDB_DIR, REFERENCE_DIR, skipWithoutMitdb, skipWithoutReference } from '../helpers/mitdb.js';

/** A beat (or any annotation) at `sample`; code 1 = N. */
const ann = (sample: number, code: number = MIT_CODE.NORMAL, subtype = 0): MatchableAnnotation => ({ sample, code, subtype });
const beats = (...samples: number[]): MatchableAnnotation[] => samples.map((s) => ann(s));

describe('matchBeats / scoreQrs on small cases (bxb rules)', () => {
  const fsHz = 360; // window 0.15 s = 54 samples

  it('pairs identical streams completely', () => {
    const ref = beats(100, 400, 700, 1000);
    expect(scoreQrs(ref, ref, { fsHz })).toMatchObject({ tp: 4, fn: 0, fp: 0, sePercent: 100, ppPercent: 100, matchWindowSamples: 54 });
  });

  it('matches within 54 samples inclusive, not 55', () => {
    expect(scoreQrs(beats(1000), beats(1054), { fsHz })).toMatchObject({ tp: 1, fn: 0, fp: 0 });
    expect(scoreQrs(beats(1000), beats(946), { fsHz })).toMatchObject({ tp: 1, fn: 0, fp: 0 });
    expect(scoreQrs(beats(1000), beats(1055), { fsHz, endSample: 2000 })).toMatchObject({ tp: 0, fn: 1, fp: 1 });
  });

  it('counts a missed beat as FN and an extra detection as FP', () => {
    const s = scoreQrs(beats(100, 400, 700, 1000), beats(102, 398, 550, 1003), { fsHz });
    expect(s).toMatchObject({ tp: 3, fn: 1, fp: 1 });
    expect(s.sePercent).toBeCloseTo(75, 10);
    expect(s.ppPercent).toBeCloseTo(75, 10);
  });

  it('pairs each beat once: two detections near one beat give one TP and one FP', () => {
    expect(scoreQrs(beats(1000), beats(990, 1010), { fsHz })).toMatchObject({ tp: 1, fn: 0, fp: 1 });
  });

  it('takes the closer of two test beats', () => {
    const { pairs } = matchBeats(beats(1000), beats(960, 1005), { fsHz });
    expect(pairs).toEqual([
      { ref: 'O', test: 'N', refIndex: undefined, testIndex: 0 },
      { ref: 'N', test: 'N', refIndex: 0, testIndex: 1 },
    ]);
  });

  it("applies bxb's 2002 rule when both neighbours lie in the window (Pardey's example, window 37)", () => {
    // ref 96, 160; test 128, 185: test1-ref1 = 32 is not < ref2-test1 = 32, but test2-ref2 = 15 < 32, so ref1-test1 pair.
    const s = scoreQrs(beats(96, 160), beats(128, 185), { fsHz, matchWindowS: 37 / fsHz });
    expect(s).toMatchObject({ tp: 2, fn: 0, fp: 0, matchWindowSamples: 37 });
  });

  it('ignores non-beat annotations (rhythm +, noise ~ without shutdown bits, comments)', () => {
    const ref = [ann(50, 28), ann(100), ann(200, MIT_CODE.NOISE, 1), ann(400), ann(500, 22)];
    expect(scoreQrs(ref, beats(101, 399), { fsHz })).toMatchObject({ tp: 2, fn: 0, fp: 0 });
  });

  it('excludes reference ventricular flutter [ ... ]: beats inside are not scored, detections inside are not FP', () => {
    const ref = [ann(100), ann(400), ann(500, MIT_CODE.VFON), ann(600), ann(650, MIT_CODE.FLWAV), ann(900, MIT_CODE.VFOFF), ann(1000)];
    const test = beats(100, 400, 560, 640, 700, 880, 1000);
    expect(scoreQrs(ref, test, { fsHz })).toMatchObject({ tp: 3, fn: 0, fp: 0 });
    // Without the VF marks, the same detections would be FP and the reference flutter beats FN or TP.
    const flat = [ann(100), ann(400), ann(600), ann(1000)];
    expect(scoreQrs(flat, test, { fsHz }).fp).toBe(3);
  });

  it('counts reference beats missed during test shutdown in the X column', () => {
    // Test annotator declares shutdown (NOISE with subtype bits 4-5 set) from 300 to 800, then recovers.
    const test = [ann(100), ann(300, MIT_CODE.NOISE, 0x30), ann(800, MIT_CODE.NOISE, 0), ann(1000)];
    const { pairs } = matchBeats(beats(100, 400, 700, 1000), test, { fsHz });
    const m = confusionMatrix(pairs);
    expect(m.N.N).toBe(2);
    expect(m.N.X).toBe(2);
    expect(m.N.O).toBe(0);
    expect(scoreQrs(beats(100, 400, 700, 1000), test, { fsHz })).toMatchObject({ tp: 2, fn: 2, fp: 0 });
  });

  it('starts at fromSample: earlier beats are not scored, a detection just before the start may match', () => {
    const ref = beats(100, 400, 700, 1000);
    expect(scoreQrs(ref, beats(400, 700, 1000), { fsHz, fromSample: 300 })).toMatchObject({ tp: 3, fn: 0, fp: 0 });
    // First reference beat after the start at 310; the detection at 290 (before the start) matches it.
    expect(scoreQrs(beats(100, 310, 700), beats(100, 290, 700), { fsHz, fromSample: 300 })).toMatchObject({ tp: 2, fn: 0, fp: 0 });
  });

  it('stops after endSample and counts detections past the last reference beat up to it', () => {
    const ref = beats(100, 400);
    expect(scoreQrs(ref, beats(100, 400, 700, 2000), { fsHz, endSample: 1000 })).toMatchObject({ tp: 2, fn: 0, fp: 1 });
    // Without an end sample, the comparison stops with the reference file (bxb without a record length).
    expect(scoreQrs(ref, beats(100, 400, 700, 2000), { fsHz })).toMatchObject({ tp: 2, fn: 0, fp: 0 });
  });

  it('converts the window at other rates as WFDB strtim does (floor(0.15 fs + 0.5))', () => {
    expect(scoreQrs(beats(1000), beats(1000), { fsHz: 250 }).matchWindowSamples).toBe(38);
    expect(scoreQrs(beats(1000), beats(1000), { fsHz: 500 }).matchWindowSamples).toBe(75);
    expect(scoreQrs(beats(1000), beats(1038), { fsHz: 250 })).toMatchObject({ tp: 1 });
    expect(scoreQrs(beats(1000), beats(1039), { fsHz: 250, endSample: 2000 })).toMatchObject({ tp: 0, fn: 1, fp: 1 });
  });

  it('rejects bad options with ConfigError ECG_ERR_BAD_OPTION', () => {
    for (const options of [{ fsHz: 0 }, { fsHz: 360, fromSample: -1 }, { fsHz: 360, fromSample: 1.5 }, { fsHz: 360, matchWindowS: 0 }, { fsHz: 360, fromSample: 10, endSample: 5 }]) {
      const run = (): unknown => matchBeats([], [], options);
      expect(run).toThrow(ConfigError);
      expect(run).toThrow(expect.objectContaining({ code: 'ECG_ERR_BAD_OPTION' }));
    }
  });

  it('summarizes gross (summed counts) and average (mean of per-record figures)', () => {
    const s = summarizeQrs([
      { tp: 90, fn: 10, fp: 0 },
      { tp: 10, fn: 0, fp: 10 },
    ]);
    expect(s.gross).toMatchObject({ tp: 100, fn: 10, fp: 10 });
    expect(s.gross.sePercent).toBeCloseTo((100 * 100) / 110, 10);
    expect(s.average.sePercent).toBeCloseTo(95, 10);
    expect(s.average.ppPercent).toBeCloseTo(75, 10);
  });
});

/**
 * PhysioNet gqrs detections on the 48 MIT-BIH records, scored by PhysioNet's bxb:
 * `bxb -r NNN -a atr qrs -f 0 -w 0.15` (per-record-f0.tsv) and with bxb's default start of 5 minutes
 * (per-record-ec57.tsv); see ../shared/reference/gqrs/README.md.
 */
describe.skipIf(skipWithoutMitdb() || skipWithoutReference())('gqrs on MIT-BIH: reproduces bxb exactly', () => {
  const expected = (file: string): Map<string, QrsCounts> => {
    const rows = readFileSync(join(REFERENCE_DIR, 'gqrs', file), 'utf8').trim().split('\n').slice(1);
    return new Map(
      rows.map((row) => {
        const [rec, tp, fn, fp] = row.split('\t');
        return [rec, { tp: Number(tp), fn: Number(fn), fp: Number(fp) }];
      }),
    );
  };

  for (const { file, fromS, gross } of [
    { file: 'per-record-f0.tsv', fromS: 0, gross: { tp: 109196, fn: 298, fp: 302 } },
    { file: 'per-record-ec57.tsv', fromS: 300, gross: { tp: 91045, fn: 240, fp: 258 } },
  ]) {
    it(`per record and gross, from ${fromS} s`, async () => {
      const want = expected(file);
      expect(want.size).toBe(48);
      const got: QrsCounts[] = [];
      for (const [record, counts] of want) {
        const header = await readHeader(join(MITDB_DIR, `${record}.hea`));
        const reference = await readAnnotations(join(MITDB_DIR, `${record}.atr`));
        const test = await readAnnotations(join(REFERENCE_DIR, 'gqrs', `${record}.qrs`));
        const s = scoreQrs(reference, test, {
          fsHz: header.fsHz,
          fromSample: Math.floor(fromS * header.fsHz + 0.5),
          endSample: header.numSamples,
        });
        expect({ record, tp: s.tp, fn: s.fn, fp: s.fp }).toEqual({ record, ...counts });
        got.push(s);
      }
      const summary = summarizeQrs(got);
      expect(summary.gross).toMatchObject(gross);
    });
  }
});
