/**
 * The WFDB decode/read benchmark runs and counts what it claims to. No speed bound here: speed is measured by
 * `npm run bench` (`ecg-monitor bench all`), never asserted in tests.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchDecode, decodeBenchSuite, decodeBenchTable } from '../../src/bench/decode.js';
import { benchCommand } from '../../src/cli/commands/bench.js';
import type { CliIo } from '../../src/cli/io.js';
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

describe.skipIf(skipWithoutMitdb())('decodeBenchSuite (as `bench decode` and in `bench all`)', () => {
  const fakeIo = (): CliIo & { out: string[] } => {
    const out: string[] = [];
    return { out, stdout: { write: (s: string) => out.push(s) }, stderr: { write: () => true }, env: { ...process.env, MITDB_DIR } };
  };

  it('`bench decode --records 100 --repetitions 1 --json FILE` prints the table and writes the figures', async () => {
    const io = fakeIo();
    const file = join(mkdtempSync(join(tmpdir(), 'bench-decode-')), 'decode.json');
    await benchCommand(io, [decodeBenchSuite]).parseAsync(['decode', '--records', '100', '--repetitions', '1', '--json', file], { from: 'user' });
    expect(io.out.join('')).toMatch(/whole-record reads \(1 records, checksums checked\) samples\/s\s+[\d.]+ M/);
    const json = JSON.parse(readFileSync(file, 'utf8'));
    expect(json).toMatchObject({ repetitions: 1, read: { records: 1, samplesPerRun: 2 * 650_000 }, decode: { record: '100' } });
    expect(json.decodeSamplesPerSecond).toBeGreaterThan(0);
  });

  it('`bench all` runs it with its defaults (all 48 records) under the key "decode"', async () => {
    const io = fakeIo();
    const file = join(mkdtempSync(join(tmpdir(), 'bench-decode-')), 'all.json');
    await benchCommand(io, [decodeBenchSuite]).parseAsync(['all', '--json', file], { from: 'user' });
    const json = JSON.parse(readFileSync(file, 'utf8'));
    expect(json.decode).toMatchObject({ repetitions: 5, read: { records: 48, checksumsChecked: true } });
    expect(json.decode.read.samplesPerRun).toBe(48 * 2 * 650_000);
  });
});
