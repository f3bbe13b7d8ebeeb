import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { gateSvebByQrs } from '../../src/pipeline/gateSvebByQrs.js';
import type { BeatClassification } from '../../src/types.js';
import { classifiedWithRanking, noisyBeats } from './helpers.js';

const { usual, wide } = noisyBeats(7);

/** The model's second choice is V for an S call, S for the others. */
const classified = classifiedWithRanking('S', [0.1, 0.55, 0.35, 0, 0], [0.6, 0.3, 0.1, 0, 0]);

const run = (beats: BeatClassification[], options = {}) => lastValueFrom(from(beats).pipe(gateSvebByQrs(options), toArray()));

describe('gateSvebByQrs', () => {
  it("rules S out for a beat whose QRS is unlike the stream's usual beat, and keeps an S call with the usual QRS", async () => {
    const normal = Array.from({ length: 20 }, (_, i) => classified(i, 'N', usual()));
    const out = await run([...normal, classified(20, 'S', wide()), classified(21, 'S', usual()), classified(22, 'N', wide())]);
    const [unlike, alike, unlikeN] = out.slice(20);
    expect(unlike.beatClass).toBe('V');
    expect(unlike.modelClass).toBe('S');
    expect(unlike.ruledOut).toEqual(['S']);
    expect(alike.beatClass).toBe('S');
    expect(alike.ruledOut).toBeUndefined();
    // A beat of another class keeps its class, with S ruled out for a later rule.
    expect(unlikeN.beatClass).toBe('N');
    expect(unlikeN.ruledOut).toEqual(['S']);
    expect(out.slice(0, 20).every((b) => b.ruledOut === undefined)).toBe(true);
  });

  it('builds the usual beat from non-V calls only, and does nothing before it has minBeats of them', async () => {
    const early = await run([...Array.from({ length: 7 }, (_, i) => classified(i, 'N', usual())), classified(7, 'S', wide())]);
    expect(early[7].beatClass).toBe('S');
    // Wide beats called V do not become the usual beat, however many there are.
    const beats = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? classified(i, 'N', usual()) : classified(i, 'V', wide())));
    const out = await run([...beats, classified(60, 'S', wide())]);
    expect(out[60].beatClass).toBe('V');
  });

  it('uses maxCorrelation as the threshold and refuses a bad one', async () => {
    const beats = [...Array.from({ length: 10 }, (_, i) => classified(i, 'N', usual())), classified(10, 'S', wide())];
    expect((await run(beats, { maxCorrelation: -0.99 }))[10].beatClass).toBe('S');
    expect(() => gateSvebByQrs({ maxCorrelation: 1.5 })).toThrow(ConfigError);
  });
});
