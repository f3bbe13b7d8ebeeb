import { ConfigError, RecordFormatError } from '../errors.js';
import { readFileOrThrow } from './files.js';
import { FORMAT_INFO, isKnownFormat, SUPPORTED_FORMATS } from './signalFormats.js';

/**
 * WFDB header (`.hea`) parser for single- and multi-segment records.
 *
 * ## Layout (WFDB header(5))
 * ```
 * # comment lines may appear anywhere; blank lines are ignored; CRLF or LF line ends
 * RECORD[/NSEG] [NSIG [FS[/COUNTERFREQ[(BASECOUNTER)]] [NSAMP [BASETIME [BASEDATE]]]]]     <- record line
 * SEGNAME NSAMP                                                        <- NSEG segment lines (multi-segment only)
 * FILE FORMAT[xSPF][:SKEW][+OFFSET] [GAIN[(BASELINE)][/UNITS] [ADCRES [ADCZERO [INITVAL [CHECKSUM [BLOCKSIZE [DESC]]]]]]]
 *                                                                      <- NSIG signal lines
 * ```
 * Defaults as in the WFDB library: FS 250 Hz, GAIN 200 adu/mV (0 = uncalibrated, converted with 200), BASELINE = ADCZERO,
 * UNITS mV, ADCRES by format (12 for 212), ADCZERO 0, INITVAL = ADCZERO, DESC "record R, signal N".
 *
 * Anything malformed raises RecordFormatError ECG_ERR_BAD_HEADER naming the file and line (1-based, counting every line).
 * Every WFDB format parses (see signalFormats.ts); reading samples of one the decoders lack raises
 * ECG_ERR_UNSUPPORTED_FORMAT in record.ts.
 *
 * References: WFDB header(5) https://physionet.org/physiotools/wag/header-5.htm ; WFDB library lib/signal.c (`readheader`).
 */

/** One signal line of a header. */
export interface SignalSpec {
  /** Signal file name, relative to the header's folder (e.g. `100.dat`). */
  fileName: string;
  /** WFDB storage format (8, 16, 80, 212, ...). */
  format: number;
  /** Samples of this signal per frame (the `x2` in `212x2`); 1 if absent. */
  samplesPerFrame: number;
  /** Skew in frames (the `:n` suffix); 0 if absent. */
  skew: number;
  /** Bytes to skip at the start of the signal file (the `+n` suffix); 0 if absent. */
  byteOffset: number;
  /** ADC units per physical unit as written (may be negative: inverted polarity); 0 means uncalibrated. */
  adcGain: number;
  /** ADC value of physical zero (the `(n)` after the gain); defaults to `adcZero`. */
  baseline: number;
  /** Physical units, default `mV`. */
  units: string;
  /** ADC resolution, bits (default by format: 12 for 212, 16 for 16, 8 for 8 and 80). */
  adcResolution: number;
  /** ADC value of the middle of the input range. */
  adcZero: number;
  /** Value of the first sample (defaults to `adcZero` when absent). */
  initialValue: number;
  /** 16-bit checksum of all samples, if the header gives one (as written, usually -32768..32767). */
  checksum?: number;
  /** Block size, bytes (0 = not a block device). */
  blockSize: number;
  /** Signal description, usually the lead name (`MLII`, `V5`). */
  description: string;
  /** True when the header gives the initial value explicitly (so it can be checked). */
  hasInitialValue: boolean;
  /** Line of the header this signal is described on (1-based). */
  line: number;
}

/** A segment of a multi-segment record. */
export interface SegmentSpec {
  /** Segment record name, `~` for a null (gap) segment. */
  recordName: string;
  numSamples: number;
  line: number;
}

/** A parsed `.hea` file. */
export interface RecordHeader {
  /** The file name used in error messages (as passed to the parser). */
  file: string;
  /** Line of the record line (1-based; later than 1 when comments come first). */
  recordLine: number;
  recordName: string;
  /** Number of segments for a multi-segment record, else undefined. */
  numSegments?: number;
  segments?: SegmentSpec[];
  numSignals: number;
  /** Sampling frequency per signal, Hz (default 250). */
  fsHz: number;
  counterFreqHz?: number;
  baseCounter?: number;
  /** Samples per signal, if the header says (undefined: until the end of the signal file). */
  numSamples?: number;
  /** Base time as written (`HH:MM:SS[.sss]`), if present. */
  baseTime?: string;
  /** Base date as written (`DD/MM/YYYY`), if present. */
  baseDate?: string;
  signals: SignalSpec[];
  /** Comment lines without the leading `#` (and one following space, if any), in order. */
  comments: string[];
}

/** WFDB's default gain for uncalibrated signals (WFDB_DEFGAIN), adu per mV. */
export const DEFAULT_GAIN = 200;
/** WFDB's default sampling frequency (WFDB_DEFFREQ), Hz. */
export const DEFAULT_FS_HZ = 250;

