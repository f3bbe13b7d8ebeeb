import fc from 'fast-check';
import { from, lastValueFrom, Observable, of, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, StreamError } from '../../src/errors.js';
import { windowBeats } from '../../src/pipeline/windowBeats.js';
import type { BeatWindow, RPeak, SampleChunk } from '../../src/types.js';

const FS = 360;

/** A ramp stream: sample i has value i, so a window's content tells exactly where it was cut. */
function rampChunks(totalSamples: number, splits: number[] = [], startSample = 0): SampleChunk[] {
  const bounds = [...new Set([0, ...splits.filter((s) => s > 0 && s < totalSamples), totalSamples])].sort((a, b) => a - b);
  const chunks: SampleChunk[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const samples = new Float32Array(bounds[k + 1] - bounds[k]);
    for (let i = 0; i < samples.length; i++) samples[i] = startSample + bounds[k] + i;
    chunks.push({ streamId: 'test', startSample: startSample + bounds[k], fsHz: FS, lead: 'MLII', samples });
  }
  return chunks;
}

function peak(sampleIndex: number, extra: Partial<RPeak> = {}): RPeak {
  return { streamId: 'test', sampleIndex, fsHz: FS, amplitudeMv: 1, detectedAtSample: sampleIndex, latencySamples: 0, lead: 'MLII', searchBack: false, ...extra };
}

const run = (chunks: SampleChunk[], peaks: RPeak[], options = {}): Promise<BeatWindow[]> =>
  lastValueFrom(from(chunks).pipe(windowBeats(from(peaks), options), toArray()));

