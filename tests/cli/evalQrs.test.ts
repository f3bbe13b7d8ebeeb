import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { evalQrsCommand } from '../../src/cli/commands/evalQrs.js';
import { main } from '../../src/cli/main.js';
import type { DetectedBeat } from '../../src/eval/qrsDatabase.js';
import { readAnnotations, writeAnnotations, type Annotation } from '../../src/wfdb/annotations.js';
import { MITDB_DIR, REFERENCE_DIR, skipWithoutMitdb, skipWithoutReference } from '../helpers/mitdb.js';
import { fakeIo as fakeIoWith } from '../helpers/fakeIo.js';

const fakeIo = () => fakeIoWith({ MITDB_DIR });

const tmp = mkdtempSync(join(tmpdir(), 'eval-qrs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const GQRS = join(REFERENCE_DIR, 'gqrs');

/** Table rows of stdout as arrays of cells. */
const rows = (stdout: string): string[][] => stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));

describe.skipIf(skipWithoutMitdb() || skipWithoutReference())('ecg-monitor eval qrs --detections (gqrs reference)', () => {
  it('prints bxb counts per record, gross and average, whole records', async () => {
    const io = fakeIo();
    const json = join(tmp, 'gqrs-f0.json');
    const code = await main(['eval', 'qrs', '--dir', MITDB_DIR, '--records', '100,105,108', '--detections', GQRS, '--annotator', 'qrs', '--json', json], io);
    expect(io.err()).toBe('');
    expect(code).toBe(0);
    const table = rows(io.out());
    expect(table[0]).toEqual(['record', 'fs_Hz', 'TP', 'FN', 'FP', 'Se%', '+P%']);
    // bxb -r NNN -a atr qrs -f 0 -w 0.15 (../shared/reference/gqrs/per-record-f0.tsv)
    expect(table.slice(1, 4).map((r) => r.slice(0, 5))).toEqual([
      ['100', '360', '2273', '0', '0'],
      ['105', '360', '2570', '2', '38'],
      ['108', '360', '1754', '9', '59'],
    ]);
    expect(table[4].slice(0, 4)).toEqual(['gross', String(2273 + 2570 + 1754), String(2 + 9), String(38 + 59)]);
    expect(table[5][0]).toBe('average');
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    expect(summary.perRecord).toHaveLength(3);
    expect(summary.gross).toMatchObject({ tp: 6597, fn: 11, fp: 97 });
    expect(summary.test).toEqual({ kind: 'files', dir: GQRS, annotator: 'qrs' });
  });

  it('--from 300 gives bxb EC57 counts', async () => {
    const io = fakeIo();
    const code = await main(['eval', 'qrs', '--records', '104,114', '--from', '300', '--detections', GQRS], io);
    expect(code).toBe(0);
    // bxb -r NNN -a atr qrs -w 0.15 (default -f 5:0; per-record-ec57.tsv)
    expect(rows(io.out()).slice(1, 3).map((r) => r.slice(0, 5))).toEqual([
      ['104', '360', '1852', '5', '6'],
      ['114', '360', '1585', '19', '2'],
    ]);
  });

  it('a missing detection file is a data error naming the file (exit 1)', async () => {
    const io = fakeIo();
    const code = await main(['eval', 'qrs', '--records', '100', '--detections', join(tmp, 'nowhere')], io);
    expect(code).toBe(1);
    expect(io.err()).toContain(join(tmp, 'nowhere', '100.qrs'));
    expect(io.err()).toContain('ECG_ERR_FILE_NOT_FOUND');
  });
});

describe('ecg-monitor eval qrs: usage errors', () => {
  it('rejects a negative --from with exit 2', async () => {
    const io = fakeIo();
    expect(await main(['eval', 'qrs', '--from', '-5', '--detections', tmp], io)).toBe(2);
    expect(io.err()).toContain('--from');
  });

  it('prints help with the defaults and an example', async () => {
    const io = fakeIo();
    expect(await main(['eval', 'qrs', '--help'], io)).toBe(0);
    expect(io.out()).toContain('--from <seconds>');
    expect(io.out()).toContain('(default: 0)');
    expect(io.out()).toContain('ecg-monitor eval qrs --detections');
  });
});

