import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EcgMonitorError, RecordFormatError } from '../../src/errors.js';
import { ANN, codeToSymbol, isBeatCode, symbolToCode } from '../../src/wfdb/annotationCodes.js';
import {
  decodeAnnotations,
  encodeAnnotations,
  readAnnotations,
  writeAnnotations,
  type Annotation,
} from '../../src/wfdb/annotations.js';
import { MITDB_DIR, REFERENCE_DIR, skipWithoutMitdb, skipWithoutReference } from '../helpers/mitdb.js';

const ann = (sample: number, code: number, extra: Partial<Annotation> = {}): Annotation => ({
  sample,
  code,
  symbol: codeToSymbol(code),
  subtype: 0,
  chan: 0,
  num: 0,
  ...extra,
});
const words = (bytes: Uint8Array): number[] => Array.from({ length: bytes.length >> 1 }, (_, i) => bytes[2 * i]! | (bytes[2 * i + 1]! << 8));

describe('annotation codes', () => {
  it('maps codes and mnemonics as WFDB annstr/strann do', () => {
    expect([1, 5, 8, 14, 22, 28, 31, 32, 33, 12].map(codeToSymbol)).toEqual(['N', 'V', 'A', '~', '"', '+', '!', '[', ']', '/']);
    expect(symbolToCode('V')).toBe(5);
    expect(symbolToCode('(')).toBe(39);
    expect(symbolToCode('nonsense')).toBe(0);
    expect(codeToSymbol(15)).toBe('[15]');
    expect(codeToSymbol(60)).toBe('[60]');
    expect(ANN.RHYTHM).toBe(28);
  });
  it('classifies beats per the isqrs table', () => {
    const beats = Array.from({ length: 64 }, (_, c) => c).filter(isBeatCode).map(codeToSymbol).join('');
    expect(beats).toBe('NLRaVFJASEj/QB?!enfr');
  });
});

describe('encodeAnnotations writes what putann writes', () => {
  it('uses plain words for small intervals and ends with a 0 word', () => {
    expect(words(encodeAnnotations([ann(18, 1), ann(1041, 5)]))).toEqual([(1 << 10) | 18, (5 << 10) | 1023, 0]);
  });
  it('writes SKIP (PDP-11 order) when the interval exceeds 1023 or is negative', () => {
    const bytes = encodeAnnotations([ann(70000, 1), ann(69990, 5)]);
    // SKIP, high word of 70000 (=1), low word (=4464), N with interval 0, SKIP, -10 as two words, V with 0, EOF
    expect(words(bytes)).toEqual([59 << 10, 1, 70000 & 0xffff, 1 << 10, 59 << 10, 0xffff, 0x10000 - 10, 5 << 10, 0]);
    expect(decodeAnnotations(bytes, 'x').map((a) => a.sample)).toEqual([70000, 69990]);
  });
  it('writes NUM and CHN only when they change, SUB when non-zero, AUX with a pad byte', () => {
    const anns = [ann(1, 1, { chan: 1 }), ann(2, 1, { chan: 1 }), ann(3, 14, { subtype: -1, num: 3, aux: 'abc' }), ann(4, 1, { num: 3 })];
    const w = words(encodeAnnotations(anns));
    expect(w).toEqual([
      (1 << 10) | 1, (62 << 10) | 1, // N, CHN 1
      (1 << 10) | 1, // N (chan unchanged)
      (14 << 10) | 1, (61 << 10) | 0x3ff, (62 << 10) | 0, (60 << 10) | 3, (63 << 10) | 3, 0x6261, 0x0063, // ~ SUB -1 CHN 0 NUM 3 AUX "abc"+pad
      (1 << 10) | 1, // N, num 3 carried over
      0,
    ]);
    expect(decodeAnnotations(encodeAnnotations(anns), 'x')).toEqual(anns);
  });
  it('writes a null annotation (code 0) with the SKIP trick so it is not read as EOF', () => {
    const bytes = encodeAnnotations([ann(0, 22, { aux: 'x' }), ann(0, 0)]);
    expect(words(bytes)).toEqual([22 << 10, (63 << 10) | 1, 0x78, 59 << 10, 0xffff, 0xffff, 1, 0]);
    expect(decodeAnnotations(bytes, 'x')).toEqual([ann(0, 22, { aux: 'x' }), ann(0, 0)]);
  });
  it('rejects what cannot be encoded', () => {
    for (const bad of [ann(-1, 1), ann(1.5, 1), ann(1, 60), ann(1, 1, { num: 2000 }), ann(1, 1, { aux: 'x'.repeat(256) }), ann(1, 1, { aux: 'é€' })]) {
      expect(() => encodeAnnotations([bad])).toThrowError(expect.objectContaining({ code: 'ECG_ERR_BAD_ANNOTATION' }));
    }
    try {
      encodeAnnotations([ann(1, 1), ann(5, 99)]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(EcgMonitorError);
      expect((e as EcgMonitorError).message).toBe('annotation 1 (sample 5): code 99 outside 0..58');
    }
  });
});

describe('decodeAnnotations errors', () => {
  const catchErr = (f: () => unknown): RecordFormatError => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(RecordFormatError);
      return e as RecordFormatError;
    }
    throw new Error('expected an error');
  };
  it('a file without its closing 0 word is truncated', () => {
    const bytes = encodeAnnotations([ann(5, 1), ann(9, 1)]).slice(0, -2);
    const e = catchErr(() => decodeAnnotations(bytes, 'mitdb/100.atr'));
    expect(e.code).toBe('ECG_ERR_TRUNCATED');
    expect(e.file).toBe('mitdb/100.atr');
    expect(e.byteOffset).toBe(4);
    expect(e.message).toBe('mitdb/100.atr @ byte 4: annotation file ends inside a word (no closing 0 word)');
  });
  it('a file cut inside AUX data or a SKIP interval is truncated', () => {
    const aux = encodeAnnotations([ann(5, 28, { aux: '(AFIB' })]);
    expect(catchErr(() => decodeAnnotations(aux.slice(0, 7), 'a.atr')).message).toBe('a.atr @ byte 7: annotation file ends inside AUX data');
    const skip = encodeAnnotations([ann(5000, 1)]);
    expect(catchErr(() => decodeAnnotations(skip.slice(0, 4), 'a.atr')).code).toBe('ECG_ERR_TRUNCATED');
  });
  it('a modifier before any annotation is a bad annotation file', () => {
    const e = catchErr(() => decodeAnnotations(Uint8Array.of(0x03, 0xfc, 0x41, 0x42, 0x43, 0, 0, 0), 'b.qrs'));
    expect(e.code).toBe('ECG_ERR_BAD_ANNOTATION');
    expect(e.byteOffset).toBe(0);
    expect(e.message).toBe('b.qrs @ byte 0: pseudo-annotation code 63 (AUX) before any annotation');
  });
  it('an annotation at a negative sample is a bad annotation file', () => {
    const bytes = Uint8Array.of(0x00, 0xec, 0xff, 0xff, 0xf0, 0xff, 0x01, 0x04, 0, 0); // SKIP -16, N +1
    const e = catchErr(() => decodeAnnotations(bytes, 'c.atr'));
    expect([e.code, e.byteOffset]).toEqual(['ECG_ERR_BAD_ANNOTATION', 6]);
  });
  it('a missing file names the file', async () => {
    const err = await readAnnotations('/nonexistent/dir/999.atr').catch((x: unknown) => x);
    expect(err).toBeInstanceOf(RecordFormatError);
    expect(err).toMatchObject({ code: 'ECG_ERR_FILE_NOT_FOUND', file: '/nonexistent/dir/999.atr' });
  });
});

