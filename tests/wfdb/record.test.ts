import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MITDB_RECORDS } from '../../src/config.js';
import { RecordFormatError } from '../../src/errors.js';
import { toChecksum16 } from '../../src/wfdb/header.js';
import { adcToMillivolts, openRecord, readRecord, RecordReader } from '../../src/wfdb/record.js';
import { encodeFrames } from '../../src/wfdb/signalFormats.js';
import { MITDB_DIR, skipWithoutMitdb } from '../helpers/mitdb.js';
import { seededRandom } from '../../src/dataset/seededRandom.js';

/** Seeded PRNG (mulberry32) so failures reproduce. */
const rng = seededRandom;
const randInt = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

const tmpDirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'wfdb-'));
  tmpDirs.push(d);
  return d;
};
afterAll(() => tmpDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const sumMod = (a: Int32Array): number => a.reduce((s, v) => (s + v) % 65536, 0);

/** Writes a synthetic record: one signal file per group, header with first values and checksums. */
function writeRecord(dir: string, name: string, format: number, groupSizes: number[], n: number, seed: number, rangeAdc: number): Int32Array[] {
  const r = rng(seed);
  const all: Int32Array[] = [];
  const lines = [`${name} ${groupSizes.reduce((a, b) => a + b, 0)} 500 ${n}`];
  groupSizes.forEach((g, gi) => {
    const sigs = Array.from({ length: g }, () => {
      const a = new Int32Array(n);
      let v = 0;
      for (let i = 0; i < n; i++) {
        v = format === 8 ? Math.max(-rangeAdc, Math.min(rangeAdc, v + randInt(r, -100, 100))) : randInt(r, -rangeAdc, rangeAdc - 1);
        a[i] = v;
      }
      return a;
    });
    const init = format === 8 ? sigs.map((a) => a[0]!) : undefined;
    writeFileSync(join(dir, `${name}_${gi}.dat`), encodeFrames(format, sigs, init));
    sigs.forEach((a, s) =>
      lines.push(`${name}_${gi}.dat ${format} 100(5)/uV 12 0 ${a[0]} ${toChecksum16(sumMod(a))} 0 lead ${gi}.${s}`),
    );
    all.push(...sigs);
  });
  writeFileSync(join(dir, `${name}.hea`), lines.join('\n') + '\n');
  return all;
}

describe('synthetic records in every supported format', () => {
  const cases: Array<[number, number[], number]> = [
    [212, [2], 2048],
    [212, [3], 2048], // odd group: 212 pairs straddle frames
    [212, [1, 2], 2048],
    [16, [2, 1], 32768],
    [80, [3], 128],
    [8, [2], 3000],
  ];
  for (const [format, groups, rangeAdc] of cases) {
    it(`format ${format}, groups ${groups.join('+')}: exact values, checks pass, any range equals the slice`, async () => {
      const dir = tmp();
      const n = 1001;
      const truth = writeRecord(dir, 'syn', format, groups, n, format * 7 + groups.length, rangeAdc);
      const full = await readRecord(dir, 'syn');
      expect(full.adc).toEqual(truth);
      const r = rng(42);
      for (let trial = 0; trial < 60; trial++) {
        const from = randInt(r, 0, n);
        const to = randInt(r, from, n);
        const signals = r() < 0.5 ? undefined : [randInt(r, 0, truth.length - 1)];
        const part = await readRecord(dir, 'syn', { fromSample: from, toSample: to, signals });
        const want = (signals ?? truth.map((_, i) => i)).map((s) => truth[s]!.slice(from, to));
        expect(part.adc.map((a) => Array.from(a))).toEqual(want.map((a) => Array.from(a)));
      }
    });
  }
  it('converts to physical units and to mV (uV in the header)', async () => {
    const dir = tmp();
    const truth = writeRecord(dir, 'syn', 16, [1], 10, 1, 30000);
    const rec = await readRecord(dir, 'syn');
    const expected = Array.from(truth[0]!, (v) => Math.fround((v - 5) / 100));
    expect(Array.from(rec.toPhysical(0))).toEqual(expected);
    expect(rec.toMillivolts(0)[3]).toBeCloseTo(((truth[0]![3]! - 5) / 100) * 1e-3, 9);
  });
  it('reads the WFDB invalid-sample value as NaN', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'inv.dat'), encodeFrames(212, [Int32Array.of(5, -2048, 7)]));
    writeFileSync(join(dir, 'inv.hea'), 'inv 1 360 3\ninv.dat 212 200 12 0 5\n');
    const rec = await readRecord(dir, 'inv');
    expect(Array.from(rec.adc[0]!)).toEqual([5, -2048, 7]);
    expect(Array.from(rec.toMillivolts(0))).toEqual([Math.fround(0.025), Number.NaN, Math.fround(0.035)]);
  });
  it('refuses samples in formats the decoders lack, naming the header line, but reads the other signals', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a.dat'), encodeFrames(16, [Int32Array.of(1, 2, 3)]));
    writeFileSync(join(dir, 'b.dat'), new Uint8Array(8));
    writeFileSync(join(dir, 'mix.hea'), 'mix 2 360 3\na.dat 16 200 16 0 1\nb.dat 310 200\n');
    expect(Array.from((await readRecord(dir, 'mix', { signals: [0] })).adc[0]!)).toEqual([1, 2, 3]);
    const e = await readRecord(dir, 'mix').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RecordFormatError);
    expect(e).toMatchObject({ code: 'ECG_ERR_UNSUPPORTED_FORMAT', file: join(dir, 'mix.hea'), line: 3 });
    expect((e as Error).message).toBe(`${join(dir, 'mix.hea')}:3: unsupported signal format "310" (10-bit packed, 3 samples in 4 bytes; expected 8, 16, 80, 212)`);
    writeFileSync(join(dir, 'spf.hea'), 'spf 1 360 3\na.dat 16x2\n');
    await expect(readRecord(dir, 'spf')).rejects.toMatchObject({ code: 'ECG_ERR_UNSUPPORTED_FORMAT', line: 2 });
  });
  it('a signal file that is a folder is reported, not a crash', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'd.hea'), 'd 1 360 3\n. 16\n');
    await expect(readRecord(dir, 'd')).rejects.toMatchObject({ code: 'ECG_ERR_FILE_NOT_FOUND', file: dir });
  });
  it('takes the length from the signal file when the header has none', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'nl.dat'), encodeFrames(212, [Int32Array.of(1, 2, 3), Int32Array.of(4, 5, 6)]));
    writeFileSync(join(dir, 'nl.hea'), 'nl 2 360\r\nnl.dat 212\r\nnl.dat 212\r\n');
    const rec = await readRecord(dir, 'nl');
    expect(rec.adc.map((a) => Array.from(a))).toEqual([[1, 2, 3], [4, 5, 6]]);
  });
  it('readMillivoltsSync (the streaming source\'s block read) equals adcToMillivolts of read() for any range and signals', async () => {
    for (const [format, groups, rangeAdc] of cases.filter(([f]) => f !== 8)) {
      const dir = tmp();
      const n = 777;
      const truth = writeRecord(dir, 'syn', format, groups, n, format + 3 * groups.length, rangeAdc);
      const reader = RecordReader.openSync(dir, 'syn');
      try {
        const r = rng(format);
        for (let trial = 0; trial < 40; trial++) {
          const from = randInt(r, 0, n);
          const to = randInt(r, from, n);
          const indices = Array.from({ length: randInt(r, 1, 3) }, () => randInt(r, 0, truth.length - 1));
          const got = reader.readMillivoltsSync(from, to, indices);
          const want = indices.map((s) => adcToMillivolts(truth[s]!.slice(from, to), reader.header.signals[s]!, reader.header));
          expect(got, `format ${format} [${from}, ${to}) signals ${indices.join(',')}`).toEqual(want);
        }
      } finally {
        reader.closeSync();
      }
    }
    const dir = tmp();
    writeFileSync(join(dir, 'inv.dat'), encodeFrames(212, [Int32Array.of(5, -2048, 7)]));
    writeFileSync(join(dir, 'inv.hea'), 'inv 1 360 3\ninv.dat 212 200 12 0 5\n');
    const inv = RecordReader.openSync(dir, 'inv');
    expect(Array.from(inv.readMillivoltsSync(0, 3, [0])[0]!)).toEqual([Math.fround(0.025), Number.NaN, Math.fround(0.035)]);
    expect(() => inv.readMillivoltsSync(0, 4, [0])).toThrow(expect.objectContaining({ code: 'ECG_ERR_BAD_OPTION' }));
    inv.closeSync();
    expect(() => inv.readMillivoltsSync(0, 3, [0])).toThrow(/closed/);
    writeRecord(dir, 'diff', 8, [1], 10, 5, 100);
    const diff = RecordReader.openSync(dir, 'diff');
    expect(() => diff.readMillivoltsSync(0, 10, [0])).toThrow(expect.objectContaining({ code: 'ECG_ERR_UNSUPPORTED_FORMAT', line: 2 }));
    diff.closeSync();
  });
});

