import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { gateVebByTemplate } from '../../src/pipeline/gateVebByTemplate.js';
import type { BeatClassification } from '../../src/types.js';
import { beatShape, classifiedWithRanking, noisyBeats, shiftedBy } from './helpers.js';

const { noise, usual, wide: ventricular } = noisyBeats(11);

/** The model's second choice is N for a V call, V for the others. */
const classified = classifiedWithRanking('V', [0.3, 0.1, 0.6, 0, 0], [0.7, 0.05, 0.25, 0, 0]);

const run = (beats: BeatClassification[], options = {}) => lastValueFrom(from(beats).pipe(gateVebByTemplate(options), toArray()));

describe('gateVebByTemplate', () => {
  it("overrules a V call whose QRS matches the stream's usual beat, and keeps a V call that does not", async () => {
    const normal = Array.from({ length: 20 }, (_, i) => classified(i, 'N', usual()));
    const out = await run([...normal, classified(20, 'V', usual()), classified(21, 'V', ventricular())]);
    const [lookalike, truly] = out.slice(20);
    expect(lookalike.beatClass).toBe('N');
    expect(lookalike.modelClass).toBe('V');
    expect(lookalike.usualBeatQrsCorrelation).toBeGreaterThan(0.99);
    expect(truly.beatClass).toBe('V');
    expect(truly.modelClass).toBeUndefined();
    expect(truly.usualBeatQrsCorrelation).toBeLessThan(0);
    expect(out.slice(0, 20).every((b) => b.beatClass === 'N')).toBe(true);
  });

  it("with maxLagMs, matches a beat whose mark fell elsewhere in its QRS (the best shift within it counts)", async () => {
    const normal = Array.from({ length: 20 }, (_, i) => classified(i, 'N', usual()));
    const late = classified(20, 'V', shiftedBy(usual(), 6));
    const [atTheMark] = (await run([...normal, late], { maxLagMs: 0 })).slice(20);
    expect(atTheMark.beatClass).toBe('V');
    expect(atTheMark.usualBeatQrsCorrelation).toBeLessThan(0.9);
    const [shifted] = (await run([...normal, late], { maxLagMs: 20 })).slice(20);
    expect(shifted.beatClass).toBe('N');
    expect(shifted.usualBeatQrsCorrelation).toBeGreaterThan(0.99);
    expect(() => gateVebByTemplate({ maxLagMs: -1 })).toThrow(ConfigError);
  });

  it('with ruleOutFusion, rules F out with V: a fusion call whose QRS matches the usual beat takes the next class', async () => {
    // The model's ranking for these calls: F, then V, then N.
    const fusionFirst = (i: number, samples: Float32Array) => ({ ...classified(i, 'F', samples), probabilities: [0.2, 0, 0.3, 0.5, 0] });
    const normal = Array.from({ length: 20 }, (_, i) => classified(i, 'N', usual()));
    const out = await run([...normal, fusionFirst(20, usual()), fusionFirst(21, ventricular()), { ...classified(22, 'V', usual()), probabilities: [0.2, 0, 0.5, 0.3, 0] }], { ruleOutFusion: true });
    expect(out[20]).toMatchObject({ beatClass: 'N', modelClass: 'F', ruledOut: ['V', 'F'] });
    expect(out[21]).toMatchObject({ beatClass: 'F' }); // unlike the usual beat: kept
    expect(out[22]).toMatchObject({ beatClass: 'N', modelClass: 'V' }); // V ruled out, and F, its second choice, too
    // By default only V: the fusion call stays, and the V call takes F, its second choice.
    const vOnly = await run([...normal, fusionFirst(20, usual()), { ...classified(22, 'V', usual()), probabilities: [0.2, 0, 0.5, 0.3, 0] }]);
    expect(vOnly[20]).toMatchObject({ beatClass: 'F', ruledOut: ['V'] });
    expect(vOnly[21]).toMatchObject({ beatClass: 'F', modelClass: 'V' });
  });

  it('does nothing before it has minBeats non-V beats', async () => {
    const out = await run([...Array.from({ length: 7 }, (_, i) => classified(i, 'N', usual())), classified(7, 'V', usual())]);
    expect(out[7].beatClass).toBe('V');
    expect(Number.isNaN(out[7].usualBeatQrsCorrelation)).toBe(true);
    const later = await run([...Array.from({ length: 8 }, (_, i) => classified(i, 'N', usual())), classified(8, 'V', usual())]);
    expect(later[8].beatClass).toBe('N');
  });

  it('builds the usual beat from non-V calls only: runs of V beats, even most of the stream, do not shape it', async () => {
    // Two V beats for every N beat; with all beats in it, the median would be the V shape.
    const beats = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? classified(i, 'N', usual()) : classified(i, 'V', ventricular())));
    const out = await run([...beats, classified(60, 'V', ventricular()), classified(61, 'V', usual())]);
    expect(out.slice(0, 60).filter((b) => b.beatClass === 'V')).toHaveLength(40);
    expect(out[60].beatClass).toBe('V');
    expect(out[61].beatClass).toBe('N');
  });

  it('passes beats without a window, keeps streams apart, keeps an earlier rule\'s exclusions', async () => {
    const bare: BeatClassification = { streamId: 's', sampleIndex: 0, fsHz: 360, beatClass: 'V', probabilities: [0.3, 0.1, 0.6, 0, 0], model: 'm' };
    expect((await run([bare]))[0]).toBe(bare);
    const a = Array.from({ length: 10 }, (_, i) => classified(i, 'N', usual(), 'a'));
    const ruledOutS = { ...classified(11, 'V', usual(), 'a'), probabilities: [0.2, 0.5, 0.3, 0, 0], modelClass: 'S' as const, ruledOut: ['S' as const] };
    const out = await run([...a, classified(10, 'V', usual(), 'b'), ruledOutS, classified(12, 'S', usual(), 'a')]);
    expect(out[10].beatClass).toBe('V'); // stream b has no usual beat yet
    expect(out[11].beatClass).toBe('N');
    expect(out[11].modelClass).toBe('S');
    // An S call whose QRS matches: V is ruled out for it too, its class stays.
    expect(out[12].beatClass).toBe('S');
    expect(out[12].ruledOut).toEqual(['V']);
  });

  it('rules V out at a lower correlation in detected atrial fibrillation (0.90, not 0.98)', async () => {
    // A slightly wider QRS: correlation about 0.94 with the usual beat.
    const near = () => beatShape({ width: 13, noise });
    const inAf = (beat: BeatClassification, af: boolean) => ({ ...beat, rhythm: { atrialFibrillation: af, normalisedRmssd: 0.2, shannonEntropy: 0.8, turningPointZ: 0 } });
    const normal = Array.from({ length: 20 }, (_, i) => classified(i, 'N', usual()));
    const out = await run([...normal, inAf(classified(20, 'V', near()), false), inAf(classified(21, 'V', near()), true), inAf(classified(22, 'V', ventricular()), true)]);
    const [sinus, af, afVentricular] = out.slice(20);
    expect(sinus.usualBeatQrsCorrelation).toBeGreaterThan(0.9);
    expect(sinus.usualBeatQrsCorrelation).toBeLessThan(0.98);
    expect(sinus.beatClass).toBe('V');
    expect(af.beatClass).toBe('N');
    expect(afVentricular.beatClass).toBe('V');
    const strict = await run([...normal, inAf(classified(20, 'V', near()), true)], { correlationInAf: 0.98 });
    expect(strict[20].beatClass).toBe('V');
  });

  it('refuses bad options', () => {
    expect(() => gateVebByTemplate({ correlationInAf: -2 })).toThrow(ConfigError);
    expect(() => gateVebByTemplate({ minCorrelation: 1.5 })).toThrow(ConfigError);
    expect(() => gateVebByTemplate({ templateBeats: 0 })).toThrow(ConfigError);
    expect(() => gateVebByTemplate({ minBeats: 40 })).toThrow(ConfigError);
  });
});