const INT = /^[-+]?\d+$/;
const UINT = /^\+?\d+$/;
const RECORD_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.\-]*$/;
// FS[/COUNTERFREQ[(BASECOUNTER)]]
const FREQ = /^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?:\/([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?:\(([-+]?(?:\d+\.?\d*|\.\d+))\))?)?$/;
// FORMAT[xSPF][:SKEW][+OFFSET]
const FORMAT = /^(\d+)(?:x(\d+))?(?::(\d+))?(?:\+(\d+))?$/;
// GAIN[(BASELINE)][/UNITS]
const GAIN = /^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?:\(([-+]?\d+)\))?(?:\/(\S+))?$/;
const TIME = /^\d{1,2}(?::\d{1,2}){0,2}(?:\.\d+)?$/;
const DATE = /^\d{1,2}\/\d{1,2}\/\d{1,4}$/;

/** Largest sample count / value the reader accepts, to keep arithmetic exact. */
const MAX_SAFE = 2 ** 40;

/**
 * Parses the text of a `.hea` file.
 * @param text the header text (CRLF or LF)
 * @param file name used in error messages, e.g. `mitdb/100.hea`
 * @throws RecordFormatError ECG_ERR_BAD_HEADER / ECG_ERR_UNSUPPORTED_FORMAT with `file` and `line`
 */
export function parseHeader(text: string, file: string): RecordHeader {
  const lines = text.split(/\r?\n|\r/);
  const fail = (line: number, message: string, code: 'ECG_ERR_BAD_HEADER' | 'ECG_ERR_UNSUPPORTED_FORMAT' = 'ECG_ERR_BAD_HEADER'): never => {
    throw new RecordFormatError(code, message, { file, line });
  };
  const comments: string[] = [];
  // Content lines with their 1-based line numbers; comments collected on the way.
  const content: Array<{ line: number; text: string }> = [];
  lines.forEach((raw, i) => {
    const t = raw.trim();
    if (t === '') return;
    if (t.startsWith('#')) {
      comments.push(t.slice(1).replace(/^ /, ''));
      return;
    }
    content.push({ line: i + 1, text: t });
  });
  if (content.length === 0) fail(1, 'bad record line: header has no record line');
  const rec = content[0]!;
  const r = rec.text.split(/\s+/);
  const at = (what: string, value: string, expected: string): never =>
    fail(rec.line, `bad record line: ${what} "${value}" (expected ${expected})`);

  // RECORD[/NSEG]
  const [nameTok, segTok, ...extraSlash] = r[0]!.split('/');
  if (extraSlash.length > 0 || !RECORD_NAME.test(nameTok!)) at('record name', r[0]!, 'letters, digits, _ and an optional /segments');
  let numSegments: number | undefined;
  if (segTok !== undefined) {
    if (!UINT.test(segTok) || Number(segTok) < 1) at('number of segments', segTok, 'an integer >= 1');
    numSegments = Number(segTok);
  }
  let numSignals = 0;
  if (r[1] !== undefined) {
    if (!UINT.test(r[1]) || Number(r[1]) > 4096) at('number of signals', r[1], 'an integer 0..4096');
    numSignals = Number(r[1]);
  }
  let fsHz = DEFAULT_FS_HZ;
  let counterFreqHz: number | undefined;
  let baseCounter: number | undefined;
  if (r[2] !== undefined) {
    const m = FREQ.exec(r[2]);
    if (!m || !(Number(m[1]) > 0)) return at('sampling frequency', r[2], 'a positive number, optionally /counter-frequency(base)');
    fsHz = Number(m[1]);
    if (m[2] !== undefined) {
      counterFreqHz = Number(m[2]);
      if (!(counterFreqHz > 0)) at('counter frequency', m[2], 'a positive number');
    }
    if (m[3] !== undefined) baseCounter = Number(m[3]);
  }
  let numSamples: number | undefined;
  if (r[3] !== undefined) {
    if (!UINT.test(r[3]) || Number(r[3]) > MAX_SAFE) at('number of samples', r[3], 'a non-negative integer');
    numSamples = Number(r[3]);
  }
  let baseTime: string | undefined;
  let baseDate: string | undefined;
  if (r[4] !== undefined) {
    if (!TIME.test(r[4])) at('base time', r[4], 'HH:MM:SS');
    baseTime = r[4];
  }
  if (r[5] !== undefined) {
    if (!DATE.test(r[5])) at('base date', r[5], 'DD/MM/YYYY');
    baseDate = r[5];
  }
  if (r.length > 6) at('extra field', r[6]!, 'at most 6 fields');

  let next = 1;
  let segments: SegmentSpec[] | undefined;
  if (numSegments !== undefined) {
    segments = [];
    for (let s = 0; s < numSegments; s++, next++) {
      const c = content[next];
      if (!c) return fail(rec.line, `record line says ${numSegments} segments but ${s} segment line(s) follow`);
      const f = c.text.split(/\s+/);
      if (f.length !== 2 || !(f[0] === '~' || RECORD_NAME.test(f[0]!)) || !UINT.test(f[1]!)) {
        fail(c.line, `bad segment line: "${c.text}" (expected SEGMENT-NAME NSAMP)`);
      }
      segments.push({ recordName: f[0]!, numSamples: Number(f[1]), line: c.line });
    }
  }

  const signals: SignalSpec[] = [];
  if (numSegments === undefined) {
    for (let s = 0; s < numSignals; s++, next++) {
      const c = content[next];
      if (!c) return fail(rec.line, `record line says ${numSignals} signals but ${s} signal line(s) follow`);
      signals.push(parseSignalLine(c.text, c.line, nameTok!, s, fail));
    }
  }
  if (next < content.length) {
    const c = content[next]!;
    fail(c.line, `unexpected line after the ${numSegments !== undefined ? 'segment' : 'signal'} lines: "${truncate(c.text)}"`);
  }
  // Signals sharing a file are interleaved in one stream; WFDB requires them to be consecutive and of one format.
  const seen = new Map<string, number>();
  signals.forEach((sig, i) => {
    const first = seen.get(sig.fileName);
    if (first === undefined) seen.set(sig.fileName, i);
    else {
      if (signals[i - 1]!.fileName !== sig.fileName) fail(sig.line, `bad signal line: signals in file "${sig.fileName}" are not consecutive`);
      if (signals[first]!.format !== sig.format) {
        fail(sig.line, `bad signal line: format ${sig.format} differs from format ${signals[first]!.format} of the other signals in "${sig.fileName}"`);
      }
      if (sig.byteOffset !== signals[first]!.byteOffset) fail(sig.line, `bad signal line: byte offset differs within "${sig.fileName}"`);
    }
  });

  const header: RecordHeader = { file, recordLine: rec.line, recordName: nameTok!, numSignals, fsHz, signals, comments };
  if (numSegments !== undefined) {
    header.numSegments = numSegments;
    header.segments = segments;
  }
  if (counterFreqHz !== undefined) header.counterFreqHz = counterFreqHz;
  if (baseCounter !== undefined) header.baseCounter = baseCounter;
  if (numSamples !== undefined) header.numSamples = numSamples;
  if (baseTime !== undefined) header.baseTime = baseTime;
  if (baseDate !== undefined) header.baseDate = baseDate;
  return header;
}

