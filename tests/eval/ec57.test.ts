import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { confusionMatrix, matchBeats, type MatchableAnnotation } from '../../src/eval/ec57.js';
import { scoreQrs } from '../../src/eval/qrs.js';

/** Sorted, distinct beat samples in 1..20000 (a minute at 360 Hz), as N beats. */
const beatStream = fc
  .uniqueArray(fc.integer({ min: 1, max: 20_000 }), { maxLength: 120 })
  .map((xs) => xs.sort((a, b) => a - b).map((sample): MatchableAnnotation => ({ sample, code: 1, subtype: 0 })));

const options = { fsHz: 360, endSample: 20_000 };

describe('matchBeats properties (no VF, no shutdown, whole record)', () => {
  it('every beat of each stream is counted exactly once: TP + FN = reference beats, TP + FP = test beats', () => {
    fc.assert(
      fc.property(beatStream, beatStream, (ref, test) => {
        const s = scoreQrs(ref, test, options);
        expect(s.tp + s.fn).toBe(ref.length);
        expect(s.tp + s.fp).toBe(test.length);
      }),
    );
  });

  it('pairs are one-to-one and within the window', () => {
    fc.assert(
      fc.property(beatStream, beatStream, (ref, test) => {
        const { pairs, matchWindowSamples } = matchBeats(ref, test, options);
        const refSeen = new Set<number>();
        const testSeen = new Set<number>();
        for (const p of pairs) {
          if (p.refIndex !== undefined) {
            expect(refSeen.has(p.refIndex)).toBe(false);
            refSeen.add(p.refIndex);
          }
          if (p.testIndex !== undefined) {
            expect(testSeen.has(p.testIndex)).toBe(false);
            testSeen.add(p.testIndex);
          }
          if (p.refIndex !== undefined && p.testIndex !== undefined) {
            expect(Math.abs(ref[p.refIndex].sample - test[p.testIndex].sample)).toBeLessThanOrEqual(matchWindowSamples);
          }
        }
      }),
    );
  });

  it('is symmetric: swapping reference and test swaps FN and FP', () => {
    fc.assert(
      fc.property(beatStream, beatStream, (ref, test) => {
        const a = scoreQrs(ref, test, options);
        const b = scoreQrs(test, ref, options);
        expect([b.tp, b.fn, b.fp]).toEqual([a.tp, a.fp, a.fn]);
      }),
    );
  });

  it('a stream against itself, shifted by at most the window, is all true positives when beats are > 2 windows apart', () => {
    fc.assert(
      fc.property(beatStream, fc.integer({ min: -54, max: 54 }), (ref, shift) => {
        const wellSpaced: MatchableAnnotation[] = [];
        for (const a of ref) if (wellSpaced.length === 0 || a.sample - wellSpaced[wellSpaced.length - 1].sample > 108) wellSpaced.push(a);
        const test = wellSpaced.map((a) => ({ ...a, sample: a.sample + shift + 100 }));
        const reference = wellSpaced.map((a) => ({ ...a, sample: a.sample + 100 }));
        const m = confusionMatrix(matchBeats(reference, test, { fsHz: 360, endSample: 30_000 }).pairs);
        expect(m.N.N).toBe(reference.length);
      }),
    );
  });
});
