import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { basename, join } from 'node:path';
import { EcgMonitorError, RecordFormatError } from '../errors.js';
import { asNotFound } from './files.js';
import { effectiveGain, parseHeader, readHeader, toChecksum16, type RecordHeader, type SignalSpec } from './header.js';
import { byteRangeOfStream, decodeFrames, decodeSignalScaled, FORMAT_INFO, isSupportedFormat, SUPPORTED_FORMATS } from './signalFormats.js';

/**
 * Reading WFDB records: whole (`readRecord`) or in blocks with memory flat in record length (`openRecord` +
 * `RecordReader.blocks()`), with the header's first-value and checksum checks.
 *
 * ## Example
 * ```ts
 * const rec = await readRecord(mitdbDir(), '100', { fromSample: 0, toSample: 3600 });
 * const mlii = rec.toMillivolts(0);               // Float32Array, mV
 *
 * const reader = await openRecord(mitdbDir(), '100');
 * try {
 *   for await (const block of reader.blocks({ blockSamples: 360 })) use(block.startSample, block.adc[0]);
 * } finally { await reader.close(); }
 * ```
 * Checks: reading from sample 0 checks each signal's first value against the header; reading every sample of a signal
 * (whole record, or `blocks()` run to the end) checks the header's 16-bit checksum. Failures raise RecordFormatError
 * ECG_ERR_CHECKSUM naming the signal file; a signal file shorter than the samples asked for raises ECG_ERR_TRUNCATED
 * with the file and the byte offset where it ends; a missing file raises ECG_ERR_FILE_NOT_FOUND naming it.
 *
 * References: WFDB library lib/signal.c (`isigopen`, `getvec`, `aduphys`); WFDB signal(5), header(5).
 */

/** Options of {@link readRecord} and {@link RecordReader.read}. */
export interface ReadRecordOptions {
  /** First sample to read (inclusive). Default 0. */
  fromSample?: number;
  /** Sample to stop before (exclusive). Default: the record's length. */
  toSample?: number;
  /** Signals to read, by index or description (lead name, e.g. `MLII`). Default: all, in header order. */
  signals?: readonly (number | string)[];
  /** Check first values (when reading from 0) and checksums (when reading whole signals). Default true. */
  verify?: boolean;
}

/** Options of {@link RecordReader.blocks}. */
export interface BlockOptions extends ReadRecordOptions {
  /** Frames per block. Default 65536. */
  blockSamples?: number;
}

/** A stretch of samples of the selected signals. */
export interface SignalBlock {
  /** Index of the first sample of the block. */
  startSample: number;
  /** Raw ADC values, one array per selected signal, all of the same length. */
  adc: Int32Array[];
}

/** A record read into memory. */
export interface WfdbRecord {
  header: RecordHeader;
  fromSample: number;
  toSample: number;
  /** Header indices of the signals in `adc`. */
  signalIndices: number[];
  /** Raw ADC values, one array per selected signal (`adc[i]` is signal `signalIndices[i]`). */
  adc: Int32Array[];
  /** `adc[i]` in the header's physical units: (adc - baseline) / gain; WFDB's invalid-sample value becomes NaN. */
  toPhysical(i: number): Float32Array;
  /** `adc[i]` in millivolts (units mV, uV or V are scaled); throws ECG_ERR_UNSUPPORTED_FORMAT for non-voltage units. */
  toMillivolts(i: number): Float32Array;
}

const DEFAULT_BLOCK_SAMPLES = 65_536;
/** Frames read from the signal files at once by `blocks()`, whatever the block size. */
const READ_AHEAD_SAMPLES = 65_536;

/** Multiplier from a signal's units to mV, or undefined when the units are not a voltage. */
export function millivoltsPerUnit(units: string): number | undefined {
  switch (units) {
    case 'mV':
      return 1;
    case 'uV':
    case 'µV':
    case 'μV':
      return 1e-3;
    case 'V':
      return 1e3;
    default:
      return undefined;
  }
}

