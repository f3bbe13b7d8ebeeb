import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { config, lastValueFrom, take, tap, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ConfigError, RecordFormatError } from '../../src/errors.js';
import { recordSource } from '../../src/sources/recordSource.js';
import { readRecord } from '../../src/wfdb/record.js';
import { encodeFrames } from '../../src/wfdb/signalFormats.js';
import { MITDB_DIR, skipWithoutMitdb } from '../helpers/mitdb.js';
import { concat } from '../pipeline/helpers.js';

describe('recordSource options', () => {
  it('checks options when called', () => {
    expect(() => recordSource('.', '100', { chunkSamples: 0 })).toThrow(ConfigError);
    expect(() => recordSource('.', '100', { speed: -1 })).toThrow(expect.objectContaining({ code: 'ECG_ERR_BAD_OPTION' }));
    expect(() => recordSource('.', '100', { fromSample: 10, toSample: 5 })).toThrow(/toSample/);
  });

  it('reports a missing record on the error channel, naming the file', async () => {
    const error = await lastValueFrom(recordSource('/nonexistent', '100')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordFormatError);
    expect(error).toMatchObject({ code: 'ECG_ERR_FILE_NOT_FOUND', file: '/nonexistent/100.hea' });
  });
});

describe('recordSource faults', () => {
  it('a signal file shorter than the header says ends the stream on the error channel, naming the file, fast and paced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recsrc-'));
    try {
      // The header claims 140000 samples; the file holds 100000: the first block reads, the second fails.
      const n = 100_000;
      writeFileSync(join(dir, 'cut.dat'), encodeFrames(212, [Int32Array.from({ length: n }, (_, i) => (i % 200) - 100)]));
      writeFileSync(join(dir, 'cut.hea'), 'cut 1 360 140000\ncut.dat 212 200 12 0 -100\n');
      const unhandled: unknown[] = [];
      const saved = config.onUnhandledError;
      config.onUnhandledError = (e: unknown) => unhandled.push(e);
      try {
        for (const speed of [0, 1e9]) {
          const seen: number[] = [];
          const error = await lastValueFrom(recordSource(dir, 'cut', { chunkSamples: 10_000, speed }).pipe(tap((c) => seen.push(c.startSample)))).catch((e: unknown) => e);
          expect(error, `speed ${speed}`).toBeInstanceOf(RecordFormatError);
          expect(error).toMatchObject({ code: 'ECG_ERR_TRUNCATED', file: join(dir, 'cut.dat') });
          expect(seen).toEqual([0, 10_000, 20_000, 30_000, 40_000, 50_000]); // the first block (60000 frames) came out
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
        expect(unhandled).toEqual([]);
      } finally {
        config.onUnhandledError = saved;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(skipWithoutMitdb())('recordSource on MIT-BIH', () => {
  it('emits one-second chunks of the first lead in mV, as readRecord reads them (`rdsamp -r mitdb/100 -t 10`)', async () => {
    const chunks = await lastValueFrom(recordSource(MITDB_DIR, '100', { toSample: 3600 }).pipe(toArray()));
    expect(chunks).toHaveLength(10);
    expect(chunks.map((c) => c.startSample)).toEqual([0, 360, 720, 1080, 1440, 1800, 2160, 2520, 2880, 3240]);
    expect(chunks[0]).toMatchObject({ streamId: 'mitdb/100', fsHz: 360, lead: 'MLII' });
    expect(chunks[0]!.auxLeads).toBeUndefined();
    const rec = await readRecord(MITDB_DIR, '100', { toSample: 3600, signals: [0] });
    expect(concat(chunks)).toEqual(rec.toMillivolts(0));
    expect(chunks[0]!.samples[0]).toBeCloseTo((995 - 1024) / 200, 6); // header line 2: first value 995, ADC zero 1024, gain 200
  });

  it('reads across block boundaries and cuts a partial last chunk; lead and auxLeads by name', async () => {
    const from = 65_000, to = 131_500;
    const chunks = await lastValueFrom(
      recordSource(MITDB_DIR, '100', { fromSample: from, toSample: to, chunkSamples: 1000, lead: 'V5', auxLeads: ['MLII'] }).pipe(toArray()),
    );
    expect(chunks[0]!.startSample).toBe(from);
    expect(chunks.at(-1)!.samples.length).toBe(500);
    expect(chunks[0]).toMatchObject({ lead: 'V5' });
    expect(chunks[0]!.auxLeads![0]!.lead).toBe('MLII');
    const rec = await readRecord(MITDB_DIR, '100', { fromSample: from, toSample: to, signals: [1, 0] });
    expect(concat(chunks)).toEqual(rec.toMillivolts(0));
    expect(concat(chunks, 0)).toEqual(rec.toMillivolts(1));
  });

  it('stops reading when the subscriber unsubscribes', async () => {
    const chunks = await lastValueFrom(recordSource(MITDB_DIR, '100').pipe(take(3), toArray()));
    expect(chunks.map((c) => c.startSample)).toEqual([0, 360, 720]);
  });

  it('errors with ECG_ERR_BAD_OPTION for an unknown lead', async () => {
    await expect(lastValueFrom(recordSource(MITDB_DIR, '100', { lead: 'aVR' }))).rejects.toMatchObject({ code: 'ECG_ERR_BAD_OPTION' });
  });

  it('paces chunks in real time: each one when its last sample would have been acquired (marbles)', () => {
    const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
    ts.run(({ expectObservable }) => {
      const src = recordSource(MITDB_DIR, '100', { toSample: 900, chunkSamples: 360, speed: 1, scheduler: ts });
      const at = (s: number): unknown => expect.objectContaining({ startSample: s });
      // 360 samples = 1000 ms; the last chunk holds 180 samples = 500 ms.
      expectObservable(src).toBe('1000ms a 999ms b 499ms (c|)', { a: at(0), b: at(360), c: at(720) });
    });
  });

  it('paces at ten times real time with --speed 10 (marbles)', () => {
    const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
    ts.run(({ expectObservable }) => {
      const src = recordSource(MITDB_DIR, '100', { toSample: 720, speed: 10, scheduler: ts });
      const at = (s: number): unknown => expect.objectContaining({ startSample: s });
      expectObservable(src).toBe('100ms a 99ms (b|)', { a: at(0), b: at(360) });
    });
  });

  it('stops a paced stream on unsubscribe (marbles)', () => {
    const ts = new TestScheduler((a, e) => expect(a).toEqual(e));
    ts.run(({ expectObservable }) => {
      const src = recordSource(MITDB_DIR, '100', { speed: 1, scheduler: ts });
      const at = (s: number): unknown => expect.objectContaining({ startSample: s });
      expectObservable(src, '^ 2500ms !').toBe('1000ms a 999ms b', { a: at(0), b: at(360) });
    });
  });
});
