import { EcgMonitorError, RecordFormatError } from '../errors.js';
import { codeToSymbol } from './annotationCodes.js';
import { readFileOrThrow, writeFileAtomic } from './files.js';

/**
 * MIT-format WFDB annotation files (`.atr`, `.qrs`, ...): reader and writer.
 *
 * ## Layout
 * A file is a sequence of 16-bit little-endian words, each split into a 6-bit code and a 10-bit datum:
 * ```
 *   bit 15 ......... 10 | 9 ................ 0
 *        code (0..63)   |   datum (0..1023)
 * ```
 * - code 1..49 (an annotation type): datum = samples since the previous annotation (or since 0).
 * - code 0 with datum 0: the word 0x0000 ends the file (logical EOF).
 * - code 59 SKIP: datum unused; the next 4 bytes are a signed 32-bit interval added to the running time, stored
 *   "PDP-11 style": high 16-bit word first, low word second, each word little-endian.
 * - code 60 NUM, 61 SUB, 62 CHN: datum (10 bits) sets the `num`, `subtyp`, `chan` field of the annotation just read.
 *   `num` and `chan` are sticky (they carry over to the following annotations until changed); `subtyp` resets to 0.
 * - code 63 AUX: low 8 bits of the datum = byte count n; n bytes of auxiliary data follow, plus one pad byte if n is
 *   odd, so that words stay aligned.
 * The 10-bit `num`, `subtype` and `chan` data are read as signed (-512..511) so that WFDB's signed-char fields such as
 * subtype -1 (noise "unreadable") survive a round trip.
 *
 * The writer does exactly what the WFDB library's `putann` does (SKIP when an interval is over 1023 or negative,
 * SUB when subtype != 0, CHN/NUM only when they change, AUX with pad byte, a SKIP trick for null annotations, and the
 * closing 0 word), so files written here are read by `rdann`, `bxb` and wfdb-python, and re-encoding any file written
 * by the WFDB library reproduces it byte for byte.
 *
 * References: WFDB library lib/annot.c (`getann`, `putann`), G.B. Moody; WFDB Programmer's Guide, "annot(5)":
 * https://physionet.org/physiotools/wag/annot-5.htm
 */

/** One annotation, as WFDB's `WFDB_Annotation` but with an absolute sample index. */
export interface Annotation {
  /** Sample index (WFDB `time`) at the record's sampling rate. */
  sample: number;
  /** Annotation type code 0..49 (see annotationCodes.ts). */
  code: number;
  /** Mnemonic of `code`, as rdann prints it (e.g. `N`, `V`, `+`). */
  symbol: string;
  /** WFDB `subtyp` (e.g. noise level for `~`), -512..511. */
  subtype: number;
  /** WFDB `chan`: signal the annotation refers to, -512..511. */
  chan: number;
  /** WFDB `num`: annotator-defined number, -512..511. */
  num: number;
  /** Auxiliary data as a byte string (latin1: one char per byte, NUL bytes kept), e.g. `(AFIB` on rhythm changes. */
  aux?: string;
}

// Word format and pseudo-codes (WFDB lib/annot.c).
const CODE_SHIFT = 10; // code = word >> 10
const DATA_MASK = 0x3ff; // datum = word & 0x3ff
const MAX_INTERVAL = 1023; // longest interval a plain annotation word can hold (MAXRR)
const SKIP = 59;
const NUM = 60;
const SUB = 61;
const CHN = 62;
const AUX = 63;
const MIN_PSEUDO = SKIP; // codes >= 59 are pseudo-codes, never annotation types

/** Sign-extends a 10-bit datum to -512..511. */
const signed10 = (v: number): number => (v << 22) >> 22;

/**
 * Decodes an MIT-format annotation file.
 * @param bytes the whole file
 * @param file name used in error messages (e.g. `mitdb/100.atr`)
 * @throws RecordFormatError ECG_ERR_TRUNCATED if the file ends before its closing 0 word (or inside a SKIP or AUX),
 *   ECG_ERR_BAD_ANNOTATION for a modifier with no annotation before it or an annotation at a negative sample.
 */
export function decodeAnnotations(bytes: Uint8Array, file: string): Annotation[] {
  const out: Annotation[] = [];
  const n = bytes.length;
  let pos = 0;
  let time = 0; // running sample index (WFDB `tt`)
  let chan = 0; // sticky fields
  let num = 0;
  let current: Annotation | undefined;

  const truncated = (what: string): never => {
    throw new RecordFormatError('ECG_ERR_TRUNCATED', `annotation file ends inside ${what}`, { file, byteOffset: n });
  };
  for (;;) {
    if (pos + 2 > n) truncated('a word (no closing 0 word)');
    const wordOffset = pos;
    const word = bytes[pos]! | (bytes[pos + 1]! << 8);
    pos += 2;
    if (word === 0) break; // logical end of file
    const code = word >>> CODE_SHIFT;
    const datum = word & DATA_MASK;
    if (code < MIN_PSEUDO) {
      time += datum;
      if (time < 0) {
        throw new RecordFormatError('ECG_ERR_BAD_ANNOTATION', `annotation at negative sample ${time}`, {
          file,
          byteOffset: wordOffset,
        });
      }
      current = { sample: time, code, symbol: codeToSymbol(code), subtype: 0, chan, num };
      out.push(current);
      continue;
    }
    if (code === SKIP) {
      if (pos + 4 > n) truncated('a SKIP interval');
      // PDP-11 long: high word first, then low word, each little-endian.
      const high = bytes[pos]! | (bytes[pos + 1]! << 8);
      const low = bytes[pos + 2]! | (bytes[pos + 3]! << 8);
      time += ((high << 16) | low) >> 0; // signed 32-bit
      pos += 4;
      continue;
    }
    if (current === undefined) {
      throw new RecordFormatError(
        'ECG_ERR_BAD_ANNOTATION',
        `pseudo-annotation code ${code} (${['NUM', 'SUB', 'CHN', 'AUX'][code - NUM]}) before any annotation`,
        { file, byteOffset: wordOffset },
      );
    }
    switch (code) {
      case NUM:
        num = current.num = signed10(datum);
        break;
      case SUB:
        current.subtype = signed10(datum);
        break;
      case CHN:
        chan = current.chan = signed10(datum);
        break;
      default: {
        // AUX: byte count in the low 8 bits, data padded to an even length.
        const len = datum & 0xff;
        const padded = (len + 1) & ~1;
        if (pos + padded > n) truncated('AUX data');
        let aux = '';
        for (let i = 0; i < len; i++) aux += String.fromCharCode(bytes[pos + i]!);
        if (len > 0) current.aux = aux; // an empty AUX carries nothing (putann never writes one)
        pos += padded;
      }
    }
  }
  return out;
}