/**
 * Converts raw ADC values to physical units, WFDB `aduphys`: (adc - baseline) / gain (gain 0 = uncalibrated: 200),
 * times `scale`. The format's invalid-sample value (212: -2048, 16: -32768, 80: -128) becomes NaN.
 * @param out optional output array (same length as `adc`), for callers that reuse buffers
 */
export function adcToPhysical(
  adc: Int32Array,
  signal: SignalSpec,
  scale = 1,
  out: Float32Array = new Float32Array(adc.length),
): Float32Array {
  const k = scale / effectiveGain(signal);
  const base = signal.baseline;
  const invalid = FORMAT_INFO[signal.format]?.invalidAdc ?? Number.NaN; // NaN never equals anything
  for (let i = 0; i < adc.length; i++) {
    const v = adc[i]!;
    out[i] = v === invalid ? Number.NaN : (v - base) * k;
  }
  return out;
}

/** Multiplier from a signal's units to mV. @throws RecordFormatError ECG_ERR_UNSUPPORTED_FORMAT if its units are not a voltage. */
function millivoltScale(signal: SignalSpec, header: RecordHeader): number {
  const scale = millivoltsPerUnit(signal.units);
  if (scale === undefined) {
    throw new RecordFormatError('ECG_ERR_UNSUPPORTED_FORMAT', `signal "${signal.description}" is in "${signal.units}", not a voltage`, {
      file: header.file,
      line: signal.line,
    });
  }
  return scale;
}

/** Converts raw ADC values of a signal to mV. @throws RecordFormatError ECG_ERR_UNSUPPORTED_FORMAT if its units are not a voltage. */
export function adcToMillivolts(adc: Int32Array, signal: SignalSpec, header: RecordHeader, out?: Float32Array): Float32Array {
  return adcToPhysical(adc, signal, millivoltScale(signal, header), out);
}

/** One signal file and the consecutive header signals stored in it. */
interface Group {
  path: string;
  format: number;
  byteOffset: number;
  /** Header indices of the signals in this file, in stream order. */
  signals: number[];
  fd?: number;
  size?: number;
  /** Byte buffer reused from read to read (bytes are decoded at once, never handed out). */
  bytes?: Uint8Array;
}

/**
 * An open record: the header, plus positional reads of any sample range. Keeps one file descriptor per signal file;
 * call `close()` when done. Format-8 (difference) files are decoded from the start for each read, so random reads on
 * them cost O(fromSample).
 *
 * File access is synchronous positional reads (pread) of at most one read span (64 k frames, ~200 KB for MIT-BIH)
 * at a time, shared by the promise-returning methods (`open`, `read`, `blocks`) and the synchronous ones that the
 * streaming source uses (`openSync`, `readMillivoltsSync`), so both interpret the bytes with the same code.
 */
export class RecordReader {
  readonly header: RecordHeader;
  readonly dir: string;
  /** Samples per signal: the header's count, or (when the header has none) what the shortest signal file holds. */
  readonly numSamples: number;
  private readonly groups: Group[];
  private readonly groupOf: Int32Array; // header signal index -> group index
  private closed = false;

  private constructor(dir: string, header: RecordHeader, groups: Group[], numSamples: number) {
    this.dir = dir;
    this.header = header;
    this.groups = groups;
    this.numSamples = numSamples;
    this.groupOf = new Int32Array(header.numSignals);
    groups.forEach((g, gi) => g.signals.forEach((s) => (this.groupOf[s] = gi)));
  }

  /** Opens `dir/recordName.hea` and its signal files. See {@link openRecord}. */
  static async open(dir: string, recordName: string): Promise<RecordReader> {
    return RecordReader.fromHeader(dir, recordName, await readHeader(join(dir, `${recordName}.hea`)));
  }

  /** {@link RecordReader.open} without a promise: for sources that must start reading during `subscribe`. */
  static openSync(dir: string, recordName: string): RecordReader {
    const file = join(dir, `${recordName}.hea`);
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch (error) {
      throw asNotFound(error, file);
    }
    return RecordReader.fromHeader(dir, recordName, parseHeader(text, file));
  }

