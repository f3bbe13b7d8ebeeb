import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/dataset/seededRandom.js';
import { ConfigError } from '../../src/errors.js';
import { assessRrIrregularity, detectAtrialFibrillation } from '../../src/pipeline/detectAtrialFibrillation.js';
import type { BeatClass, BeatClassification } from '../../src/types.js';

const FS = 360;

/** Classified beats whose RR intervals (ms) are `rrMs`, with `classOf(i)` as each beat's class. */
function beats(rrMs: readonly number[], classOf: (i: number) => BeatClass = () => 'N', streamId = 's'): BeatClassification[] {
  let sampleIndex = 1000;
  const out: BeatClassification[] = [{ streamId, sampleIndex, fsHz: FS, beatClass: classOf(0), probabilities: [1, 0, 0, 0, 0], model: 'm' }];
  rrMs.forEach((rr, i) => {
    sampleIndex += Math.round((rr * FS) / 1000);
    out.push({ streamId, sampleIndex, fsHz: FS, beatClass: classOf(i + 1), probabilities: [1, 0, 0, 0, 0], model: 'm' });
  });
  return out;
}

const run = (input: BeatClassification[], options = {}) => lastValueFrom(from(input).pipe(detectAtrialFibrillation(options), toArray()));

/** Irregularly irregular: independent intervals, uniform in 450-1050 ms. */
function fibrillation(count: number, seed = 1): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => 450 + 600 * random());
}

/** Sinus rhythm at 800 ms with a little variability. */
function sinus(count: number, seed = 2): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => 800 + 20 * (random() - 0.5));
}

describe('assessRrIrregularity', () => {
  it('counts turning points against a random series (Dash et al.)', () => {
    // 64 intervals alternating up and down: 62 turning points, far above the 41.3 a random series has.
    const alternating = Array.from({ length: 64 }, (_, i) => (i % 2 ? 600 : 1000));
    expect(assessRrIrregularity(alternating).turningPointZ).toBeCloseTo((62 - 124 / 3) / Math.sqrt((16 * 64 - 29) / 90), 10);
    // A monotone series has none.
    expect(assessRrIrregularity(Array.from({ length: 64 }, (_, i) => 600 + i)).turningPointZ).toBeCloseTo(-(124 / 3) / Math.sqrt(995 / 90), 10);
  });

  it('says AF for an irregularly irregular series only', () => {
    const af = assessRrIrregularity(fibrillation(64));
    expect(af.normalisedRmssd).toBeGreaterThan(0.1);
    expect(af.shannonEntropy).toBeGreaterThan(0.7);
    expect(Math.abs(af.turningPointZ)).toBeLessThanOrEqual(2);
    expect(af.atrialFibrillation).toBe(true);
    // Sinus rhythm varies too little; bigeminy varies but turns at every beat and fills two bins.
    expect(assessRrIrregularity(sinus(64)).atrialFibrillation).toBe(false);
    const bigeminy = assessRrIrregularity(Array.from({ length: 64 }, (_, i) => (i % 2 ? 600 : 1000)));
    expect(bigeminy.normalisedRmssd).toBeGreaterThan(0.1);
    expect(bigeminy.atrialFibrillation).toBe(false);
  });

  it('trims the outliers before RMSSD and entropy: a few ectopic intervals do not make sinus rhythm AF', () => {
    const rr = sinus(64);
    for (const k of [5, 20, 41, 58]) { rr[k] = 450; rr[k + 1] = 1150; }
    const trimmed = assessRrIrregularity(rr);
    expect(trimmed.normalisedRmssd).toBeLessThan(0.1);
    expect(assessRrIrregularity(rr, 0).normalisedRmssd).toBeGreaterThan(0.1);
  });

  it('gives entropy 0 for a constant series', () => {
    const flat = assessRrIrregularity(new Array(64).fill(800));
    expect(flat.shannonEntropy).toBe(0);
    expect(flat.normalisedRmssd).toBe(0);
    expect(flat.atrialFibrillation).toBe(false);
  });
});

describe('detectAtrialFibrillation', () => {
  it('judges nothing until the window is full, then follows the rhythm', async () => {
    const out = await run(beats([...sinus(100), ...fibrillation(200), ...sinus(200)]));
    expect(out.slice(0, 64).every((b) => !b.rhythm!.atrialFibrillation && Number.isNaN(b.rhythm!.normalisedRmssd))).toBe(true);
    expect(out.slice(64, 101).some((b) => b.rhythm!.atrialFibrillation)).toBe(false);
    // Fully inside the AF run (window of 64 intervals all AF) and well after it.
    expect(out.slice(170, 301).every((b) => b.rhythm!.atrialFibrillation)).toBe(true);
    expect(out.slice(370).some((b) => b.rhythm!.atrialFibrillation)).toBe(false);
  });

  it('leaves out the intervals around V beats: sinus rhythm with frequent PVCs is not AF', async () => {
    // Sinus at 800 ms; a beat is a PVC with probability 0.4, its coupling interval 400-650 ms, then a full
    // compensatory pause (the two add up to 1,600 ms).
    const random = seededRandom(5);
    const rr: number[] = [];
    const isV: boolean[] = [false];
    while (rr.length < 300) {
      if (random() < 0.4 && !isV[isV.length - 1]) { const coupling = 400 + 250 * random(); rr.push(coupling, 1600 - coupling); isV.push(true, false); }
      else { rr.push(800 + 20 * (random() - 0.5)); isV.push(false); }
    }
    const classOf = (i: number): BeatClass => (isV[i] ? 'V' : 'N');
    const withV = await run(beats(rr, classOf));
    expect(withV.slice(150).some((b) => b.rhythm!.atrialFibrillation)).toBe(false);
    // The same beats all called N: the irregular series now looks like AF for part of the record.
    const allN = await run(beats(rr));
    expect(allN.slice(150).filter((b) => b.rhythm!.atrialFibrillation).length).toBeGreaterThan(5);
  });

  it('keeps streams apart', async () => {
    const a = beats(fibrillation(120), () => 'N', 'a');
    const b = beats(sinus(120), () => 'N', 'b');
    const interleaved = a.flatMap((beat, i) => [beat, b[i]]);
    const out = await run(interleaved);
    expect(out.filter((x) => x.streamId === 'a').slice(100).every((x) => x.rhythm!.atrialFibrillation)).toBe(true);
    expect(out.filter((x) => x.streamId === 'b').some((x) => x.rhythm!.atrialFibrillation)).toBe(false);
  });

  it('refuses a window too short for its trimming', () => {
    expect(() => detectAtrialFibrillation({ intervals: 19, trimmed: 8 })).toThrow(ConfigError);
    expect(() => detectAtrialFibrillation({ trimmed: -1 })).toThrow(ConfigError);
    expect(() => detectAtrialFibrillation({ intervals: 20, trimmed: 8 })).not.toThrow();
  });
});
