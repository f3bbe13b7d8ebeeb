/**
 * Fuzz-style robustness: random mutations of real headers and annotation files (byte flips, truncations, inserted
 * garbage, deleted and duplicated stretches) must give either a clean EcgMonitorError or a correct parse, never another
 * exception and never a hang. Seeded, so a failure names its seed and reproduces.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { EcgMonitorError, RecordFormatError } from '../../src/errors.js';
import { codeToSymbol } from '../../src/wfdb/annotationCodes.js';
import { decodeAnnotations, encodeAnnotations, type Annotation } from '../../src/wfdb/annotations.js';
import { parseHeader } from '../../src/wfdb/header.js';
import { isKnownFormat } from '../../src/wfdb/signalFormats.js';
import { readRecord } from '../../src/wfdb/record.js';
import { MITDB_DIR, skipWithoutMitdb } from '../helpers/mitdb.js';
import { seededRandom } from '../../src/dataset/seededRandom.js';

/** Seeded PRNG (mulberry32) so failures reproduce. */
const rng = seededRandom;

const GARBAGE_TOKENS = ['x2', ':3', '+512', '(', ')', '/', '-1', '0', '999999999999999', '1e309', '\r', '\n', '\r\n', '#', ' ', '\t', '212', '16', '310', 'NaN', '\u0000', 'é', '/mV', '(1024)'];

/** One to three random mutations of `bytes`. */
function mutate(bytes: Uint8Array, r: () => number): Uint8Array {
  let b = Array.from(bytes);
  const rounds = 1 + Math.floor(r() * 3);
  for (let k = 0; k < rounds; k++) {
    const at = Math.floor(r() * (b.length + 1));
    switch (Math.floor(r() * 6)) {
      case 0: // flip a bit
        if (b.length > 0) b[Math.min(at, b.length - 1)]! ^= 1 << Math.floor(r() * 8);
        break;
      case 1: // replace a byte
        if (b.length > 0) b[Math.min(at, b.length - 1)] = Math.floor(r() * 256);
        break;
      case 2: // truncate
        b = b.slice(0, at);
        break;
      case 3: // insert garbage bytes or a token
        b.splice(at, 0, ...(r() < 0.5 ? Array.from({ length: 1 + Math.floor(r() * 6) }, () => Math.floor(r() * 256)) : Array.from(Buffer.from(GARBAGE_TOKENS[Math.floor(r() * GARBAGE_TOKENS.length)]!, 'utf8'))));
        break;
      case 4: // delete a stretch
        b.splice(at, 1 + Math.floor(r() * 8));
        break;
      default: { // duplicate a stretch
        const len = 1 + Math.floor(r() * 16);
        b.splice(at, 0, ...b.slice(Math.max(0, at - len), at));
      }
    }
  }
  return Uint8Array.from(b);
}

/** Runs `f`; returns the error if it is a clean EcgMonitorError, fails the test on any other exception or a slow case. */
function cleanly<T>(label: string, f: () => T): T | EcgMonitorError {
  const t0 = performance.now();
  try {
    return f();
  } catch (e) {
    if (!(e instanceof EcgMonitorError)) throw new Error(`${label}: threw ${String(e)} instead of an EcgMonitorError`, { cause: e });
    return e;
  } finally {
    expect(performance.now() - t0, `${label}: took too long`).toBeLessThan(2000);
  }
}

const headerNames = ['100', '102', '114', '203', '232'];
const atrNames = ['100', '102', '207', '232'];