  private static fromHeader(dir: string, recordName: string, header: RecordHeader): RecordReader {
    if (header.recordName !== basename(recordName)) {
      throw new RecordFormatError('ECG_ERR_BAD_HEADER', `record line names record "${header.recordName}", expected "${basename(recordName)}"`, {
        file: header.file,
        line: header.recordLine,
      });
    }
    if (header.numSegments !== undefined) {
      throw new RecordFormatError('ECG_ERR_UNSUPPORTED_FORMAT', `multi-segment records (${header.numSegments} segments) are not supported`, {
        file: header.file,
        line: header.recordLine,
      });
    }
    const groups: Group[] = [];
    header.signals.forEach((sig, i) => {
      const unsupported = (what: string): never => {
        throw new RecordFormatError('ECG_ERR_UNSUPPORTED_FORMAT', `bad signal line: ${what} is not supported`, { file: header.file, line: sig.line });
      };
      if (sig.samplesPerFrame !== 1) unsupported(`${sig.samplesPerFrame} samples per frame (format ${sig.format}x${sig.samplesPerFrame})`);
      if (sig.skew !== 0) unsupported(`skew ${sig.skew}`);
      if (sig.fileName === '-') unsupported('reading signals from standard input ("-")');
      const last = groups[groups.length - 1];
      if (last && i > 0 && header.signals[i - 1]!.fileName === sig.fileName) last.signals.push(i);
      else groups.push({ path: join(dir, sig.fileName), format: sig.format, byteOffset: sig.byteOffset, signals: [i] });
    });
    try {
      for (const g of groups) {
        try {
          g.fd = openSync(g.path, 'r');
        } catch (error) {
          throw asNotFound(error, g.path);
        }
        const stat = fstatSync(g.fd);
        if (!stat.isFile()) throw new RecordFormatError('ECG_ERR_FILE_NOT_FOUND', 'signal file is not a regular file', { file: g.path });
        g.size = stat.size;
      }
    } catch (error) {
      for (const g of groups) if (g.fd !== undefined) closeSync(g.fd);
      throw error;
    }
    let numSamples = header.numSamples ?? 0;
    if (numSamples === 0 && groups.length > 0) {
      // No length in the header: as many whole frames as the shortest signal file holds.
      const readable = groups.filter((g) => isSupportedFormat(g.format));
      numSamples = readable.length === 0 ? 0 : Math.min(...readable.map((g) => framesInBytes(g.format, g.signals.length, Math.max(0, g.size! - g.byteOffset))));
    }
    return new RecordReader(dir, header, groups, numSamples);
  }

  /**
   * Resolves signal names/indices to header indices.
   * @throws EcgMonitorError ECG_ERR_BAD_OPTION for an unknown signal; RecordFormatError ECG_ERR_UNSUPPORTED_FORMAT (file and
   *   line) for a signal stored in a format the decoders lack
   */
  signalIndices(signals?: readonly (number | string)[]): number[] {
    const indices = signals === undefined ? this.header.signals.map((_, i) => i) : this.resolve(signals);
    for (const i of indices) {
      const sig = this.header.signals[i]!;
      if (!isSupportedFormat(sig.format)) {
        throw new RecordFormatError(
          'ECG_ERR_UNSUPPORTED_FORMAT',
          `unsupported signal format "${sig.format}" (${FORMAT_INFO[sig.format]?.name ?? 'WFDB format'}; expected ${SUPPORTED_FORMATS.join(', ')})`,
          { file: this.header.file, line: sig.line },
        );
      }
    }
    return indices;
  }

  private resolve(signals: readonly (number | string)[]): number[] {
    return signals.map((s) => {
      const i = typeof s === 'number' ? s : this.header.signals.findIndex((sig) => sig.description === s);
      if (!Number.isInteger(i) || i < 0 || i >= this.header.numSignals) {
        throw new EcgMonitorError(
          'ECG_ERR_BAD_OPTION',
          `${this.header.file}: no signal ${JSON.stringify(s)} (signals: ${this.header.signals.map((x, k) => `${k} ${x.description}`).join(', ')})`,
        );
      }
      return i;
    });
  }