describe('windowBeats', () => {
  it('cuts 180 samples before and 180 from the R-peak, with RR features in ms', async () => {
    const peaks = [1000, 1360, 1720, 2260].map((s) => peak(s, { label: 'N' }));
    const beats = await run(rampChunks(4000, [360, 720, 1080, 1500]), peaks);
    expect(beats.map((b) => b.sampleIndex)).toEqual([1000, 1360, 1720, 2260]);
    for (const beat of beats) {
      expect(beat.samples.length).toBe(360);
      expect(beat.samples[0]).toBe(beat.sampleIndex - 180);
      expect(beat.samples[180]).toBe(beat.sampleIndex);
      expect(beat.samples[359]).toBe(beat.sampleIndex + 179);
      expect(beat.paddedSamples).toBe(0);
      expect(beat.label).toBe('N');
    }
    // First beat: previous RR repeats the next one; last beat: next RR repeats the previous one.
    expect(beats[0].rr).toEqual({ previousRrMs: 1000, nextRrMs: 1000, localMeanRrMs: 1000, recordMeanRrMs: 1000, localVariationRrMs: 0 });
    expect(beats[2].rr.previousRrMs).toBe(1000);
    expect(beats[2].rr.nextRrMs).toBe(1500);
    expect(beats[3].rr).toEqual({ previousRrMs: 1500, nextRrMs: 1500, localMeanRrMs: (1000 + 1000 + 1500) / 3, recordMeanRrMs: (1000 + 1000 + 1500) / 3, localVariationRrMs: (0 + 500) / 2 });
  });

  it('averages only the last localBeats RR intervals for localMeanRrMs and localVariationRrMs', async () => {
    const positions = [400, 760, 1120, 1840, 2560]; // RR 360, 360, 720, 720 samples
    const beats = await run(rampChunks(3000), positions.map((s) => peak(s)), { localBeats: 2 });
    expect(beats[3].rr.localVariationRrMs).toBe(1000); // |720 - 360| samples
    expect(beats[4].rr.localVariationRrMs).toBe(0);
    expect(beats[4].rr.localMeanRrMs).toBe(2000);
    expect(beats[4].rr.recordMeanRrMs).toBe(1500);
  });

  it('pads windows at the start and end of the stream with the nearest sample', async () => {
    const beats = await run(rampChunks(1000, [], 50), [peak(60), peak(1000)]);
    expect(beats[0].paddedSamples).toBe(170); // samples -120..49 do not exist
    expect(beats[0].samples[0]).toBe(50);
    expect(beats[0].samples[170]).toBe(50);
    expect(beats[0].samples[180]).toBe(60);
    expect(beats[1].paddedSamples).toBe(130); // stream ends at 1049
    expect(beats[1].samples[359]).toBe(1049);
    expect(beats.every((b) => b.samples.every((v) => Number.isFinite(v)))).toBe(true);
  });

  it('pads over gaps and NaN samples instead of passing NaN on', async () => {
    const [first, , third] = rampChunks(1200, [400, 500]); // the 400..499 chunk never arrives: a gap
    third.samples[50] = Number.NaN; // sample 550
    const beats = await run([first, third], [peak(450), peak(800)]);
    expect(beats[0].paddedSamples).toBe(101);
    expect(beats[0].samples[179]).toBe(399); // 449 lies in the gap: nearest valid sample is 399 (tie goes earlier)
    expect(beats[0].samples.every((v) => Number.isFinite(v))).toBe(true);
    expect(beats[1].paddedSamples).toBe(0);
  });

  it('gives the same beats whatever the chunking (property)', async () => {
    const total = 5000;
    const positions = [200, 530, 900, 1300, 1650, 2100, 2500, 2800, 3300, 3700, 4100, 4850];
    const reference = await run(rampChunks(total), positions.map((s) => peak(s)));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: total - 1 }), { maxLength: 40 }), async (splits) => {
        const beats = await run(rampChunks(total, splits), positions.map((s) => peak(s)));
        expect(beats).toEqual(reference);
      }),
      { numRuns: 50 },
    );
  });

  it('waits for samples when peaks arrive first, and for peaks when samples arrive first', async () => {
    const chunks$ = new Subject<SampleChunk>();
    const peaks$ = new Subject<RPeak>();
    const out: BeatWindow[] = [];
    chunks$.pipe(windowBeats(peaks$)).subscribe((b) => out.push(b));
    peaks$.next(peak(300));
    peaks$.next(peak(700));
    const chunks = rampChunks(2000, [400, 800, 1200]);
    chunks$.next(chunks[0]); // up to 399: beat 300 needs 479
    expect(out).toHaveLength(0);
    chunks$.next(chunks[1]); // up to 799: beat 300 complete and next peak known
    expect(out.map((b) => b.sampleIndex)).toEqual([300]);
    chunks$.next(chunks[2]); // beat 700 has its samples but waits for the next peak
    expect(out).toHaveLength(1);
    peaks$.next(peak(1100));
    expect(out.map((b) => b.sampleIndex)).toEqual([300, 700]);
  });

  it('completes only when both inputs have completed, flushing the last beat', async () => {
    const chunks$ = new Subject<SampleChunk>();
    const peaks$ = new Subject<RPeak>();
    const out: BeatWindow[] = [];
    let completed = false;
    chunks$.pipe(windowBeats(peaks$)).subscribe({ next: (b) => out.push(b), complete: () => (completed = true) });
    for (const c of rampChunks(1000)) chunks$.next(c);
    peaks$.next(peak(500));
    chunks$.complete();
    expect(completed).toBe(false);
    peaks$.complete();
    expect(completed).toBe(true);
    expect(out.map((b) => b.sampleIndex)).toEqual([500]);
  });

  it('unsubscribes from both inputs when its subscriber leaves', () => {
    let chunkSubs = 0;
    let peakSubs = 0;
    const counted = <T>(count: () => void) => new Observable<T>(() => (count(), () => undefined));
    const sub = counted<SampleChunk>(() => chunkSubs++).pipe(windowBeats(counted<RPeak>(() => peakSubs++))).subscribe();
    expect([chunkSubs, peakSubs]).toEqual([1, 1]);
    sub.unsubscribe();
    expect(sub.closed).toBe(true);
  });

  it('forwards errors from either input', async () => {
    const boom = new Error('boom');
    await expect(lastValueFrom(new Observable<SampleChunk>((s) => s.error(boom)).pipe(windowBeats(of(peak(10)))))).rejects.toBe(boom);
    await expect(lastValueFrom(from(rampChunks(100)).pipe(windowBeats(new Observable<RPeak>((s) => s.error(boom)))))).rejects.toBe(boom);
  });

  it('rejects peaks out of order, a late peak beyond the history and a rate change as StreamError', async () => {
    const outOfOrder = run(rampChunks(2000), [peak(900), peak(400)]);
    await expect(outOfOrder).rejects.toMatchObject({ code: 'ECG_ERR_STREAM', streamId: 'test', sampleIndex: 400 });
    await expect(outOfOrder).rejects.toBeInstanceOf(StreamError);

    const chunks$ = new Subject<SampleChunk>();
    const peaks$ = new Subject<RPeak>();
    let error: unknown;
    chunks$.pipe(windowBeats(peaks$, { historyMs: 1000 })).subscribe({ error: (e) => (error = e) });
    for (const c of rampChunks(3600, [360, 720, 1080, 1440, 1800, 2160, 2520, 2880, 3240])) chunks$.next(c);
    peaks$.next(peak(500)); // 10 s after: samples 320..679 are long gone
    expect(error).toBeInstanceOf(StreamError);
    expect((error as StreamError).message).toMatch(/history/);

    const [a, b] = rampChunks(1000, [500]);
    const rateChange = run([a, { ...b, fsHz: 250 }], [peak(300)]);
    await expect(rateChange).rejects.toMatchObject({ code: 'ECG_ERR_STREAM', sampleIndex: 500 });
  });

  it('checks its options when called', () => {
    expect(() => windowBeats(of(), { samplesAfter: 0 })).toThrow(ConfigError);
    expect(() => windowBeats(of(), { samplesBefore: 1.5 })).toThrow(/samplesBefore/);
    expect(() => windowBeats(of(), { historyMs: -1 })).toThrow(expect.objectContaining({ code: 'ECG_ERR_BAD_OPTION' }));
  });
});
