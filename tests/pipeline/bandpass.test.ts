import fc from 'fast-check';
import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ConfigError, StreamError } from '../../src/errors.js';
import { bandpass } from '../../src/pipeline/bandpass.js';
import type { SampleChunk } from '../../src/types.js';
import { chunksOf, concat, cutsArb, malformedChunkOutcome, run } from './helpers.js';

const FS = 360;
const sine = (hz: number, n: number, fsHz = FS): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * hz * i) / fsHz));
/** RMS of the last half (after the transient). */
const rmsTail = (x: Float32Array): number => {
  const h = x.subarray(x.length >> 1);
  return Math.sqrt(h.reduce((s, v) => s + v * v, 0) / h.length);
};

describe('bandpass', () => {
  it('passes 10 Hz and attenuates 0.1 Hz and 100 Hz (0.5-40 Hz, order 2)', async () => {
    const n = 60 * FS;
    const gain = async (hz: number): Promise<number> => rmsTail(concat(await run(chunksOf(sine(hz, n), [1000, 5000]), bandpass()))) / Math.SQRT1_2;
    expect(await gain(10)).toBeGreaterThan(0.97);
    expect(await gain(0.1)).toBeLessThan(0.05); // 2nd-order high-pass, 2.3 octaves below 0.5 Hz: ~ -28 dB
    expect(await gain(100)).toBeLessThan(0.2); // 2nd-order low-pass, 1.3 octaves above 40 Hz: ~ -15 dB
    expect(await gain(100)).toBeLessThan(0.2);
  });

  it('a higher order attenuates more', async () => {
    const x = sine(100, 10 * FS);
    const g2 = rmsTail(concat(await run(chunksOf(x, []), bandpass({ order: 2 }))));
    const g6 = rmsTail(concat(await run(chunksOf(x, []), bandpass({ order: 6 }))));
    expect(g6).toBeLessThan(g2 / 5);
  });

  it('starts in the steady state of the first sample: a constant offset gives no transient', async () => {
    const x = new Float32Array(2 * FS).fill(-0.7);
    const y = concat(await run(chunksOf(x, [100]), bandpass()));
    expect(Math.max(...y.map(Math.abs))).toBeLessThan(1e-6);
  });

  it('a fault while filtering a chunk ends the stream on the error channel, never as an uncaught exception', async () => {
    const { error, unhandled } = await malformedChunkOutcome(chunksOf(sine(10, 2 * FS), [FS]), bandpass());
    expect(error).toBeInstanceOf(TypeError);
    expect(unhandled).toEqual([]);
  });

  it('gives bit-identical output for any chunking, primary and aux leads (property)', async () => {
    const n = 3000;
    const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i / 7) + 0.3 * Math.sin(i / 131) + ((i * 7919) % 13) / 50);
    const aux = Float32Array.from(x, (v, i) => v * 0.5 + (i % 17) / 40);
    const whole = await run(chunksOf(x, [], FS, 0, aux), bandpass());
    const ref = concat(whole), refAux = concat(whole, 0);
    await fc.assert(
      fc.asyncProperty(cutsArb(n), async (cuts) => {
        const out = await run(chunksOf(x, cuts, FS, 0, aux), bandpass());
        expect(concat(out)).toEqual(ref);
        expect(concat(out, 0)).toEqual(refAux);
        expect(out.map((c) => c.startSample)).toEqual(chunksOf(x, cuts).map((c) => c.startSample));
      }),
      { numRuns: 50 },
    );
  });

  it('keeps NaN at missing samples, holds the last value into the filter, and recovers', async () => {
    const x = sine(10, 4 * FS);
    const holed = x.slice();
    for (let i = 500; i < 560; i++) holed[i] = Number.NaN;
    const held = x.slice();
    for (let i = 500; i < 560; i++) held[i] = x[499]!;
    const y = concat(await run(chunksOf(holed, [530, 700]), bandpass()));
    const yHeld = concat(await run(chunksOf(held, []), bandpass()));
    for (let i = 0; i < x.length; i++) {
      if (i >= 500 && i < 560) expect(y[i]).toBeNaN();
      else expect(y[i]).toBe(yHeld[i]);
    }
    expect(Number.isFinite(y[x.length - 1]!)).toBe(true);
  });

  it('outputs NaN until the first valid sample, whatever the chunking', async () => {
    const x = sine(10, 1000);
    for (let i = 0; i < 100; i++) x[i] = Number.NaN;
    const a = concat(await run(chunksOf(x, [50]), bandpass()));
    const b = concat(await run(chunksOf(x, [150]), bandpass()));
    expect(a).toEqual(b);
    expect(a[99]).toBeNaN();
    expect(Number.isFinite(a[100]!)).toBe(true);
  });

  it('restarts the filter after a gap', async () => {
    const x = new Float32Array(400).fill(1);
    const chunks = chunksOf(x, [200]);
    chunks[1] = { ...chunks[1]!, startSample: 1000 }; // gap of 800 samples; constant input again -> steady state again
    const out = await run(chunks, bandpass());
    expect(out[1]!.startSample).toBe(1000);
    expect(Math.max(...out[1]!.samples.map(Math.abs))).toBeLessThan(1e-6);
  });

  it('errors with ECG_ERR_STREAM on a chunk that goes backwards or changes rate', async () => {
    const x = sine(10, 400);
    const back = chunksOf(x, [200]);
    back[1] = { ...back[1]!, startSample: 100 };
    const e1 = await run(back, bandpass()).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(StreamError);
    expect(e1).toMatchObject({ code: 'ECG_ERR_STREAM', streamId: 'test/1', sampleIndex: 100 });
    const rate = chunksOf(x, [200]);
    rate[1] = { ...rate[1]!, fsHz: 250 };
    await expect(run(rate, bandpass())).rejects.toMatchObject({ code: 'ECG_ERR_STREAM', sampleIndex: 200 });
  });

  it('checks its options when called', () => {
    expect(() => bandpass({ lowHz: -1 })).toThrow(ConfigError);
    expect(() => bandpass({ lowHz: 50, highHz: 40 })).toThrow(/below/);
    expect(() => bandpass({ order: 3 })).toThrow(expect.objectContaining({ code: 'ECG_ERR_BAD_OPTION' }));
  });

  it('forwards complete, error and early unsubscribe (marbles)', () => {
    const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
    const c: SampleChunk = { streamId: 's', startSample: 0, fsHz: FS, lead: 'I', samples: new Float32Array(4) };
    const d: SampleChunk = { ...c, startSample: 4 };
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const ok = cold('-a-b-|', { a: c, b: d });
      expectObservable(ok.pipe(bandpass())).toBe('-a-b-|', { a: expect.objectContaining({ startSample: 0 }), b: expect.objectContaining({ startSample: 4 }) });
      const bad = cold('-a-#', { a: c }, new Error('boom'));
      expectObservable(bad.pipe(bandpass())).toBe('-a-#', { a: expect.objectContaining({ startSample: 0 }) }, new Error('boom'));
      const long = cold('-a-b-a', { a: c, b: d });
      expectObservable(long.pipe(bandpass()), '^--!').toBe('-a-', { a: expect.objectContaining({ startSample: 0 }) });
      expectSubscriptions(long.subscriptions).toBe('^--!');
    });
  });

  it('keeps separate filter memory per subscription', () => {
    const s = new Subject<SampleChunk>();
    const op = bandpass();
    const a: number[] = [], b: number[] = [];
    s.pipe(op).subscribe((c) => a.push(...c.samples));
    const chunk: SampleChunk = { streamId: 's', startSample: 0, fsHz: FS, lead: 'I', samples: sine(10, 100) };
    s.next(chunk);
    s.pipe(op).subscribe((c) => b.push(...c.samples));
    s.next({ ...chunk, startSample: 100 }); // first chunk for b, second for a
    expect(b).toEqual(a.slice(0, 100));
  });
});