  /**
   * Reads samples `[fromSample, toSample)` of the selected signals as raw ADC values.
   * Checks the first value when `fromSample` is 0 and the checksum when the range is the whole record (unless verify is false).
   */
  async read(options: ReadRecordOptions = {}): Promise<Int32Array[]> {
    const { from, to } = this.range(options);
    const indices = this.signalIndices(options.signals);
    const adc = this.readRange(from, to, indices);
    if (options.verify !== false) {
      if (from === 0 && to > 0) this.checkFirstValues(indices, adc.map((a) => a[0]!));
      if (from === 0 && to === this.numSamples) this.checkChecksums(indices, adc.map(sumOf));
    }
    return adc;
  }

  /**
   * Reads the selected signals in blocks of `blockSamples` frames, from `fromSample` to `toSample`: memory stays flat in
   * record length (one read-ahead span of at least 65536 frames at a time). Blocks are views into the span's arrays; they
   * are never reused, so consumers may keep them. When the blocks cover the whole record and
   * verify is not false, the checksums are checked after the last block, so the iterator throws ECG_ERR_CHECKSUM instead
   * of finishing normally.
   */
  async *blocks(options: BlockOptions = {}): AsyncGenerator<SignalBlock, void, undefined> {
    const { from, to } = this.range(options);
    const blockSamples = options.blockSamples ?? DEFAULT_BLOCK_SAMPLES;
    if (!Number.isInteger(blockSamples) || blockSamples < 1) {
      throw new EcgMonitorError('ECG_ERR_BAD_OPTION', `blocks: blockSamples=${blockSamples} must be an integer >= 1`);
    }
    const indices = this.signalIndices(options.signals);
    const verify = options.verify !== false;
    const sums = new Float64Array(indices.length);
    // Read ahead in spans of whole blocks (at least READ_AHEAD_SAMPLES frames): one file read per span instead of one per
    // block keeps small blocks (one second = 360 frames) cheap. Blocks are views into the span's arrays.
    const span = Math.max(1, Math.ceil(READ_AHEAD_SAMPLES / blockSamples)) * blockSamples;
    for (let spanStart = from; spanStart < to; spanStart += span) {
      const spanEnd = Math.min(to, spanStart + span);
      const adcSpan = this.readRange(spanStart, spanEnd, indices);
      if (verify) {
        if (spanStart === 0) this.checkFirstValues(indices, adcSpan.map((a) => a[0]!));
        adcSpan.forEach((a, i) => (sums[i] = (sums[i]! + sumOf(a)) % 65536));
      }
      for (let start = spanStart; start < spanEnd; start += blockSamples) {
        const end = Math.min(spanEnd, start + blockSamples);
        yield { startSample: start, adc: adcSpan.map((a) => a.subarray(start - spanStart, end - spanStart)) };
      }
    }
    if (verify && from === 0 && to === this.numSamples) this.checkChecksums(indices, Array.from(sums));
  }

