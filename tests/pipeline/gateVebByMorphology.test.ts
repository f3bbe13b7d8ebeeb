import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { gateVebByMorphology, type GateVebByMorphologyOptions } from '../../src/pipeline/gateVebByMorphology.js';
import type { BeatClassification } from '../../src/types.js';
import { classifiedBeat, noisyBeats, shiftedBy } from './helpers.js';

const { usual, wide } = noisyBeats(5);

/** Every call ranks N, then V, then S: a beat that loses V becomes N, a beat that loses the others becomes V. */
const call = (i: number, beatClass: BeatClassification['beatClass'], samples: Float32Array, streamId = 's') =>
  classifiedBeat(i, beatClass, samples, beatClass === 'V' ? [0.3, 0.1, 0.6, 0, 0] : beatClass === 'S' ? [0.3, 0.45, 0.25, 0, 0] : [0.6, 0.1, 0.3, 0, 0], streamId);

const run = (beats: BeatClassification[], options: GateVebByMorphologyOptions = {}) => lastValueFrom(from(beats).pipe(gateVebByMorphology(options), toArray()));

describe('gateVebByMorphology', () => {
  it('rules V out for a V call among look-alikes the model mostly calls otherwise, and keeps a V call of its own shape', async () => {
    const normal = Array.from({ length: 20 }, (_, i) => call(i, 'N', usual()));
    const out = await run([...normal, call(20, 'V', usual()), call(21, 'V', wide())]);
    expect(out[20]).toMatchObject({ beatClass: 'N', modelClass: 'V', ruledOut: ['V'], morphologyVShare: 0 });
    expect(out[21]).toMatchObject({ beatClass: 'V' }); // a shape of its own: no vote yet
    expect(out[21].modelClass).toBeUndefined();
    expect(Number.isNaN(out[21].morphologyVShare)).toBe(true);
  });

  it('makes a non-V call V among look-alikes the model mostly calls V, unless an earlier rule ruled V out', async () => {
    // A patient with many PVCs of one shape: the model calls most of them V, a few S.
    const beats = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? call(i, 'N', usual()) : call(i, 'V', wide())));
    const ruledOutV = { ...call(41, 'S', wide()), ruledOut: ['V' as const] };
    const out = await run([...beats, call(40, 'S', wide()), ruledOutV, call(42, 'S', usual())]);
    expect(out[40]).toMatchObject({ beatClass: 'V', modelClass: 'S', morphologyVShare: 1 });
    expect(out[41]).toMatchObject({ beatClass: 'S', ruledOut: ['V'] });
    expect(out[42]).toMatchObject({ beatClass: 'S', morphologyVShare: 0 }); // an S call of the usual shape stays
    expect(out.slice(0, 40).map((b) => b.beatClass)).toEqual(beats.map((b) => b.beatClass));
  });

  it('votes only once a shape has minBeats earlier members, and between the two shares it leaves the call alone', async () => {
    const seven = Array.from({ length: 7 }, (_, i) => call(i, 'N', usual()));
    expect((await run([...seven, call(7, 'V', usual())]))[7].beatClass).toBe('V');
    expect((await run([...seven, call(7, 'N', usual()), call(8, 'V', usual())]))[8].beatClass).toBe('N');
    // Half the look-alikes called V: no vote either way.
    const mixed = Array.from({ length: 20 }, (_, i) => call(i, i % 2 ? 'V' : 'N', usual()));
    const out = await run([...mixed, call(20, 'V', usual()), call(21, 'N', usual())]);
    expect(out[20]).toMatchObject({ beatClass: 'V', morphologyVShare: 0.5 });
    expect(out[21]).toMatchObject({ beatClass: 'N' });
  });

  it('remembers the calls as they came in, not as it left them, so the vote does not feed on itself', async () => {
    // 10 N then 30 V calls of one shape: the first V calls are ruled out, but they still count as V calls.
    const beats = [...Array.from({ length: 10 }, (_, i) => call(i, 'N', usual())), ...Array.from({ length: 30 }, (_, i) => call(10 + i, 'V', usual()))];
    const out = await run(beats);
    expect(out[10].beatClass).toBe('N');
    expect(out[39].beatClass).toBe('V'); // by then 30 of the last 32 came in as V
  });

  it('with maxLagMs, counts a beat whose mark fell elsewhere in its QRS among its look-alikes', async () => {
    const normal = Array.from({ length: 20 }, (_, i) => call(i, 'N', usual()));
    const late = call(20, 'V', shiftedBy(usual(), 6));
    expect((await run([...normal, late], { maxLagMs: 0 }))[20].beatClass).toBe('V'); // a shape of its own
    expect((await run([...normal, late], { maxLagMs: 20 }))[20]).toMatchObject({ beatClass: 'N', modelClass: 'V', morphologyVShare: 0 });
    expect(() => gateVebByMorphology({ maxLagMs: Number.NaN })).toThrow(expect.objectContaining({ code: 'ECG_ERR_BAD_OPTION' }));
  });

  it('keeps streams apart, skips beats without a clean window, and refuses bad options', async () => {
    const a = Array.from({ length: 10 }, (_, i) => call(i, 'N', usual(), 'a'));
    const padded = { ...call(11, 'V', usual(), 'a'), window: { samples: usual(), samplesBefore: 180, paddedSamples: 3, fsHz: 360 } };
    const out = await run([...a, call(10, 'V', usual(), 'b'), padded]);
    expect(out[10].beatClass).toBe('V');
    expect(out[11]).toBe(padded);
    const bare: BeatClassification = { streamId: 's', sampleIndex: 0, fsHz: 360, beatClass: 'V', probabilities: [0.3, 0.1, 0.6, 0, 0], model: 'm' };
    expect((await run([bare]))[0]).toBe(bare);
    expect(() => gateVebByMorphology({ minCorrelation: 1.5 })).toThrow(expect.objectContaining({ code: 'ECG_ERR_BAD_OPTION' }));
    expect(() => gateVebByMorphology({ maxVShareToRuleOut: 0.9, minVShareToRuleIn: 0.8 })).toThrow(expect.objectContaining({ code: 'ECG_ERR_BAD_OPTION' }));
    expect(() => gateVebByMorphology({ minBeats: 40 })).toThrow(expect.objectContaining({ code: 'ECG_ERR_BAD_OPTION', message: expect.stringMatching(/minBeats=40 must be an integer in 1\.\.historyBeats \(32\)/) }));
    expect(() => gateVebByMorphology({ templateBeats: 0 })).toThrow(expect.objectContaining({ message: expect.stringMatching(/templateBeats=0 must be a positive integer/) }));
  });

  it('keeps at most maxClusters shapes, dropping the least recently joined', async () => {
    // Shape A (usual) is joined first, then shape B (wide) twenty times: with one cluster, A's history is gone.
    const beats = [...Array.from({ length: 10 }, (_, i) => call(i, 'N', usual())), ...Array.from({ length: 20 }, (_, i) => call(10 + i, 'V', wide()))];
    const one = await run([...beats, call(30, 'V', usual())], { maxClusters: 1 });
    expect(one[30].beatClass).toBe('V');
    const two = await run([...beats, call(30, 'V', usual())], { maxClusters: 2 });
    expect(two[30].beatClass).toBe('N');
  });
});
