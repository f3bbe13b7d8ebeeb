import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { gateVebByTiming } from '../../src/pipeline/gateVebByTiming.js';
import type { BeatClass, BeatClassification } from '../../src/types.js';

/** A classified beat with its RR intervals (ms; local mean 800); the model's second choice is N for a V call. */
function classified(beatClass: BeatClass, previousRrMs: number, nextRrMs: number, streamId = 's'): BeatClassification {
  const probabilities = beatClass === 'V' ? [0.3, 0.1, 0.6, 0, 0] : [0.7, 0.05, 0.25, 0, 0];
  return {
    streamId, sampleIndex: 0, fsHz: 360, beatClass, probabilities, model: 'm',
    rr: { previousRrMs, nextRrMs, localMeanRrMs: 800, recordMeanRrMs: 800, localVariationRrMs: 20 },
  };
}

const run = (beats: BeatClassification[], options = {}) => lastValueFrom(from(beats).pipe(gateVebByTiming(options), toArray()));

describe('gateVebByTiming', () => {
  it('overrules a V call on time with no pause after it, and keeps premature ones, ones before a pause, and late ones', async () => {
    const out = await run([
      classified('N', 800, 800),
      classified('V', 790, 830), // on time, no pause: overruled
      classified('N', 830, 800),
      classified('V', 500, 1100), // premature with a compensatory pause
      classified('N', 1100, 800),
      classified('V', 800, 1000), // on time, but a pause after it
      classified('N', 1000, 800),
      classified('V', 1200, 800), // late: an escape beat
    ]);
    expect(out.map((b) => b.beatClass)).toEqual(['N', 'N', 'N', 'V', 'N', 'V', 'N', 'V']);
    expect(out[1].modelClass).toBe('V');
    expect(out[3].modelClass).toBeUndefined();
  });

  it('never overrules a V call after a V beat: runs of ventricular tachycardia stay V', async () => {
    const out = await run([classified('N', 800, 500), classified('V', 500, 800), ...Array.from({ length: 5 }, () => classified('V', 800, 800))]);
    expect(out.map((b) => b.beatClass)).toEqual(['N', 'V', 'V', 'V', 'V', 'V', 'V']);
  });

  it('judges the beat before by its class after this rule, per stream', async () => {
    // The first on-time V call becomes N, so the next on-time V call follows a non-V beat and is overruled too.
    const out = await run([classified('N', 800, 800), classified('V', 800, 800), classified('V', 800, 800, 'b'), classified('V', 800, 800)]);
    expect(out.map((b) => b.beatClass)).toEqual(['N', 'N', 'N', 'N']);
  });

  it('uses maxRrDeviation as the tolerance, on both sides', async () => {
    const beats = [classified('N', 800, 800), classified('V', 800 * 0.92, 800 * 1.08)];
    expect((await run(beats)).map((b) => b.beatClass)).toEqual(['N', 'V']);
    expect((await run(beats, { maxRrDeviation: 0.1 })).map((b) => b.beatClass)).toEqual(['N', 'N']);
    expect((await run([classified('N', 800, 800), classified('V', 800, 800 * 1.08)], { maxRrDeviation: 0.1 }))[1].beatClass).toBe('N');
    expect((await run([classified('N', 800, 800), classified('V', 800, 800 * 1.12)], { maxRrDeviation: 0.1 }))[1].beatClass).toBe('V');
  });

  it('passes beats without RR intervals, and never gives a class another rule ruled out', async () => {
    const bare: BeatClassification = { streamId: 's', sampleIndex: 0, fsHz: 360, beatClass: 'V', probabilities: [0.3, 0.1, 0.6, 0, 0], model: 'm' };
    expect((await run([bare]))[0]).toBe(bare);
    // The AF gate made an S call V; the timing gate rules V out too, and S stays out: N, the third choice.
    const gated = { ...classified('V', 800, 800), probabilities: [0.2, 0.5, 0.3, 0, 0], modelClass: 'S' as const, ruledOut: ['S' as const] };
    const [out] = await run([gated]);
    expect(out.beatClass).toBe('N');
    expect(out.modelClass).toBe('S');
  });

  it('keeps V for an on-time beat whose QRS is unlike the usual beat (minQrsCorrelation, default 0.7)', async () => {
    const shaped = (r: number | undefined) => ({ ...classified('V', 800, 800), usualBeatQrsCorrelation: r });
    const calls = async (options = {}) => (await Promise.all([0.6, 0.85, Number.NaN, undefined].map(async (r) => (await run([classified('N', 800, 800), shaped(r)], options))[1].beatClass)));
    // A late-coupled PVC (0.6) keeps V; one like the usual beat (0.85), or one the template gate could not compare, loses it.
    expect(await calls()).toEqual(['V', 'N', 'N', 'N']);
    expect(await calls({ minQrsCorrelation: 0.9 })).toEqual(['V', 'V', 'N', 'N']);
    // -1: timing alone, as before the floor.
    expect(await calls({ minQrsCorrelation: -1 })).toEqual(['N', 'N', 'N', 'N']);
  });

  it('refuses a bad tolerance or QRS floor', () => {
    expect(() => gateVebByTiming({ minQrsCorrelation: -1.1 })).toThrow(ConfigError);
    expect(() => gateVebByTiming({ minQrsCorrelation: 1.5 })).toThrow(ConfigError);
    expect(() => gateVebByTiming({ maxRrDeviation: -0.1 })).toThrow(ConfigError);
    expect(() => gateVebByTiming({ maxRrDeviation: 1 })).toThrow(ConfigError);
    expect(() => gateVebByTiming({ maxRrDeviation: Number.NaN })).toThrow(ConfigError);
  });
});
