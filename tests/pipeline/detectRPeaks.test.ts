import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { lastValueFrom, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ConfigError, StreamError } from '../../src/errors.js';
import { bandpass } from '../../src/pipeline/bandpass.js';
import { detectRPeaks } from '../../src/pipeline/detectRPeaks.js';
import { recordSource } from '../../src/sources/recordSource.js';
import type { RPeak, SampleChunk } from '../../src/types.js';
import { decodeAnnotations } from '../../src/wfdb/annotations.js';
import { isBeatCode } from '../../src/wfdb/annotationCodes.js';
import { MITDB_DIR, skipWithoutMitdb } from '../helpers/mitdb.js';
import { chunksOf, concat, cutsArb, malformedChunkOutcome, run, syntheticEcg } from './helpers.js';

const FS = 360;
const TOLERANCE = 54; // 150 ms at 360 Hz, the EC57 match window

/** Beats every ~0.8 s with +-10% variation (deterministic). */
function beatTimes(n: number, first = 200): number[] {
  const beats: number[] = [];
  for (let b = first, k = 0; b < n - 100; k++) {
    beats.push(b);
    b += Math.round(0.8 * FS * (1 + 0.1 * Math.sin(k * 1.7)));
  }
  return beats;
}

/** Greedy one-to-one matching within the tolerance: [matched, missed reference, extra detections]. */
function score(ref: readonly number[], det: readonly number[]): { tp: number; fn: number; fp: number } {
  const used = new Set<number>();
  let tp = 0;
  for (const r of ref) {
    let best = -1;
    det.forEach((d, i) => {
      if (!used.has(i) && Math.abs(d - r) <= TOLERANCE && (best < 0 || Math.abs(d - r) < Math.abs(det[best]! - r))) best = i;
    });
    if (best >= 0) {
      used.add(best);
      tp++;
    }
  }
  return { tp, fn: ref.length - tp, fp: det.length - tp };
}

async function peaksOf(chunks: readonly SampleChunk[]): Promise<RPeak[]> {
  return run(chunks, (c$) => c$.pipe(bandpass(), detectRPeaks()));
}

