import fc from 'fast-check';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { resample } from '../../src/pipeline/resample.js';
import type { SampleChunk } from '../../src/types.js';
import { chunksOf, concat, cutsArb, malformedChunkOutcome, run } from './helpers.js';

const sineAt = (hz: number, fsHz: number, n: number, start = 0): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * hz * (start + i)) / fsHz));

describe('resample', () => {
  it('turns a 5 Hz sine at 250 Hz into the same sine at 360 Hz (error < 0.2% of amplitude)', async () => {
    const n = 2500; // 10 s
    const out = await run(chunksOf(sineAt(5, 250, n), [333, 1000], 250), resample({ toHz: 360 }));
    const y = concat(out);
    expect(out[0]!.fsHz).toBe(360);
    expect(out[0]!.startSample).toBe(0);
    expect(y.length).toBe(3600); // 10 s at 360 Hz, the tail flushed on complete
    const expected = sineAt(5, 360, y.length);
    let maxErr = 0;
    for (let k = 2; k < y.length - 2; k++) maxErr = Math.max(maxErr, Math.abs(y[k]! - expected[k]!));
    expect(maxErr).toBeLessThan(2e-3);
  });

  it('down-samples 500 -> 360 Hz with indices at the new rate', async () => {
    const out = await run(chunksOf(sineAt(3, 500, 1000, 1000), [10], 500, 1000), resample({ toHz: 360 }));
    expect(out[0]!.startSample).toBe(720); // ceil(1000 * 360 / 500)
    const y = concat(out);
    const expected = sineAt(3, 360, y.length, 720);
    for (let k = 2; k < y.length - 2; k++) expect(Math.abs(y[k]! - expected[k]!)).toBeLessThan(1e-3);
  });

  it('a fault while resampling a chunk ends the stream on the error channel, never as an uncaught exception', async () => {
    const { error, unhandled } = await malformedChunkOutcome(chunksOf(sineAt(5, 250, 500), [250], 250), resample({ toHz: 360 }));
    expect(error).toBeInstanceOf(TypeError);
    expect(unhandled).toEqual([]);
  });

  it('gives bit-identical output and contiguous indices for any chunking (property)', async () => {
    const n = 2000;
    const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i / 5) + ((i * 31) % 7) / 10);
    const ref = concat(await run(chunksOf(x, [], 250, 0, x), resample({ toHz: 360 })));
    await fc.assert(
      fc.asyncProperty(cutsArb(n), async (cuts) => {
        const out = await run(chunksOf(x, cuts, 250, 0, x), resample({ toHz: 360 }));
        expect(concat(out)).toEqual(ref);
        expect(concat(out, 0)).toEqual(ref);
        let next = 0;
        for (const c of out) {
          expect(c.startSample).toBe(next);
          next += c.samples.length;
        }
      }),
      { numRuns: 50 },
    );
  });

  it('confines NaN to the outputs that use the missing sample', async () => {
    const x = sineAt(5, 250, 500);
    x[200] = Number.NaN;
    const y = concat(await run(chunksOf(x, [100], 250), resample({ toHz: 360 })));
    const nan = [...y].map((v, k) => (Number.isNaN(v) ? k : -1)).filter((k) => k >= 0);
    expect(nan.length).toBeGreaterThan(0);
    expect(nan.length).toBeLessThanOrEqual(6); // outputs within 2 input samples of 200
    expect(nan.every((k) => Math.abs((k * 250) / 360 - 200) < 2)).toBe(true);
  });

  it('passes a stream already at the target rate through untouched', async () => {
    const chunks = chunksOf(sineAt(5, 360, 100), [50]);
    const out = await run(chunks, resample({ toHz: 360 }));
    expect(out[0]).toBe(chunks[0]);
  });

  it('checks options and stream continuity', async () => {
    expect(() => resample({ toHz: 0 })).toThrow(ConfigError);
    const chunks = chunksOf(sineAt(5, 250, 100), [50], 250);
    chunks[1] = { ...chunks[1]!, startSample: 10 };
    await expect(run(chunks, resample())).rejects.toMatchObject({ code: 'ECG_ERR_STREAM', sampleIndex: 10 });
  });

  it('forwards error and early unsubscribe, and flushes on complete (marbles)', () => {
    const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
    const c: SampleChunk = { streamId: 's', startSample: 0, fsHz: 250, lead: 'I', samples: new Float32Array(25) };
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const any = expect.objectContaining({ fsHz: 360 });
      expectObservable(cold('-a-|', { a: c }).pipe(resample())).toBe('-a-(b|)', { a: any, b: any });
      expectObservable(cold('-a-#', { a: c }).pipe(resample())).toBe('-a-#', { a: any });
      const src = cold('-a--', { a: c });
      expectObservable(src.pipe(resample()), '^-!').toBe('-a-', { a: any });
      expectSubscriptions(src.subscriptions).toBe('^-!');
    });
  });
});
