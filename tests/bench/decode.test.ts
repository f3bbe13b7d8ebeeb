/**
 * The WFDB decode/read benchmark runs and counts what it claims to. No speed bound here: speed is measured by
 * `npm run bench` (`ecg-monitor bench all`), never asserted in tests.
 */
import { describe, expect, it } from 'vitest';
import { benchDecode, decodeBenchTable } from '../../src/bench/decode.js';
import { MITDB_DIR, skipWithoutMitdb } from '../helpers/mitdb.js';

describe.skipIf(skipWithoutMitdb())('benchDecode', () => {
  it('decodes 100.dat and reads whole records, reporting medians in samples/s', async () => {
    const r = await benchDecode(MITDB_DIR, { records: ['100', '101'], repetitions: 3, decodesPerRun: 2 });
    expect(r.decode.samplesPerRun).toBe(2 * 2 * 650_000);
    expect(r.read).toMatchObject({ records: 2, samplesPerRun: 2 * 2 * 650_000, checksumsChecked: true });
    expect(r.decode.runs).toHaveLength(3);
    expect(r.read.runs).toHaveLength(3);
    const sorted = [...r.decode.runs].sort((a, b) => a - b);
    expect(r.decodeSamplesPerSecond).toBe(sorted[1]); // the median of 3
    expect(r.readSamplesPerSecond).toBe([...r.read.runs].sort((a, b) => a - b)[1]);
    for (const v of [...r.decode.runs, ...r.read.runs]) expect(Number.isFinite(v) && v > 0).toBe(true);
    expect(decodeBenchTable(r)).toMatch(/format 212 decode \(record 100\) samples\/s\s+[\d.]+ M/);
  });

  it('refuses a record that is missing (no figures from absent data)', async () => {
    await expect(benchDecode(MITDB_DIR, { records: ['999'], repetitions: 1, decodesPerRun: 1 })).rejects.toMatchObject({
      code: 'ECG_ERR_FILE_NOT_FOUND',
    });
  });
});