describe('detectRPeaks (pantompkins1985)', () => {
  const n = 60 * FS;
  const beats = beatTimes(n);
  const ecg = syntheticEcg(n, beats);

  it('finds every beat of a synthetic ECG, at the QRS peak, with no extra detections', async () => {
    const peaks = await peaksOf(chunksOf(ecg, Array.from({ length: 59 }, (_, i) => (i + 1) * FS)));
    expect(score(beats, peaks.map((p) => p.sampleIndex))).toEqual({ tp: beats.length, fn: 0, fp: 0 });
    for (const p of peaks) {
      const nearest = beats.reduce((a, b) => (Math.abs(b - p.sampleIndex) < Math.abs(a - p.sampleIndex) ? b : a));
      expect(Math.abs(nearest - p.sampleIndex)).toBeLessThanOrEqual(3); // band-pass delay of a few samples at most
      expect(p).toMatchObject({ streamId: 'test/1', fsHz: FS, lead: 'MLII' });
      expect(p.latencySamples).toBe(p.detectedAtSample - p.sampleIndex);
      expect(p.latencySamples).toBeGreaterThan(0);
      expect(p.amplitudeMv).toBeGreaterThan(0.5);
    }
    // Live peaks (after the 2 s learning phase) come out within 300 ms.
    const live = peaks.filter((p) => p.sampleIndex > 3 * FS);
    expect(Math.max(...live.map((p) => p.latencySamples))).toBeLessThan(0.3 * FS);
  });

  it('a fault while detecting ends the stream on the error channel, never as an uncaught exception', async () => {
    const x = syntheticEcg(5 * 360, [200, 500, 800, 1100, 1400, 1700]);
    for (const leadFallback of [false, true]) {
      const { error, unhandled } = await malformedChunkOutcome(chunksOf(x, [360, 720], 360, 0, leadFallback ? x : undefined), detectRPeaks({ leadFallback }));
      expect(error).toBeInstanceOf(TypeError);
      expect(unhandled).toEqual([]);
    }
  });

  it('gives identical peaks for any chunking (property)', async () => {
    const x = ecg.subarray(0, 20 * FS);
    const ref = await peaksOf(chunksOf(x, []));
    await fc.assert(
      fc.asyncProperty(cutsArb(x.length), async (cuts) => {
        expect(await peaksOf(chunksOf(x, cuts))).toEqual(ref);
      }),
      { numRuns: 40 },
    );
  });

  it('survives NaN runs and recovers (no crash, beats after the dropout found)', async () => {
    const x = ecg.slice();
    for (let i = 20 * FS; i < 25 * FS; i++) x[i] = Number.NaN; // 5 s lead-off
    for (let i = 30 * FS; i < 30 * FS + 20; i++) x[i] = Number.NaN; // a 55 ms dropout
    const peaks = await peaksOf(chunksOf(x, [20 * FS + 7, 27 * FS]));
    const det = peaks.map((p) => p.sampleIndex);
    const after = beats.filter((b) => b > 27 * FS && (b < 30 * FS - 60 || b > 30 * FS + 80));
    expect(score(after, det.filter((d) => d > 27 * FS - TOLERANCE)).fn).toBe(0);
    expect(det.every(Number.isInteger)).toBe(true);
  });

  it('bridges short gaps and restarts after long ones', async () => {
    const chunks = chunksOf(ecg, Array.from({ length: 59 }, (_, i) => (i + 1) * FS));
    const short = chunks.filter((_, i) => i !== 10); // 1 s missing: bridged
    const long = chunks.filter((_, i) => i < 10 || i > 14); // 5 s missing: restart
    for (const variant of [short, long]) {
      const det = (await peaksOf(variant)).map((p) => p.sampleIndex);
      const later = beats.filter((b) => b > 20 * FS);
      expect(score(later, det.filter((d) => d > 20 * FS - TOLERANCE)).fn).toBe(0);
    }
  });

  it('errors with ECG_ERR_STREAM when chunks go backwards or change rate; checks options', async () => {
    const chunks = chunksOf(ecg.subarray(0, 1000), [500]);
    const back = [chunks[0]!, { ...chunks[1]!, startSample: 10 }];
    const e = await run(back, detectRPeaks()).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(StreamError);
    expect(e).toMatchObject({ code: 'ECG_ERR_STREAM', streamId: 'test/1', sampleIndex: 10 });
    await expect(run([chunks[0]!, { ...chunks[1]!, fsHz: 250 }], detectRPeaks())).rejects.toMatchObject({ code: 'ECG_ERR_STREAM' });
    expect(() => detectRPeaks({ method: 'hamilton2002' as 'pantompkins1985' })).toThrow(ConfigError);
    expect(() => detectRPeaks({ refractoryMs: -1 })).toThrow(expect.objectContaining({ code: 'ECG_ERR_BAD_OPTION' }));
  });

  it('decides a stream shorter than the learning phase on complete; forwards error and unsubscribe (marbles)', () => {
    const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
    const x = syntheticEcg(1.5 * FS, [100, 380]); // 1.5 s, two beats
    const a: SampleChunk = { streamId: 's', startSample: 0, fsHz: FS, lead: 'I', samples: x };
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const peak = (s: number): unknown => expect.objectContaining({ sampleIndex: expect.closeTo(s, -1), detectedAtSample: 1.5 * FS - 1 }); // the last sample
      expectObservable(cold('-a-|', { a }).pipe(detectRPeaks())).toBe('---(pq|)', { p: peak(100), q: peak(380) });
      expectObservable(cold('-a-#', { a }).pipe(detectRPeaks())).toBe('---#');
      const src = cold('-a--', { a });
      expectObservable(src.pipe(detectRPeaks()), '^-!').toBe('---');
      expectSubscriptions(src.subscriptions).toBe('^-!');
    });
  });
});