  /**
   * Samples `[fromSample, toSample)` of the signals `indices` (header indices, e.g. from `signalIndices`) in mV, NaN
   * where the format marks a sample invalid, read synchronously: the blocks of a streaming source (recordSource).
   * The same values as `adcToMillivolts` of `read`, decoded straight to mV without an ADC array; no first-value or
   * checksum check (a stream may start and stop anywhere). Formats 16, 80 and 212 (format 8 would be decoded from
   * frame 0 at every call). The returned arrays are fresh: callers may hand out views of them.
   * @throws EcgMonitorError ECG_ERR_BAD_OPTION for a range outside the record or a closed reader; RecordFormatError
   *   ECG_ERR_TRUNCATED (file, byte offset), ECG_ERR_UNSUPPORTED_FORMAT (format 8, units that are not a voltage)
   */
  readMillivoltsSync(fromSample: number, toSample: number, indices: readonly number[]): Float32Array[] {
    const { from, to } = this.range({ fromSample, toSample });
    const out = indices.map(() => new Float32Array(to - from));
    for (const g of this.groups) {
      const selected = indices.some((s) => g.signals.includes(s));
      if (!selected) continue;
      if (g.format === 8) {
        const sig = this.header.signals[g.signals[0]!]!;
        throw new RecordFormatError('ECG_ERR_UNSUPPORTED_FORMAT', 'format 8 (first differences) is read from the start by read() only, not in blocks', {
          file: this.header.file,
          line: sig.line,
        });
      }
      const bytes = this.readBytes(g, from, to);
      indices.forEach((s, at) => {
        const position = g.signals.indexOf(s);
        if (position < 0) return;
        const sig = this.header.signals[s]!;
        const invalid = FORMAT_INFO[g.format]?.invalidAdc ?? Number.NaN;
        decodeSignalScaled(g.format, bytes, g.signals.length, from, to - from, position, sig.baseline, millivoltScale(sig, this.header) / effectiveGain(sig), invalid, out[at]!);
      });
    }
    return out;
  }

  /** Closes the signal files. Safe to call twice. */
  async close(): Promise<void> {
    this.closeSync();
    return Promise.resolve();
  }

  /** Closes the signal files synchronously. Safe to call twice. */
  closeSync(): void {
    if (this.closed) return;
    this.closed = true;
    for (const g of this.groups) if (g.fd !== undefined) closeSync(g.fd);
  }

  private range(options: ReadRecordOptions): { from: number; to: number } {
    const from = options.fromSample ?? 0;
    const to = options.toSample ?? this.numSamples;
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < from || to > this.numSamples) {
      throw new EcgMonitorError(
        'ECG_ERR_BAD_OPTION',
        `${this.header.file}: sample range [${from}, ${to}) is not within [0, ${this.numSamples}]`,
      );
    }
    return { from, to };
  }

  /**
   * The bytes of group `g` holding frames `[fromFrame, to)` (from the 212 pair or byte holding the first sample), in the
   * group's reused buffer: valid until the next read of the group.
   */
  private readBytes(g: Group, fromFrame: number, to: number): Uint8Array {
    if (this.closed) throw new EcgMonitorError('ECG_ERR_BAD_OPTION', `${this.header.file}: reader is closed`);
    const width = g.signals.length;
    const { start, end } = byteRangeOfStream(g.format, fromFrame * width, to * width);
    const available = g.size! - g.byteOffset;
    if (end > available) {
      throw new RecordFormatError(
        'ECG_ERR_TRUNCATED',
        `signal file ends at byte ${g.size} but samples [${fromFrame}, ${to}) of ${width} signal(s) in format ${g.format} need bytes up to ${g.byteOffset + end}`,
        { file: g.path, byteOffset: g.size! },
      );
    }
    if (g.bytes === undefined || g.bytes.length < end - start) g.bytes = new Uint8Array(end - start);
    const bytes = g.bytes.subarray(0, end - start);
    let got = 0;
    while (got < bytes.length) {
      const n = readSync(g.fd!, bytes, got, bytes.length - got, g.byteOffset + start + got);
      if (n === 0) throw new RecordFormatError('ECG_ERR_TRUNCATED', 'signal file ended while reading', { file: g.path, byteOffset: g.byteOffset + start + got });
      got += n;
    }
    return bytes;
  }

  private readRange(from: number, to: number, indices: readonly number[]): Int32Array[] {
    if (this.closed) throw new EcgMonitorError('ECG_ERR_BAD_OPTION', `${this.header.file}: reader is closed`);
    const result: Int32Array[] = new Array<Int32Array>(indices.length);
    for (const g of this.groups) {
      if (!g.signals.some((s) => indices.includes(s))) continue;
      const width = g.signals.length;
      // Format 8 stores differences: decode from frame 0 so the running values are right.
      const decodeFrom = g.format === 8 ? 0 : from;
      const bytes = this.readBytes(g, decodeFrom, to);
      const groupOut = g.signals.map(() => new Int32Array(to - decodeFrom));
      const state = g.format === 8 ? Int32Array.from(g.signals, (s) => this.header.signals[s]!.initialValue) : undefined;
      decodeFrames(g.format, bytes, width, decodeFrom, to - decodeFrom, groupOut, 0, state);
      indices.forEach((sel, at) => {
        const k = g.signals.indexOf(sel);
        if (k >= 0) result[at] = decodeFrom === from ? groupOut[k]! : groupOut[k]!.subarray(from - decodeFrom);
      });
    }
    return result;
  }

  private checkFirstValues(indices: readonly number[], firsts: readonly number[]): void {
    indices.forEach((s, i) => {
      const sig = this.header.signals[s]!;
      if (sig.hasInitialValue && firsts[i] !== sig.initialValue) {
        throw new RecordFormatError(
          'ECG_ERR_CHECKSUM',
          `signal ${s} (${sig.description}): first sample is ${firsts[i]}, header says ${sig.initialValue} (${this.header.file}:${sig.line})`,
          { file: this.groups[this.groupOf[s]!]!.path },
        );
      }
    });
  }

  private checkChecksums(indices: readonly number[], sums: readonly number[]): void {
    indices.forEach((s, i) => {
      const sig = this.header.signals[s]!;
      if (sig.checksum === undefined) return;
      const got = toChecksum16(sums[i]!);
      if (got !== toChecksum16(sig.checksum)) {
        throw new RecordFormatError(
          'ECG_ERR_CHECKSUM',
          `signal ${s} (${sig.description}): checksum of samples is ${got}, header says ${sig.checksum} (${this.header.file}:${sig.line})`,
          { file: this.groups[this.groupOf[s]!]!.path },
        );
      }
    });
  }
}