const truncate = (s: string, n = 40): string => (s.length > n ? `${s.slice(0, n)}...` : s);

function parseSignalLine(
  text: string,
  line: number,
  recordName: string,
  index: number,
  fail: (line: number, message: string, code?: 'ECG_ERR_BAD_HEADER' | 'ECG_ERR_UNSUPPORTED_FORMAT') => never,
): SignalSpec {
  // Up to 8 whitespace-separated fields, then the description (which may contain spaces).
  const fields: string[] = [];
  let rest = text;
  while (fields.length < 8) {
    const m = /^(\S+)\s*/.exec(rest);
    if (!m) break;
    fields.push(m[1]!);
    rest = rest.slice(m[0].length);
  }
  const bad = (what: string, value: string, expected: string): never =>
    fail(line, `bad signal line: ${what} "${truncate(value)}" (expected ${expected})`);
  const [fileName, formatTok, gainTok, resTok, zeroTok, initTok, sumTok, blockTok] = fields;
  if (formatTok === undefined) fail(line, `bad signal line: "${truncate(text)}" (expected FILE FORMAT ...)`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(fileName!)) bad('file name', JSON.stringify(fileName).slice(1, -1), 'no control characters');
  const expectedFormats = SUPPORTED_FORMATS.join(', ');
  const fm = FORMAT.exec(formatTok!);
  if (!fm) return bad('format', formatTok!, `${expectedFormats}, optionally with xSPF, :SKEW, +OFFSET`);
  const format = Number(fm[1]);
  // Unknown formats are errors here; known WFDB formats the decoders lack (310, 24, FLAC...) parse, so their headers
  // still give rates and lengths, and the record reader refuses them when their samples are asked for.
  if (!isKnownFormat(format)) bad('format', fm[1]!, expectedFormats);
  const samplesPerFrame = fm[2] !== undefined ? Number(fm[2]) : 1;
  if (samplesPerFrame < 1 || samplesPerFrame > 1_000_000) bad('samples per frame', fm[2]!, 'an integer >= 1');
  const skew = fm[3] !== undefined ? Number(fm[3]) : 0;
  const byteOffset = fm[4] !== undefined ? Number(fm[4]) : 0;
  if (skew > MAX_SAFE) bad('skew', fm[3]!, 'a reasonable number of frames');
  if (byteOffset > MAX_SAFE) bad('byte offset', fm[4]!, 'a reasonable number of bytes');

  let adcGain = DEFAULT_GAIN;
  let baseline: number | undefined;
  let units = 'mV';
  if (gainTok !== undefined) {
    const gm = GAIN.exec(gainTok);
    if (!gm) return bad('gain', gainTok, 'GAIN[(BASELINE)][/UNITS], e.g. 200(1024)/mV');
    adcGain = Number(gm[1]);
    if (!Number.isFinite(adcGain)) bad('gain', gm[1]!, 'a finite number'); // negative gains (inverted polarity) are legal in WFDB
    if (gm[2] !== undefined) baseline = intField(gm[2], 'baseline', bad);
    if (gm[3] !== undefined) units = gm[3];
  }
  const formatInfo = FORMAT_INFO[format]!;
  let adcResolution = formatInfo.bits;
  if (resTok !== undefined) {
    if (!UINT.test(resTok) || Number(resTok) > 32) bad('ADC resolution', resTok, 'an integer 0..32 (bits)');
    adcResolution = Number(resTok) || formatInfo.bits; // 0 means "the format's default"
  }
  const adcZero = zeroTok !== undefined ? intField(zeroTok, 'ADC zero', bad) : 0;
  const initialValue = initTok !== undefined ? intField(initTok, 'initial value', bad) : adcZero;
  const checksum = sumTok !== undefined ? intField(sumTok, 'checksum', bad) : undefined;
  let blockSize = 0;
  if (blockTok !== undefined) {
    if (!UINT.test(blockTok) || Number(blockTok) > MAX_SAFE) bad('block size', blockTok, 'a non-negative integer');
    blockSize = Number(blockTok);
  }
  const description = blockTok !== undefined && rest.length > 0 ? rest.trim() : `record ${recordName}, signal ${index}`;
  const spec: SignalSpec = {
    fileName: fileName!,
    format,
    samplesPerFrame,
    skew,
    byteOffset,
    adcGain,
    baseline: baseline ?? adcZero,
    units,
    adcResolution,
    adcZero,
    initialValue,
    blockSize,
    description,
    hasInitialValue: initTok !== undefined,
    line,
  };
  if (checksum !== undefined) spec.checksum = checksum;
  return spec;
}