describe.skipIf(skipWithoutMitdb())('fuzz: mutated real headers', () => {
  it('parseHeader gives a clean error (with file and line in the text) or a consistent header', () => {
    let errors = 0;
    let parsed = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const name = headerNames[seed % headerNames.length]!;
      const text = Buffer.from(mutate(readFileSync(join(MITDB_DIR, `${name}.hea`)), rng(seed))).toString('latin1');
      const lineCount = text.split(/\r?\n|\r/).length;
      const out = cleanly(`header ${name} seed ${seed}`, () => parseHeader(text, `mitdb/${name}.hea`));
      if (out instanceof EcgMonitorError) {
        errors++;
        expect(out, `seed ${seed}`).toBeInstanceOf(RecordFormatError);
        const e = out as RecordFormatError;
        expect(['ECG_ERR_BAD_HEADER', 'ECG_ERR_UNSUPPORTED_FORMAT']).toContain(e.code);
        expect(e.file).toBe(`mitdb/${name}.hea`);
        expect(e.line! >= 1 && e.line! <= lineCount, `seed ${seed}: line ${e.line} of ${lineCount}`).toBe(true);
        expect(e.message.startsWith(`mitdb/${name}.hea:${e.line}: `)).toBe(true);
      } else {
        parsed++;
        expect(out.signals).toHaveLength(out.numSegments === undefined ? out.numSignals : 0);
        expect(Number.isFinite(out.fsHz) && out.fsHz > 0).toBe(true);
        for (const s of out.signals) {
          expect(isKnownFormat(s.format)).toBe(true);
          for (const v of [s.adcGain, s.baseline, s.adcZero, s.initialValue, s.byteOffset]) expect(Number.isFinite(v)).toBe(true);
        }
      }
    }
    // Both outcomes must actually occur, or the mutations are not exercising anything.
    expect(errors).toBeGreaterThan(300);
    expect(parsed).toBeGreaterThan(300);
  });

  const dir = mkdtempSync(join(tmpdir(), 'wfdb-fuzz-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('readRecord on a mutated header (real 100.dat, linked) gives a clean error or samples', async () => {
    symlinkSync(join(MITDB_DIR, '100.dat'), join(dir, '100.dat'));
    const original = readFileSync(join(MITDB_DIR, '100.hea'));
    const codes = new Map<string, number>();
    for (let seed = 1; seed <= 150; seed++) {
      writeFileSync(join(dir, '100.hea'), mutate(original, rng(10_000 + seed)));
      const t0 = performance.now();
      try {
        const rec = await readRecord(dir, '100', { toSample: seed % 2 === 0 ? undefined : 3600 });
        expect(rec.adc.length).toBe(rec.header.numSignals);
        codes.set('ok', (codes.get('ok') ?? 0) + 1);
      } catch (e) {
        if (!(e instanceof EcgMonitorError)) throw new Error(`seed ${seed}: threw ${String(e)}`, { cause: e });
        codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
      }
      expect(performance.now() - t0, `seed ${seed}`).toBeLessThan(5000);
    }
    expect(codes.get('ok')).toBeGreaterThan(10);
    expect(codes.get('ECG_ERR_BAD_HEADER')).toBeGreaterThan(10);
  });
});

describe.skipIf(skipWithoutMitdb())('fuzz: mutated real annotation files', () => {
  it('decodeAnnotations gives a clean error or annotations that survive an encode/decode round trip', () => {
    let errors = 0;
    let parsed = 0;
    const originals = atrNames.map((n) => readFileSync(join(MITDB_DIR, `${n}.atr`)));
    for (let seed = 1; seed <= 600; seed++) {
      const k = seed % atrNames.length;
      const bytes = mutate(originals[k]!, rng(20_000 + seed));
      const out = cleanly(`atr ${atrNames[k]} seed ${seed}`, () => decodeAnnotations(bytes, `mitdb/${atrNames[k]}.atr`));
      if (out instanceof EcgMonitorError) {
        errors++;
        expect(out).toBeInstanceOf(RecordFormatError);
        expect(['ECG_ERR_TRUNCATED', 'ECG_ERR_BAD_ANNOTATION']).toContain(out.code);
        const e = out as RecordFormatError;
        expect(e.byteOffset! >= 0 && e.byteOffset! <= bytes.length).toBe(true);
        continue;
      }
      parsed++;
      const wrong = out.find((a) => !(a.sample >= 0 && a.code >= 0 && a.code < 59 && a.symbol === codeToSymbol(a.code)));
      expect(wrong, `seed ${seed}`).toBeUndefined();
      const again = cleanly(`atr re-encode seed ${seed}`, () => decodeAnnotations(encodeAnnotations(out), 're-encoded'));
      if (!(again instanceof EcgMonitorError)) expect(JSON.stringify(again) === JSON.stringify(out), `seed ${seed}`).toBe(true);
      else expect(again.code).toBe('ECG_ERR_BAD_ANNOTATION'); // only a sample beyond 2^31-1 cannot be re-encoded
    }
    expect(errors).toBeGreaterThan(30);
    expect(parsed).toBeGreaterThan(30);
  });
});

describe('property: any valid annotation list round-trips', () => {
  const annotation = fc.record({
    code: fc.integer({ min: 0, max: 58 }),
    subtype: fc.integer({ min: -512, max: 511 }),
    chan: fc.oneof(fc.constant(0), fc.integer({ min: -512, max: 511 })),
    num: fc.oneof(fc.constant(0), fc.integer({ min: -512, max: 511 })),
    aux: fc.option(fc.string({ minLength: 1, maxLength: 255, unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)) }), { nil: undefined }),
    gap: fc.oneof(fc.integer({ min: 0, max: 1023 }), fc.integer({ min: 0, max: 5_000_000 })),
  });
  it('decode(encode(list)) equals the list (in time order)', () => {
    fc.assert(
      fc.property(fc.array(annotation, { maxLength: 60 }), (raw) => {
        let sample = 0;
        const anns: Annotation[] = raw.map(({ gap, ...a }) => {
          sample += gap;
          const out: Annotation = { sample, code: a.code, symbol: codeToSymbol(a.code), subtype: a.subtype, chan: a.chan, num: a.num };
          if (a.aux !== undefined) out.aux = a.aux;
          return out;
        });
        expect(decodeAnnotations(encodeAnnotations(anns), 'p')).toEqual(anns);
      }),
      { numRuns: 300, seed: 20260127 },
    );
  });
});