/** Whole frames of `g` signals that `bytes` bytes of a signal file hold. */
function framesInBytes(format: number, g: number, bytes: number): number {
  switch (format) {
    case 16:
      return Math.floor(bytes / (2 * g));
    case 212: {
      const streamSamples = Math.floor(bytes / 3) * 2 + (bytes % 3 >= 2 ? 1 : 0); // a pair's first sample needs 2 bytes
      return Math.floor(streamSamples / g);
    }
    default:
      return Math.floor(bytes / g);
  }
}

/** Sum of an array modulo 65536 (kept exact: partial sums stay far below 2^53). */
function sumOf(a: Int32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]!;
  return sum % 65536;
}

/**
 * Opens a record for block or range reads: `dir/recordName.hea` and its signal files.
 * @throws RecordFormatError ECG_ERR_FILE_NOT_FOUND (header or signal file), ECG_ERR_BAD_HEADER, ECG_ERR_UNSUPPORTED_FORMAT
 */
export function openRecord(dir: string, recordName: string): Promise<RecordReader> {
  return RecordReader.open(dir, recordName);
}

/**
 * Reads a record (or a sample range of it) into memory: `rdsamp -r mitdb/100 -f 0 -t 10` is
 * `readRecord(dir, '100', { toSample: 3600 })`.
 * @param dir folder holding `recordName.hea` and its signal files
 */
export async function readRecord(dir: string, recordName: string, options: ReadRecordOptions = {}): Promise<WfdbRecord> {
  const reader = await openRecord(dir, recordName);
  try {
    const signalIndices = reader.signalIndices(options.signals);
    const adc = await reader.read({ ...options, signals: signalIndices });
    const header = reader.header;
    const fromSample = options.fromSample ?? 0;
    return {
      header,
      fromSample,
      toSample: fromSample + (adc[0]?.length ?? (options.toSample ?? reader.numSamples) - fromSample),
      signalIndices,
      adc,
      toPhysical: (i) => adcToPhysical(adc[i]!, header.signals[signalIndices[i]!]!),
      toMillivolts: (i) => adcToMillivolts(adc[i]!, header.signals[signalIndices[i]!]!, header),
    };
  } finally {
    await reader.close();
  }
}
