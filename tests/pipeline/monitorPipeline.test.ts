import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { monitorPipeline } from '../../src/pipeline/monitorPipeline.js';
import { recordSource } from '../../src/sources/recordSource.js';
import type { SampleChunk } from '../../src/types.js';
import { MITDB_DIR, skipWithoutMitdb } from '../helpers/mitdb.js';

/** Re-cuts a chunk stream at the given sizes (cycled), keeping sample indices. */
function rechunk(chunks: readonly SampleChunk[], sizes: readonly number[]): SampleChunk[] {
  const all = new Float32Array(chunks.reduce((n, c) => n + c.samples.length, 0));
  chunks.forEach((c) => all.set(c.samples, c.startSample - chunks[0].startSample));
  const out: SampleChunk[] = [];
  for (let at = 0, k = 0; at < all.length; k++) {
    const size = Math.min(sizes[k % sizes.length], all.length - at);
    out.push({ ...chunks[0], startSample: chunks[0].startSample + at, samples: all.slice(at, at + size) });
    at += size;
  }
  return out;
}

describe.skipIf(skipWithoutMitdb())('monitorPipeline (MIT-BIH 100, first 60 s)', () => {
  const source$ = recordSource(MITDB_DIR, '100', { toSample: 60 * 360 });

  it('cuts a beat window around every detected R-peak of a synchronous source', async () => {
    const beats = await lastValueFrom(source$.pipe(monitorPipeline(), toArray()));
    // rdann -r mitdb/100 -a atr -t 60: 74 beat annotations in the first minute
    expect(beats.length).toBeGreaterThanOrEqual(73);
    expect(beats.length).toBeLessThanOrEqual(75);
    for (const beat of beats) {
      expect(beat.samples).toHaveLength(360);
      expect(beat.samples.every(Number.isFinite)).toBe(true);
      expect(beat.fsHz).toBe(360);
    }
  });

  it('gives the same beats whatever the chunk sizes', async () => {
    const chunks = await lastValueFrom(source$.pipe(toArray()));
    const reference = await lastValueFrom(from(chunks).pipe(monitorPipeline(), toArray()));
    for (const sizes of [[1, 7, 360], [4096], [13, 997, 2, 50]]) {
      const beats = await lastValueFrom(from(rechunk(chunks, sizes)).pipe(monitorPipeline(), toArray()));
      expect(beats).toEqual(reference);
    }
  });

  it('resamples a 250 Hz stream to 360 Hz and still finds the beats', async () => {
    // Decimate the record to 250 Hz by linear interpolation: a front-end at another rate.
    const chunks = await lastValueFrom(source$.pipe(toArray()));
    const at360 = new Float32Array(chunks.reduce((n, c) => n + c.samples.length, 0));
    chunks.forEach((c) => at360.set(c.samples, c.startSample));
    const at250 = Float32Array.from({ length: Math.floor((at360.length - 1) * 250 / 360) }, (_, k) => {
      const x = (k * 360) / 250;
      const i = Math.floor(x);
      return at360[i] + (x - i) * (at360[i + 1] - at360[i]);
    });
    const beats = await lastValueFrom(
      from(rechunk([{ ...chunks[0], fsHz: 250, startSample: 0, samples: at250 }], [250])).pipe(monitorPipeline(), toArray()),
    );
    const native = await lastValueFrom(from(chunks).pipe(monitorPipeline(), toArray()));
    expect(beats.every((b) => b.fsHz === 360)).toBe(true);
    expect(Math.abs(beats.length - native.length)).toBeLessThanOrEqual(1);
    const nativePeaks = native.map((b) => b.sampleIndex);
    const near = beats.filter((b) => nativePeaks.some((p) => Math.abs(p - b.sampleIndex) <= 5)).length;
    expect(near).toBeGreaterThanOrEqual(native.length - 1);
  });
});