describe('detectRPeaks lead fallback', () => {
  const n = 40 * FS;
  const beats = beatTimes(n);
  const aux = syntheticEcg(n, beats);
  const primary = aux.map((v, i) => (i >= 15 * FS && i < 23 * FS ? 0.02 * v : v)); // 8 s of lost electrode contact
  const flatBeats = beats.filter((b) => b > 16 * FS && b < 22 * FS);
  const run2 = (cuts: number[], leadFallback: boolean): Promise<RPeak[]> =>
    run(chunksOf(primary, cuts, FS, 0, aux), (c$) => c$.pipe(bandpass(), detectRPeaks({ leadFallback })));

  it('takes the beats from the aux lead while the primary lead is flat', async () => {
    const without = (await run2([], false)).map((p) => p.sampleIndex);
    expect(score(flatBeats, without).fn).toBeGreaterThan(2);
    const peaks = await run2([], true);
    const det = peaks.map((p) => p.sampleIndex);
    expect(score(flatBeats, det).fn).toBe(0);
    // At most one beat is lost at a switch (the block where contact is lost is not flat yet).
    const overall = score(beats.filter((b) => b > 3 * FS), det.filter((d) => d > 3 * FS - TOLERANCE));
    expect(overall.fn).toBeLessThanOrEqual(1);
    expect(overall.fp).toBe(0);
    expect(new Set(peaks.filter((p) => p.sampleIndex > 17 * FS && p.sampleIndex < 22 * FS).map((p) => p.lead))).toEqual(new Set(['V5']));
    expect(new Set(peaks.filter((p) => p.sampleIndex > 26 * FS).map((p) => p.lead))).toEqual(new Set(['MLII']));
    for (let i = 1; i < det.length; i++) expect(det[i]!).toBeGreaterThan(det[i - 1]!);
  });

  it('gives identical peaks for any chunking (property)', async () => {
    const ref = await run2([], true);
    await fc.assert(
      fc.asyncProperty(cutsArb(n), async (cuts) => {
        expect(await run2(cuts, true)).toEqual(ref);
      }),
      { numRuns: 15 },
    );
  });
});

describe.skipIf(skipWithoutMitdb())('detectRPeaks on MIT-BIH', () => {
  /** Reference: `rdann -r mitdb/100 -a atr -t 30` (beat annotations of the first 30 s). */
  it('matches every annotated beat of the first 30 s of record 100 within 150 ms, no extra detections', async () => {
    const end = 30 * FS;
    const peaks = await lastValueFrom(recordSource(MITDB_DIR, '100', { toSample: end }).pipe(bandpass(), detectRPeaks(), toArray()));
    const ref = decodeAnnotations(readFileSync(join(MITDB_DIR, '100.atr')), '100.atr')
      .filter((a) => isBeatCode(a.code) && a.sample < end - 0.3 * FS) // the last beats may be cut by the end
      .map((a) => a.sample);
    const det = peaks.map((p) => p.sampleIndex).filter((s) => s < end - 0.3 * FS + TOLERANCE);
    expect(ref.length).toBe(37); // beat lines of `rdann -r mitdb/100 -a atr -t 29.7`
    expect(score(ref, det)).toEqual({ tp: ref.length, fn: 0, fp: 0 });
  });

  it('gives identical peaks for any chunking on record 208 (PVCs, fusion beats)', async () => {
    const excerpt = concat(await lastValueFrom(recordSource(MITDB_DIR, '208', { toSample: 20 * FS }).pipe(toArray())));
    const ref = await peaksOf(chunksOf(excerpt, []));
    expect(ref.length).toBeGreaterThan(20);
    await fc.assert(
      fc.asyncProperty(cutsArb(excerpt.length), async (cuts) => {
        expect(await peaksOf(chunksOf(excerpt, cuts))).toEqual(ref);
      }),
      { numRuns: 20 },
    );
  });
});
