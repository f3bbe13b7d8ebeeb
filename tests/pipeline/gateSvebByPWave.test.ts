import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { gateSvebByPWave } from '../../src/pipeline/gateSvebByPWave.js';
import type { BeatClassification } from '../../src/types.js';
import { classifiedWithRanking, noisyBeats } from './helpers.js';

/** sinus: the usual beat; ectopic: an atrial premature beat, the same QRS but no sinus P wave where the usual one is. */
const { usual: sinus, withoutPWave: ectopic } = noisyBeats(5);

/** The model's second choice is N for an S call, S for the others. */
const classified = classifiedWithRanking('S', [0.35, 0.6, 0.05, 0, 0], [0.7, 0.25, 0.05, 0, 0]);

const run = (beats: BeatClassification[], options = {}) => lastValueFrom(from(beats).pipe(gateSvebByPWave(options), toArray()));

describe('gateSvebByPWave', () => {
  it("overrules an S call with the stream's usual P wave, and keeps one without it", async () => {
    const normal = Array.from({ length: 20 }, (_, i) => classified(i, 'N', sinus()));
    const out = await run([...normal, classified(20, 'S', sinus()), classified(21, 'S', ectopic())]);
    const [sinusLike, premature] = out.slice(20);
    expect(sinusLike.beatClass).toBe('N');
    expect(sinusLike.modelClass).toBe('S');
    expect(sinusLike.usualBeatPCorrelation).toBeGreaterThan(0.95);
    expect(premature.beatClass).toBe('S');
    expect(premature.modelClass).toBeUndefined();
    expect(premature.usualBeatPCorrelation).toBeLessThan(0.5);
    expect(out.slice(0, 20).every((b) => b.beatClass === 'N' && b.modelClass === undefined)).toBe(true);
  });

  it('leaves V calls alone, and does nothing before it has minBeats N beats', async () => {
    const few = await run([...Array.from({ length: 7 }, (_, i) => classified(i, 'N', sinus())), classified(7, 'S', sinus())]);
    expect(few[7].beatClass).toBe('S');
    expect(Number.isNaN(few[7].usualBeatPCorrelation)).toBe(true);
    const enough = await run([...Array.from({ length: 8 }, (_, i) => classified(i, 'N', sinus())), classified(8, 'S', sinus()), classified(9, 'V', sinus())]);
    expect(enough[8].beatClass).toBe('N');
    expect(enough[9].beatClass).toBe('V');
  });

  it('builds the usual beat from N calls only: a stream of mostly S calls does not make them usual', async () => {
    // Two S calls (ectopic) for every N beat; with all beats in it, the median would lack the P wave, and a sinus beat
    // called S would not match it.
    const beats = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? classified(i, 'N', sinus()) : classified(i, 'S', ectopic())));
    const out = await run([...beats, classified(60, 'S', sinus())]);
    expect(out.slice(0, 60).filter((b) => b.beatClass === 'S')).toHaveLength(40);
    expect(out[60].beatClass).toBe('N');
  });

  it('passes beats without a window, keeps streams apart, and refuses bad options', async () => {
    const bare: BeatClassification = { streamId: 's', sampleIndex: 0, fsHz: 360, beatClass: 'S', probabilities: [0.3, 0.6, 0.1, 0, 0], model: 'm' };
    expect((await run([bare]))[0]).toBe(bare);
    const a = Array.from({ length: 10 }, (_, i) => classified(i, 'N', sinus(), 'a'));
    const out = await run([...a, classified(10, 'S', sinus(), 'b'), classified(11, 'S', sinus(), 'a')]);
    expect(out[10].beatClass).toBe('S'); // stream b has no usual beat yet
    expect(out[11].beatClass).toBe('N');
    expect(() => gateSvebByPWave({ minCorrelation: 2 })).toThrow(ConfigError);
    expect(() => gateSvebByPWave({ templateBeats: 4, minBeats: 8 })).toThrow(ConfigError);
    // It compares the P wave at the mark: a shift would hide a PR interval unlike the sinus beats'.
    expect(() => gateSvebByPWave({ maxLagMs: 10 } as never)).toThrow(/maxLagMs=10 must be 0/);
  });
});