describe.skipIf(skipWithoutMitdb())('MIT-BIH reference annotations', () => {
  /** Same content as `rdann -r mitdb/100 -a atr -f 0 -t 3` (first lines), cross-checked by hand against the bytes. */
  it('reads 100.atr: the rhythm label, then beats', async () => {
    const anns = await readAnnotations(join(MITDB_DIR, '100.atr'));
    expect(anns[0]).toEqual({ sample: 18, code: 28, symbol: '+', subtype: 0, chan: 0, num: 0, aux: '(N\0' });
    expect(anns[1]).toMatchObject({ sample: 77, symbol: 'N' });
    expect(anns.filter((a) => isBeatCode(a.code))).toHaveLength(2273); // MIT-BIH directory: 2273 beats in record 100
    expect(anns.filter((a) => a.symbol === 'A')).toHaveLength(33);
  });
  it('re-encodes every .atr byte for byte', () => {
    const files = readdirSync(MITDB_DIR).filter((f) => f.endsWith('.atr'));
    expect(files).toHaveLength(48);
    for (const f of files) {
      const bytes = readFileSync(join(MITDB_DIR, f));
      const anns = decodeAnnotations(bytes, f);
      expect(Buffer.from(encodeAnnotations(anns)).equals(bytes), f).toBe(true);
    }
  });
});

describe.skipIf(skipWithoutReference())('PhysioNet reference detector outputs', () => {
  it('re-encodes every gqrs .qrs and perturbed .cls byte for byte', () => {
    const files = [
      ...readdirSync(join(REFERENCE_DIR, 'gqrs')).filter((f) => f.endsWith('.qrs')).map((f) => join(REFERENCE_DIR, 'gqrs', f)),
      ...readdirSync(join(REFERENCE_DIR, 'cls-perturbed')).filter((f) => f.endsWith('.cls')).map((f) => join(REFERENCE_DIR, 'cls-perturbed', f)),
    ];
    expect(files.length).toBeGreaterThanOrEqual(48 + 22);
    for (const f of files) {
      const bytes = readFileSync(f);
      expect(Buffer.from(encodeAnnotations(decodeAnnotations(bytes, f))).equals(bytes), f).toBe(true);
    }
  });
});

describe('writeAnnotations / readAnnotations', () => {
  it('round-trips through a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ann-'));
    try {
      const anns = [ann(0, 22, { aux: 'qrs detector' }), ann(300, 1), ann(2000, 13, { num: -2 })];
      await writeAnnotations(join(dir, '100.qrs'), anns);
      expect(await readAnnotations(join(dir, '100.qrs'))).toEqual(anns);
      expect(readdirSync(dir)).toEqual(['100.qrs']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