describe.skipIf(skipWithoutMitdb() || skipWithoutReference())('eval qrs with a detector: --out writes WFDB annotation files', () => {
  it('writes <record>.qrs that reads back to the detections and rescoring gives the same counts', async () => {
    // A stand-in detector that replays gqrs's beats (marking every 10th as found by search-back), so the
    // write path is checked against bxb's known counts independently of the project's detector.
    const detect = async ({ record }: { record: string }): Promise<DetectedBeat[]> =>
      (await readAnnotations(join(GQRS, `${record}.qrs`))).map((a, i) => ({ sampleIndex: a.sample, searchBack: i % 10 === 0, lead: 'MLII' }));
    const out = join(tmp, 'det');
    const io = fakeIo();
    const command = evalQrsCommand(io, { detect });
    await command.parseAsync(['--dir', MITDB_DIR, '--records', '100,108', '--out', out], { from: 'user' });
    const written = await readAnnotations(join(out, '108.qrs'));
    const original = await readAnnotations(join(GQRS, '108.qrs'));
    expect(written.map((a) => a.sample)).toEqual(original.map((a) => a.sample));
    expect(written.map((a) => a.symbol)).toEqual(original.map((_, i) => (i % 10 === 0 ? 'Q' : 'N')));
    expect(written.every((a) => a.chan === 0 && a.subtype === 0)).toBe(true);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.perRecord.map((r: { tp: number; fn: number; fp: number }) => [r.tp, r.fn, r.fp])).toEqual([
      [2273, 0, 0],
      [1754, 9, 59],
    ]);
    // Scoring the written files gives the same table.
    const io2 = fakeIo();
    expect(await main(['eval', 'qrs', '--records', '100,108', '--detections', out, '--annotator', 'qrs'], io2)).toBe(0);
    expect(io2.out()).toBe(io.out());
  });
});

describe('eval qrs on another database: 250 Hz, no RECORDS file', () => {
  it('lists records from headers with a reference file and uses a 38-sample window (0.15 s at 250 Hz)', async () => {
    const db = join(tmp, 'db250');
    const det = join(db, 'det');
    mkdirSync(det, { recursive: true });
    const beat = (sample: number, symbol = 'N', code = 1): Annotation => ({ sample, code, symbol, subtype: 0, chan: 0, num: 0 });
    // Record a: 4 beats; detections 38 samples late (matched) and 39 late (not matched) alternately.
    writeFileSync(join(db, 'a.hea'), 'a 1 250 5000\na.dat 16 200 16 0 0 0 0 ECG\n');
    await writeAnnotations(join(db, 'a.atr'), [beat(500), beat(1000), beat(1500), beat(2000)]);
    await writeAnnotations(join(det, 'a.qrs'), [beat(538), beat(1039), beat(1538), beat(2039)]);
    // Record b: a reference file with a rhythm label and a VF episode; a header with no reference file is ignored.
    writeFileSync(join(db, 'b.hea'), 'b 1 250 5000\nb.dat 16 200 16 0 0 0 0 ECG\n');
    await writeAnnotations(join(db, 'b.atr'), [
      { ...beat(100, '+', 28), aux: '(N' },
      beat(500),
      beat(1000, '[', 32),
      beat(1500, ']', 33),
      beat(2000),
    ]);
    await writeAnnotations(join(det, 'b.qrs'), [beat(500), beat(1100), beat(1300), beat(2000)]);
    writeFileSync(join(db, 'c.hea'), 'c 1 250 5000\nc.dat 16 200 16 0 0 0 0 ECG\n');
    const io = fakeIo();
    expect(await main(['eval', 'qrs', '--dir', db, '--detections', det, '--annotator', 'qrs'], io)).toBe(0);
    expect(rows(io.out()).slice(1, 4).map((r) => r.slice(0, 5))).toEqual([
      ['a', '250', '2', '2', '2'],
      ['b', '250', '2', '0', '0'],
      ['gross', '4', '2', '2', '66.667'],
    ]);
  });
});

