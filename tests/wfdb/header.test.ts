import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecordFormatError } from '../../src/errors.js';
import { chooseLeadIndex, parseHeader, toChecksum16, type RecordHeader } from '../../src/wfdb/header.js';
import { MITDB_DIR, skipWithoutMitdb } from '../helpers/mitdb.js';

const errorOf = (text: string, file = 'mitdb/100.hea'): RecordFormatError => {
  try {
    parseHeader(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(RecordFormatError);
    return e as RecordFormatError;
  }
  throw new Error('expected parseHeader to throw');
};

/** The text of mitdb/100.hea as PhysioNet distributes it (CRLF line ends). */
const HEA_100 = '100 2 360 650000\r\n100.dat 212 200 11 1024 995 -22131 0 MLII\r\n100.dat 212 200 11 1024 1011 20052 0 V5\r\n# 69 M 1085 1629 x1\r\n# Aldomet, Inderal\r\n';

describe('parseHeader', () => {
  it('parses a MIT-BIH header (CRLF)', () => {
    const h = parseHeader(HEA_100, 'mitdb/100.hea');
    expect(h).toMatchObject({ file: 'mitdb/100.hea', recordLine: 1, recordName: '100', numSignals: 2, fsHz: 360, numSamples: 650000 });
    expect(h.comments).toEqual(['69 M 1085 1629 x1', 'Aldomet, Inderal']);
    expect(h.signals[0]).toEqual({
      fileName: '100.dat', format: 212, samplesPerFrame: 1, skew: 0, byteOffset: 0, adcGain: 200, baseline: 1024, units: 'mV',
      adcResolution: 11, adcZero: 1024, initialValue: 995, checksum: -22131, blockSize: 0, description: 'MLII',
      hasInitialValue: true, line: 2,
    });
    expect(h.signals[1]).toMatchObject({ initialValue: 1011, checksum: 20052, description: 'V5', line: 3 });
  });
  it('gives the same result for LF and CR-only line ends', () => {
    const crlf = parseHeader(HEA_100, 'a');
    expect(parseHeader(HEA_100.replace(/\r\n/g, '\n'), 'a')).toEqual(crlf);
    expect(parseHeader(HEA_100.replace(/\r\n/g, '\r'), 'a')).toEqual(crlf);
  });
  it('parses counter frequency, base counter, base time and date, and every signal-line suffix', () => {
    const h = parseHeader(
      [
        '# leading comment',
        'rec_1 3 500/1000(12) 7500 12:30:05.250 24/12/2020',
        '',
        'rec_1.dat 16x1:0+512 1000(-3)/uV 16 5 7 123 0 Lead I, ambulatory',
        'rec_1.dat 16+512 0/mmHg',
        'other.dat 80',
        '# trailing',
      ].join('\n'),
      'db/rec_1.hea',
    );
    expect(h).toMatchObject({ recordLine: 2, recordName: 'rec_1', numSignals: 3, fsHz: 500, counterFreqHz: 1000, baseCounter: 12, numSamples: 7500, baseTime: '12:30:05.250', baseDate: '24/12/2020' });
    expect(h.comments).toEqual(['leading comment', 'trailing']);
    expect(h.signals[0]).toMatchObject({ format: 16, byteOffset: 512, adcGain: 1000, baseline: -3, units: 'uV', adcResolution: 16, adcZero: 5, initialValue: 7, checksum: 123, description: 'Lead I, ambulatory', line: 4 });
    // Defaults: baseline = ADC zero, resolution by format, initial value = ADC zero, description "record R, signal N".
    expect(h.signals[1]).toMatchObject({ adcGain: 0, units: 'mmHg', baseline: 0, adcResolution: 16, initialValue: 0, hasInitialValue: false, description: 'record rec_1, signal 1' });
    expect(h.signals[2]).toMatchObject({ format: 80, adcGain: 200, units: 'mV', adcResolution: 8, line: 6 });
    expect(h.signals[2]!.checksum).toBeUndefined();
  });
  it('parses WFDB formats the decoders lack (the record reader refuses their samples)', () => {
    const h = parseHeader('r 2 360 10\nr.dat 310\nr.dat 310\n', 'r.hea');
    expect(h.signals.map((s) => [s.format, s.adcResolution])).toEqual([[310, 10], [310, 10]]);
  });
  it('parses samples per frame and skew (reading them is refused later, by the record reader)', () => {
    const h = parseHeader('r 1 360 10\nr.dat 212x4:3 200', 'r.hea');
    expect(h.signals[0]).toMatchObject({ samplesPerFrame: 4, skew: 3 });
  });
  it('defaults: a record line alone', () => {
    expect(parseHeader('r', 'r.hea')).toMatchObject({ recordName: 'r', numSignals: 0, fsHz: 250, signals: [] });
    expect(parseHeader('r 0', 'r.hea').numSamples).toBeUndefined();
  });
  it('parses multi-segment headers', () => {
    const h = parseHeader('multi/3 2 125 3000\nseg_1 1000\n~ 500\nseg_2 1500\n', 'm.hea');
    expect(h).toMatchObject({ recordName: 'multi', numSegments: 3, numSignals: 2, signals: [] });
    expect(h.segments).toEqual([
      { recordName: 'seg_1', numSamples: 1000, line: 2 },
      { recordName: '~', numSamples: 500, line: 3 },
      { recordName: 'seg_2', numSamples: 1500, line: 4 },
    ]);
  });
  it('computes WFDB 16-bit checksums', () => {
    expect(toChecksum16(65536 + 5)).toBe(5);
    expect(toChecksum16(32768)).toBe(-32768);
    expect(toChecksum16(-1)).toBe(-1);
    expect(toChecksum16(-65537)).toBe(-1);
  });
});

describe('parseHeader errors name the file and line', () => {
  const cases: Array<[string, string, string, number, string]> = [
    ['format 213', HEA_100.replace('100.dat 212 200 11 1024 995', '100.dat 213 200 11 1024 995'), 'ECG_ERR_BAD_HEADER', 2, 'bad signal line: format "213" (expected 8, 16, 80, 212)'],
    ['format token garbage', 'r 1\nr.dat 212q', 'ECG_ERR_BAD_HEADER', 2, 'bad signal line: format "212q" (expected 8, 16, 80, 212, optionally with xSPF, :SKEW, +OFFSET)'],
    ['gain', 'r 1\nr.dat 212 2OO', 'ECG_ERR_BAD_HEADER', 2, 'bad signal line: gain "2OO" (expected GAIN[(BASELINE)][/UNITS], e.g. 200(1024)/mV)'],
    ['baseline', 'r 1\nr.dat 212 200(1.5)/mV', 'ECG_ERR_BAD_HEADER', 2, 'bad signal line: gain "200(1.5)/mV" (expected GAIN[(BASELINE)][/UNITS], e.g. 200(1024)/mV)'],
    ['ADC zero', 'r 1\nr.dat 212 200 12 zero', 'ECG_ERR_BAD_HEADER', 2, 'bad signal line: ADC zero "zero" (expected an integer)'],
    ['checksum', 'r 1\nr.dat 212 200 12 0 0 1e3', 'ECG_ERR_BAD_HEADER', 2, 'bad signal line: checksum "1e3" (expected an integer)'],
    ['missing signal line', '# c\n100 2 360 650000\r\n100.dat 212 200 11 1024 995 -22131 0 MLII\r\n', 'ECG_ERR_BAD_HEADER', 2, 'record line says 2 signals but 1 signal line(s) follow'],
    ['extra line', 'r 1\nr.dat 212\nr.dat 212\n', 'ECG_ERR_BAD_HEADER', 3, 'unexpected line after the signal lines: "r.dat 212"'],
    ['number of signals', 'r two 360', 'ECG_ERR_BAD_HEADER', 1, 'bad record line: number of signals "two" (expected an integer 0..4096)'],
    ['sampling frequency', 'r 1 -360', 'ECG_ERR_BAD_HEADER', 1, 'bad record line: sampling frequency "-360" (expected a positive number, optionally /counter-frequency(base))'],
    ['number of samples', 'r 1 360 6.5', 'ECG_ERR_BAD_HEADER', 1, 'bad record line: number of samples "6.5" (expected a non-negative integer)'],
    ['base date', 'r 0 360 1 10:00:00 2020-01-01', 'ECG_ERR_BAD_HEADER', 1, 'bad record line: base date "2020-01-01" (expected DD/MM/YYYY)'],
    ['record name', 'r$ 1', 'ECG_ERR_BAD_HEADER', 1, 'bad record line: record name "r$" (expected letters, digits, _ and an optional /segments)'],
    ['empty', '# only a comment\n\n', 'ECG_ERR_BAD_HEADER', 1, 'bad record line: header has no record line'],
    ['segment line', 'm/2 1 360\nseg 10\nseg ten\n', 'ECG_ERR_BAD_HEADER', 3, 'bad segment line: "seg ten" (expected SEGMENT-NAME NSAMP)'],
    ['mixed formats in one file', 'r 2\nr.dat 212\nr.dat 16\n', 'ECG_ERR_BAD_HEADER', 3, 'bad signal line: format 16 differs from format 212 of the other signals in "r.dat"'],
  ];
  for (const [what, text, code, line, message] of cases) {
    it(what, () => {
      const e = errorOf(text, 'mitdb/100.hea');
      expect(e.code).toBe(code);
      expect(e.file).toBe('mitdb/100.hea');
      expect(e.line).toBe(line);
      expect(e.message).toBe(`mitdb/100.hea:${line}: ${message}`);
    });
  }
});

describe('chooseLeadIndex', () => {
  const twoLeads = (first: string, second: string) => parseHeader(`r 2 360 10\nr.dat 212 200 11 1024 0 0 0 ${first}\nr.dat 212 200 11 1024 0 0 0 ${second}\n`, 'r.hea');
  it('prefers MLII wherever it is, else the first signal; takes other names and indices as given', () => {
    expect(chooseLeadIndex(twoLeads('V5', 'MLII'), undefined, 'test')).toBe(1); // record 114's order
    expect(chooseLeadIndex(twoLeads('MLII', 'V1'), 'MLII', 'test')).toBe(0);
    expect(chooseLeadIndex(twoLeads('ECG1', 'ECG2'), undefined, 'test')).toBe(0);
    expect(chooseLeadIndex(twoLeads('ECG1', 'ECG2'), 'ECG2', 'test')).toBe(1);
    expect(chooseLeadIndex(twoLeads('MLII', 'V1'), 1, 'test')).toBe(1);
  });
  it('refuses a lead name the record lacks and an index out of range', () => {
    expect(() => chooseLeadIndex(twoLeads('MLII', 'V1'), 'V5', 'serve: record r')).toThrow(/serve: record r: no lead "V5" \(the record has MLII, V1\)/);
    expect(() => chooseLeadIndex(twoLeads('MLII', 'V1'), 2, 'test')).toThrow(expect.objectContaining({ code: 'ECG_ERR_BAD_OPTION' }));
  });
});

describe.skipIf(skipWithoutMitdb())('all 48 MIT-BIH headers', () => {
  it('parse with 2 signals, 360 Hz, 650000 samples, format 212, gain 200, ADC zero 1024 and a checksum', () => {
    const headers: RecordHeader[] = readFileSync(join(MITDB_DIR, 'RECORDS'), 'latin1').trim().split(/\s+/).map((r) =>
      parseHeader(readFileSync(join(MITDB_DIR, `${r}.hea`), 'latin1'), `mitdb/${r}.hea`),
    );
    expect(headers).toHaveLength(48);
    for (const h of headers) {
      expect(h).toMatchObject({ numSignals: 2, fsHz: 360, numSamples: 650000 });
      for (const s of h.signals) expect(s).toMatchObject({ format: 212, adcGain: 200, adcZero: 1024, baseline: 1024, units: 'mV', hasInitialValue: true });
      expect(h.signals.every((s) => typeof s.checksum === 'number')).toBe(true);
    }
  });
});