describe.skipIf(skipWithoutMitdb())('MIT-BIH: all 48 records', () => {
  it('reproduce every signal\'s first value and 16-bit checksum from the header', async () => {
    for (const name of MITDB_RECORDS) {
      // verify: false so the assertions below, not the reader's own check, decide.
      const rec = await readRecord(MITDB_DIR, name, { verify: false });
      expect(rec.adc).toHaveLength(2);
      rec.header.signals.forEach((sig, s) => {
        const adc = rec.adc[s]!;
        expect(adc.length, `${name} signal ${s}`).toBe(650000);
        expect(adc[0], `${name} signal ${s} first value`).toBe(sig.initialValue);
        expect(toChecksum16(sumMod(adc)), `${name} signal ${s} checksum`).toBe(sig.checksum);
      });
    }
  });
  it('record 100 in mV matches rdsamp -r mitdb/100 -p (first samples -0.145, -0.065)', async () => {
    const rec = await readRecord(MITDB_DIR, '100', { toSample: 3 });
    expect(rec.toMillivolts(0)[0]).toBeCloseTo(-0.145, 6);
    expect(rec.toMillivolts(1)[0]).toBeCloseTo(-0.065, 6);
    expect(rec.header.signals.map((s) => s.description)).toEqual(['MLII', 'V5']);
  });
  it('reads the same samples whatever the start and end offsets (ranges cut through 212 pairs)', async () => {
    const r = rng(7);
    for (const name of ['100', '208', '232']) {
      const full = await readRecord(MITDB_DIR, name);
      for (let trial = 0; trial < 25; trial++) {
        const from = randInt(r, 0, 650000);
        const to = Math.min(650000, from + randInt(r, 0, r() < 0.3 ? 650000 : 5000));
        const part = await readRecord(MITDB_DIR, name, { fromSample: from, toSample: to, signals: r() < 0.5 ? ['V1', 'MLII'].filter((l) => full.header.signals.some((s) => s.description === l)) : undefined });
        part.signalIndices.forEach((s, i) => {
          expect(Buffer.from(part.adc[i]!.buffer, part.adc[i]!.byteOffset, part.adc[i]!.byteLength)
            .equals(Buffer.from(full.adc[s]!.slice(from, to).buffer)), `${name} [${from},${to}) signal ${s}`).toBe(true);
        });
      }
    }
  });
  it('blocks() of any size concatenate to the full read and check the checksums', async () => {
    const full = await readRecord(MITDB_DIR, '203');
    const reader = await openRecord(MITDB_DIR, '203');
    try {
      for (const blockSamples of [360, 1_000_003, 7777]) {
        const got = [new Int32Array(650000), new Int32Array(650000)];
        let expectedStart = 0;
        for await (const block of reader.blocks({ blockSamples })) {
          expect(block.startSample).toBe(expectedStart);
          block.adc.forEach((a, s) => got[s]!.set(a, block.startSample));
          expectedStart += block.adc[0]!.length;
        }
        expect(expectedStart).toBe(650000);
        got.forEach((a, s) => expect(Buffer.from(a.buffer).equals(Buffer.from(full.adc[s]!.buffer)), `signal ${s}`).toBe(true));
      }
    } finally {
      await reader.close();
    }
  });
});