describe.skipIf(skipWithoutMitdb())("eval qrs running the project's detector", () => {
  it('detects on 100 and 116, writes .qrs files that read back to the scored detections', async () => {
    const out = join(tmp, 'pt');
    const io = fakeIo();
    const json = join(tmp, 'pt.json');
    expect(await main(['eval', 'qrs', '--records', '100,116', '--out', out, '--json', json], io)).toBe(0);
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    expect(summary.test).toEqual({ kind: 'detector', leadFallback: false });
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toEqual(summary);
    for (const r of summary.perRecord) {
      // A working detector: the record's beats are nearly all found (EC57 floor set well below the README figures).
      expect(r.sePercent).toBeGreaterThan(97);
      expect(r.ppPercent).toBeGreaterThan(97);
      const written = await readAnnotations(join(out, `${r.record}.qrs`));
      expect(written.length).toBe(r.tp + r.fp);
      expect(written.every((a) => a.symbol === 'N' || a.symbol === 'Q')).toBe(true);
      expect(written.every((a, i) => i === 0 || a.sample > written[i - 1].sample)).toBe(true);
    }
    // The written files, scored as files, give the same table.
    const io2 = fakeIo();
    expect(await main(['eval', 'qrs', '--records', '100,116', '--detections', out], io2)).toBe(0);
    expect(io2.out()).toBe(io.out());
  });

  it('--lead-fallback on 116 takes beats from the second lead where the first is flat (chan 1), and misses fewer', async () => {
    const out = join(tmp, 'fb');
    const plain = fakeIo();
    expect(await main(['eval', 'qrs', '--records', '116', '--json', join(tmp, 'plain116.json')], plain)).toBe(0);
    const io = fakeIo();
    expect(await main(['eval', 'qrs', '--records', '116', '--lead-fallback', '--out', out], io)).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.test).toEqual({ kind: 'detector', leadFallback: true });
    const written = await readAnnotations(join(out, '116.qrs'));
    const fromSecond = written.filter((a) => a.chan === 1).length;
    expect(fromSecond).toBeGreaterThan(0);
    expect(fromSecond).toBeLessThan(written.length / 10);
    const before = JSON.parse(readFileSync(join(tmp, 'plain116.json'), 'utf8')).perRecord[0];
    expect(summary.perRecord[0].fn).toBeLessThan(before.fn);
  });

  it('--lead V5 runs the detector on the second signal and records it as chan 1', async () => {
    const out = join(tmp, 'v5');
    const io = fakeIo();
    expect(await main(['eval', 'qrs', '--records', '100', '--lead', 'V5', '--out', out], io)).toBe(0);
    const written = await readAnnotations(join(out, '100.qrs'));
    expect(written.length).toBeGreaterThan(2000);
    expect(written.every((a) => a.chan === 1)).toBe(true);
    const byIndex = fakeIo();
    expect(await main(['eval', 'qrs', '--records', '100', '--lead', '1'], byIndex)).toBe(0);
    expect(byIndex.out()).toBe(io.out());
  });
});

/** The built CLI (`npm test` builds first; locally the test skips when dist/ is absent). */
const BUILT_MAIN = resolve('dist/src/cli/main.js');

describe.skipIf(skipWithoutMitdb() || skipWithoutReference() || (!existsSync(BUILT_MAIN) && process.env.CI !== 'true'))('spawned ecg-monitor eval qrs (smoke)', () => {
  it('scores gqrs on record 100 and exits 0', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [BUILT_MAIN, 'eval', 'qrs', '--records', '100', '--detections', GQRS], {
      env: { ...process.env, MITDB_DIR, LOG_LEVEL: 'silent' },
    });
    expect(rows(stdout)[1]).toEqual(['100', '360', '2273', '0', '0', '100.000', '100.000']);
  });
});
