/**
 * Throughput of the format-212 decoder and of whole-record reads. The bounds are loose (a shared 2-core machine),
 * a few times below what is measured, but well above the pipeline's 20 M samples/s target, so a decoder that became
 * the bottleneck would fail here. Figures are printed for the README: `npx vitest run tests/wfdb/throughput.test.ts`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MITDB_RECORDS } from '../../src/config.js';
import { readRecord } from '../../src/wfdb/record.js';
import { decodeFrames } from '../../src/wfdb/signalFormats.js';
import { MITDB_DIR, skipWithoutMitdb } from '../helpers/mitdb.js';

describe.skipIf(skipWithoutMitdb())('throughput', () => {
  it('decodes format 212 at well over 20 M samples/s', () => {
    const bytes = readFileSync(join(MITDB_DIR, '100.dat'));
    const out = [new Int32Array(650000), new Int32Array(650000)];
    decodeFrames(212, bytes, 2, 0, 650000, out); // warm up
    const reps = 20;
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) decodeFrames(212, bytes, 2, 0, 650000, out);
    const perSecond = (reps * 2 * 650000) / ((performance.now() - t0) / 1000);
    console.log(`format 212 decode: ${(perSecond / 1e6).toFixed(0)} M samples/s`);
    expect(perSecond).toBeGreaterThan(60e6);
  });
  it('reads all 48 records (files -> checked ADC values -> mV of the first lead) at well over 20 M samples/s', async () => {
    const t0 = performance.now();
    let samples = 0;
    for (const name of MITDB_RECORDS) {
      const rec = await readRecord(MITDB_DIR, name);
      rec.toMillivolts(0);
      samples += rec.adc.length * rec.adc[0]!.length;
    }
    const perSecond = samples / ((performance.now() - t0) / 1000);
    console.log(`readRecord, 48 records, 2 signals, checksums checked, lead 0 in mV: ${(perSecond / 1e6).toFixed(0)} M samples/s`);
    expect(perSecond).toBeGreaterThan(25e6);
  });
});