/**
 * Encodes annotations as WFDB's `putann` would write them, in the order given (annotations out of time order get a
 * negative SKIP, as putann writes them; `sortann` would reorder them).
 * @throws EcgMonitorError ECG_ERR_BAD_ANNOTATION for a code outside 0..58, a non-integer or negative sample,
 *   a field outside -512..1023, or aux data longer than 255 bytes or with characters above U+00FF.
 */
export function encodeAnnotations(anns: readonly Annotation[]): Uint8Array {
  // Worst case per annotation: SKIP (6) + word (2) + SUB/CHN/NUM (6) + AUX (2 + 256).
  let capacity = 2;
  for (const a of anns) capacity += 16 + (a.aux ? a.aux.length + 3 : 0);
  const buf = new Uint8Array(capacity);
  let pos = 0;
  const put16 = (w: number): void => {
    buf[pos++] = w & 0xff;
    buf[pos++] = (w >>> 8) & 0xff;
  };
  const put32 = (v: number): void => {
    put16((v >>> 16) & 0xffff); // PDP-11 order: high word first
    put16(v & 0xffff);
  };
  let prevSample = 0;
  let prevChan = 0;
  let prevNum = 0;
  anns.forEach((a, i) => {
    const bad = (what: string): never => {
      throw new EcgMonitorError('ECG_ERR_BAD_ANNOTATION', `annotation ${i} (sample ${a.sample}): ${what}`);
    };
    if (!Number.isInteger(a.sample) || a.sample < 0 || a.sample > 0x7fffffff) bad('sample must be an integer >= 0');
    if (!Number.isInteger(a.code) || a.code < 0 || a.code >= MIN_PSEUDO) bad(`code ${a.code} outside 0..${MIN_PSEUDO - 1}`);
    for (const f of ['subtype', 'chan', 'num'] as const) {
      if (!Number.isInteger(a[f]) || a[f] < -512 || a[f] > 1023) bad(`${f} ${a[f]} outside -512..1023`);
    }
    let delta = a.sample - prevSample;
    if (a.code === 0) {
      // A null annotation with delta 0 would be the EOF word; putann writes SKIP(delta-1) then a word with delta 1.
      put16(SKIP << CODE_SHIFT);
      put32(delta - 1);
      delta = 1;
    } else if (delta > MAX_INTERVAL || delta < 0) {
      put16(SKIP << CODE_SHIFT);
      put32(delta);
      delta = 0;
    }
    put16((a.code << CODE_SHIFT) | delta);
    if (a.subtype !== 0) put16((SUB << CODE_SHIFT) | (a.subtype & DATA_MASK));
    if (a.chan !== prevChan) put16((CHN << CODE_SHIFT) | (a.chan & DATA_MASK));
    if (a.num !== prevNum) put16((NUM << CODE_SHIFT) | (a.num & DATA_MASK));
    if (a.aux !== undefined && a.aux.length > 0) {
      const len = a.aux.length;
      if (len > 255) bad(`aux is ${len} bytes (max 255)`);
      put16((AUX << CODE_SHIFT) | len);
      for (let k = 0; k < len; k++) {
        const c = a.aux.charCodeAt(k);
        if (c > 0xff) bad(`aux character U+${c.toString(16).padStart(4, '0')} is not a byte (aux is latin1)`);
        buf[pos++] = c;
      }
      if (len & 1) buf[pos++] = 0; // pad to a word boundary
    }
    prevSample = a.sample;
    prevChan = a.chan;
    prevNum = a.num;
  });
  put16(0); // logical EOF
  return buf.slice(0, pos);
}

/**
 * Reads an MIT-format annotation file, e.g. `readAnnotations('mitdb/100.atr')` (`rdann -r mitdb/100 -a atr`).
 * @throws RecordFormatError ECG_ERR_FILE_NOT_FOUND naming the file, or any error of {@link decodeAnnotations}.
 */
export async function readAnnotations(path: string): Promise<Annotation[]> {
  return decodeAnnotations(await readFileOrThrow(path), path);
}

/** Writes annotations as an MIT-format file readable by rdann and bxb (atomically: temporary file, then rename). */
export async function writeAnnotations(path: string, anns: readonly Annotation[]): Promise<void> {
  await writeFileAtomic(path, encodeAnnotations(anns));
}