describe.skipIf(skipWithoutMitdb())('errors name the file', () => {
  const copyRecord = (name: string): string => {
    const dir = tmp();
    for (const ext of ['hea', 'dat']) copyFileSync(join(MITDB_DIR, `${name}.${ext}`), join(dir, `${name}.${ext}`));
    return dir;
  };
  const rejection = async (p: Promise<unknown>): Promise<RecordFormatError> => {
    const e = await p.then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(RecordFormatError);
    return e as RecordFormatError;
  };
  it('a truncated .dat gives ECG_ERR_TRUNCATED with the file and the byte offset where it ends', async () => {
    const dir = copyRecord('100');
    truncateSync(join(dir, '100.dat'), 1_000_000);
    const e = await rejection(readRecord(dir, '100'));
    expect(e.code).toBe('ECG_ERR_TRUNCATED');
    expect(e.file).toBe(join(dir, '100.dat'));
    expect(e.byteOffset).toBe(1_000_000);
    expect(e.message).toBe(`${join(dir, '100.dat')} @ byte 1000000: signal file ends at byte 1000000 but samples [0, 650000) of 2 signal(s) in format 212 need bytes up to 1950000`);
    // The part that is there still reads.
    expect((await readRecord(dir, '100', { toSample: 1000 })).adc[0]![0]).toBe(995);
  });
  it('a changed sample gives ECG_ERR_CHECKSUM naming the .dat, the signal and the header line', async () => {
    const dir = copyRecord('101');
    const dat = readFileSync(join(dir, '101.dat'));
    dat[3 * 1000] ^= 0x01; // sample 1000 of MLII changes by +-1
    writeFileSync(join(dir, '101.dat'), dat);
    const e = await rejection(readRecord(dir, '101'));
    expect(e.code).toBe('ECG_ERR_CHECKSUM');
    expect(e.file).toBe(join(dir, '101.dat'));
    expect(e.message).toMatch(/signal 0 \(MLII\): checksum of samples is -?\d+, header says -?\d+ \(.*101\.hea:2\)$/);
    // verify: false reads it anyway; a partial read does not check the checksum.
    await readRecord(dir, '101', { verify: false });
    await readRecord(dir, '101', { toSample: 2000 });
  });
  it('a wrong first value gives ECG_ERR_CHECKSUM', async () => {
    const dir = copyRecord('100');
    const hea = readFileSync(join(dir, '100.hea'), 'latin1').replace('1024 995 -22131', '1024 996 -22131');
    writeFileSync(join(dir, '100.hea'), hea);
    const e = await rejection(readRecord(dir, '100', { toSample: 10 }));
    expect(e.code).toBe('ECG_ERR_CHECKSUM');
    expect(e.message).toContain('signal 0 (MLII): first sample is 995, header says 996');
  });
  it('a missing .dat or .hea gives ECG_ERR_FILE_NOT_FOUND naming it', async () => {
    const dir = copyRecord('100');
    rmSync(join(dir, '100.dat'));
    const e = await rejection(readRecord(dir, '100'));
    expect([e.code, e.file]).toEqual(['ECG_ERR_FILE_NOT_FOUND', join(dir, '100.dat')]);
    const e2 = await rejection(readRecord(dir, '999'));
    expect([e2.code, e2.file, e2.message]).toEqual(['ECG_ERR_FILE_NOT_FOUND', join(dir, '999.hea'), `${join(dir, '999.hea')}: file not found`]);
  });
  it('a header naming another record is a bad header', async () => {
    const dir = copyRecord('100');
    copyFileSync(join(dir, '100.hea'), join(dir, '555.hea'));
    const e = await rejection(readRecord(dir, '555'));
    expect([e.code, e.line]).toEqual(['ECG_ERR_BAD_HEADER', 1]);
  });
  it('an out-of-range request is an option error', async () => {
    await expect(readRecord(MITDB_DIR, '100', { fromSample: 10, toSample: 5 })).rejects.toMatchObject({ code: 'ECG_ERR_BAD_OPTION' });
    await expect(readRecord(MITDB_DIR, '100', { toSample: 650001 })).rejects.toMatchObject({ code: 'ECG_ERR_BAD_OPTION' });
    await expect(readRecord(MITDB_DIR, '100', { signals: ['V1'] })).rejects.toMatchObject({ code: 'ECG_ERR_BAD_OPTION' });
  });
});