function intField(tok: string, what: string, bad: (what: string, value: string, expected: string) => never): number {
  if (!INT.test(tok) || Math.abs(Number(tok)) > MAX_SAFE) bad(what, tok, 'an integer');
  return Number(tok);
}

/** The lead the shipped classifiers were trained on. */
export const PREFERRED_LEAD = 'MLII';

/**
 * Index of the signal to use as the monitored lead: `lead` by header index or name. With no lead, or the preferred
 * MLII, the record's MLII is used when it has one (it is the second signal in MIT-BIH record 114), else its first
 * signal: MLII is a preference, not every database has it. Any other name must exist.
 */
export function chooseLeadIndex(header: RecordHeader, lead: string | number | undefined, context: string): number {
  if (typeof lead === 'number') {
    if (!Number.isInteger(lead) || lead < 0 || lead >= header.signals.length) {
      throw new ConfigError('ECG_ERR_BAD_OPTION', `${context}: lead index ${lead} out of range (the record has ${header.signals.length} signals)`);
    }
    return lead;
  }
  const name = lead ?? PREFERRED_LEAD;
  const index = header.signals.findIndex((s) => s.description === name);
  if (index >= 0) return index;
  if (name === PREFERRED_LEAD) return 0;
  throw new ConfigError('ECG_ERR_BAD_OPTION', `${context}: no lead "${name}" (the record has ${header.signals.map((s) => s.description).join(', ')})`);
}

/**
 * Reads and parses a header file, e.g. `readHeader('/data/mitdb/100.hea')`.
 * @throws RecordFormatError ECG_ERR_FILE_NOT_FOUND naming the file, or any error of {@link parseHeader}
 */
export async function readHeader(path: string): Promise<RecordHeader> {
  const bytes = await readFileOrThrow(path);
  return parseHeader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'), path);
}

/** Physical value of one ADC unit's worth: the gain actually used for conversion (WFDB uses 200 when the header says 0). */
export function effectiveGain(signal: SignalSpec): number {
  return signal.adcGain === 0 ? DEFAULT_GAIN : signal.adcGain;
}

/** The 16-bit checksum WFDB writes in headers: the sum of all samples, modulo 65536, as a signed 16-bit value. */
export function toChecksum16(sum: number): number {
  return ((sum % 65536) << 16) >> 16;
}
