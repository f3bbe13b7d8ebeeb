import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { gateNormalInAtrialRun, type GateNormalInAtrialRunOptions } from '../../src/pipeline/gateNormalInAtrialRun.js';
import type { BeatClass, BeatClassification } from '../../src/types.js';

/** A classified beat with its previous RR (ms); an N call's second choice is S, an S call's is N. */
function classified(beatClass: BeatClass, previousRrMs: number, streamId = 's', probabilities?: number[]): BeatClassification {
  const p = probabilities ?? (beatClass === 'S' ? [0.35, 0.6, 0.05, 0, 0] : beatClass === 'V' ? [0.3, 0.1, 0.6, 0, 0] : [0.6, 0.35, 0.05, 0, 0]);
  return {
    streamId, sampleIndex: 0, fsHz: 360, beatClass, probabilities: p, model: 'm',
    rr: { previousRrMs, nextRrMs: previousRrMs, localMeanRrMs: previousRrMs, recordMeanRrMs: previousRrMs, localVariationRrMs: 20 },
  };
}

/** Ten sinus beats at 1,000 ms: nine N-to-N intervals, enough for a usual interval. */
const sinus = (streamId = 's') => Array.from({ length: 10 }, () => classified('N', 1000, streamId));

const run = (beats: BeatClassification[], options: GateNormalInAtrialRunOptions = {}) =>
  lastValueFrom(from(beats).pipe(gateNormalInAtrialRun(options), toArray()));

const classes = (beats: BeatClassification[]) => beats.map((b) => b.beatClass).join('');

describe('gateNormalInAtrialRun', () => {
  it('turns N calls that go on at an S beat\'s faster rate into S, to the end of the run, and keeps the sinus beat after the pause', async () => {
    const out = await run([...sinus(), classified('S', 600), classified('N', 620), classified('N', 610), classified('S', 600), classified('N', 1500), classified('N', 1000)]);
    expect(classes(out.slice(10))).toBe('SSSSNN');
    expect(out[11].modelClass).toBe('N');
    expect(out[11].ruledOut).toEqual(['N']);
    expect(out[14].modelClass).toBeUndefined();
  });

  it('leaves a run at the sinus rate alone: a false S call in sinus rhythm does not spread', async () => {
    const out = await run([...sinus(), classified('S', 1000), classified('N', 1000), classified('N', 1000)]);
    expect(classes(out.slice(10))).toBe('SNN');
  });

  it('uses maxRateChange and maxShareOfUsualRr as its bounds', async () => {
    const faster = [...sinus(), classified('S', 600), classified('N', 600 * 1.12)];
    expect(classes(await run(faster)).at(-1)).toBe('N');
    expect(classes(await run(faster, { maxRateChange: 0.15 })).at(-1)).toBe('S');
    const slightlyFaster = [...sinus(), classified('S', 850), classified('N', 850)];
    expect(classes(await run(slightlyFaster)).at(-1)).toBe('N');
    expect(classes(await run(slightlyFaster, { maxShareOfUsualRr: 0.9 })).at(-1)).toBe('S');
  });

  it('does nothing before the stream has minUsualIntervals N-to-N intervals, and counts them per stream', async () => {
    const early = [...sinus().slice(0, 8), classified('S', 600), classified('N', 600)];
    expect(classes(await run(early)).at(-1)).toBe('N'); // 7 intervals
    expect(classes(await run(early, { minUsualIntervals: 7 })).at(-1)).toBe('S');
    const interleaved = [...sinus('a'), classified('S', 600, 'b'), classified('N', 600, 'b'), classified('S', 600, 'a'), classified('N', 600, 'a')];
    expect(classes(await run(interleaved)).slice(10)).toBe('SNSS');
  });

  it('never brings back an S another rule ruled out, and never makes a beat anything but S', async () => {
    const noS = { ...classified('N', 600), ruledOut: ['S' as const] };
    const vSecond = classified('N', 600, 's', [0.5, 0.2, 0.3, 0, 0]);
    const vOutSSecond = { ...classified('N', 600, 's', [0.5, 0.2, 0.3, 0, 0]), ruledOut: ['V' as const] };
    for (const [beat, expected] of [[noS, 'N'], [vSecond, 'N'], [vOutSSecond, 'S']] as const) {
      const out = await run([...sinus(), classified('S', 600), beat]);
      expect(out.at(-1)!.beatClass).toBe(expected);
    }
  });

  it('passes beats without RR intervals and refuses bad options', async () => {
    const bare: BeatClassification = { streamId: 's', sampleIndex: 0, fsHz: 360, beatClass: 'N', probabilities: [0.6, 0.4, 0, 0, 0], model: 'm' };
    const out = await run([...sinus(), classified('S', 600), bare]);
    expect(out.at(-1)).toBe(bare);
    expect(() => gateNormalInAtrialRun({ maxRateChange: 1 })).toThrow(ConfigError);
    expect(() => gateNormalInAtrialRun({ maxShareOfUsualRr: 0 })).toThrow(ConfigError);
    expect(() => gateNormalInAtrialRun({ minUsualIntervals: 40 })).toThrow(ConfigError);
  });
});
