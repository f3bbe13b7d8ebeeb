import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { asyncScheduler, Observable, type SchedulerLike } from 'rxjs';
import { ConfigError, EcgMonitorError, RecordFormatError } from '../errors.js';
import type { LeadSamples, SampleChunk } from '../types.js';
import { asNotFound } from '../wfdb/files.js';
import { parseHeader, type RecordHeader } from '../wfdb/header.js';
import { adcToMillivolts } from '../wfdb/record.js';
import { byteRangeOfStream, decodeFrames } from '../wfdb/signalFormats.js';

export interface RecordSourceOptions {
  /** Samples per chunk. Default: one second (the record's sampling rate). */
  chunkSamples?: number;
  /**
   * Pacing: undefined or 0 = as fast as possible (synchronously, for evaluation and benchmarks); 1 = real time;
   * 10 = ten times real time. A paced chunk is emitted when its last sample would have been acquired.
   */
  speed?: number;
  /** Primary lead, by name (`MLII`) or header index. Default 0, the first signal. */
  lead?: string | number;
  /** Other leads to carry along as `auxLeads`, by name or index. Default none. */
  auxLeads?: readonly (string | number)[];
  /** First sample to emit. Default 0. */
  fromSample?: number;
  /** Sample to stop before. Default: the end of the record. */
  toSample?: number;
  /** Stream id of the chunks. Default `<folder name>/<record>`, e.g. `mitdb/100`. */
  streamId?: string;
  /** Scheduler of the paced mode (tests pass a TestScheduler). Default asyncScheduler. */
  scheduler?: SchedulerLike;
}

/** Frames read per file access: large enough to amortise the read, small enough to keep memory flat (~0.5 MB). */
const BLOCK_FRAMES = 65_536;

/**
 * A WFDB record as a stream of {@link SampleChunk}s: primary lead plus optional auxiliary leads, in mV, NaN where the
 * format marks a sample invalid.
 *
 * The record is read in blocks of about 64 k frames with synchronous positional reads when the subscriber asks for
 * them, so memory stays flat in record length and the source has no hidden buffering: in fast mode all chunks
 * are emitted synchronously during `subscribe` (the pipeline downstream runs chunk by chunk), in paced mode one
 * scheduler action per chunk. Chunks are views into the current block's arrays (no copy per chunk). Files are opened
 * on subscribe and closed on complete, error or unsubscribe. Options are checked when the source is created;
 * header and file problems arrive on the error channel (RecordFormatError with the file).
 *
 * Supported signal formats: 16, 80 and 212 (format 8 needs decoding from the start and is read by `readRecord` only).
 *
 * ## Example
 * ```ts
 * recordSource(mitdbDir(), '100', { speed: 1 }).pipe(bandpass(), detectRPeaks()).subscribe((peak) => console.log(peak));
 * ```
 * @param dir folder holding `<record>.hea` and its signal files
 * @param record record name, e.g. `100`
 * @see bandpass, detectRPeaks
 */
export function recordSource(dir: string, record: string, options: RecordSourceOptions = {}): Observable<SampleChunk> {
  const { chunkSamples, speed = 0, lead = 0, auxLeads = [], fromSample = 0, toSample, scheduler = asyncScheduler } = options;
  const bad = (what: string): never => {
    throw new ConfigError('ECG_ERR_BAD_OPTION', `recordSource: ${what}`);
  };
  if (chunkSamples !== undefined && !(Number.isInteger(chunkSamples) && chunkSamples >= 1)) bad(`chunkSamples=${chunkSamples} must be an integer >= 1`);
  if (!(Number.isFinite(speed) && speed >= 0)) bad(`speed=${speed} must be >= 0 (0: as fast as possible)`);
  if (!(Number.isInteger(fromSample) && fromSample >= 0)) bad(`fromSample=${fromSample} must be an integer >= 0`);
  if (toSample !== undefined && !(Number.isInteger(toSample) && toSample >= fromSample)) bad(`toSample=${toSample} must be an integer >= fromSample`);
  const streamId = options.streamId ?? `${basename(resolve(dir))}/${record}`;

  return new Observable<SampleChunk>((subscriber) => {
    let reader: BlockReader | undefined;
    try {
      reader = new BlockReader(dir, record, [lead, ...auxLeads]);
    } catch (error) {
      subscriber.error(error);
      return;
    }
    const r = reader;
    const fsHz = r.header.fsHz;
    const chunk = chunkSamples ?? Math.max(1, Math.round(fsHz));
    const end = Math.min(toSample ?? r.numSamples, r.numSamples);
    if (toSample !== undefined && toSample > r.numSamples) {
      r.close();
      subscriber.error(new ConfigError('ECG_ERR_BAD_OPTION', `recordSource: toSample=${toSample} is past the end of ${r.headerFile} (${r.numSamples} samples)`));
      return;
    }
    // Blocks hold a whole number of chunks, so no chunk straddles two reads.
    const blockFrames = chunk * Math.max(1, Math.floor(BLOCK_FRAMES / chunk));
    let block: Float32Array[] = [];
    let blockStart = fromSample;
    let next = fromSample; // first sample of the next chunk

    /** The next chunk, reading a new block when the current one is used up; undefined at the end. */
    const nextChunk = (): SampleChunk | undefined => {
      if (next >= end) return undefined;
      if (next >= blockStart + (block[0]?.length ?? 0)) {
        blockStart = next;
        block = r.read(next, Math.min(end, next + blockFrames));
      }
      const a = next - blockStart;
      const b = Math.min(a + chunk, block[0]!.length);
      const out: SampleChunk = {
        streamId,
        startSample: next,
        fsHz,
        lead: r.names[0]!,
        samples: block[0]!.subarray(a, b),
      };
      if (block.length > 1) {
        out.auxLeads = block.slice(1).map((s, i): LeadSamples => ({ lead: r.names[i + 1]!, samples: s.subarray(a, b) }));
      }
      next += b - a;
      return out;
    };

    if (speed === 0) {
      try {
        for (let c = nextChunk(); c !== undefined && !subscriber.closed; c = nextChunk()) subscriber.next(c);
        r.close();
        subscriber.complete();
      } catch (error) {
        r.close();
        subscriber.error(error);
      }
      return () => r.close();
    }

    // Paced: chunk k is due when its last sample would have been acquired, t0 + (its end - fromSample) / fs / speed.
    // Due times are absolute, so scheduling jitter does not accumulate.
    const t0 = scheduler.now();
    const msPerSample = 1000 / fsHz / speed;
    const dueIn = (endSample: number): number => Math.max(0, t0 + (endSample - fromSample) * msPerSample - scheduler.now());
    let pending: SampleChunk | undefined;
    const emit = function (this: { schedule(state?: undefined, delay?: number): void }): void {
      try {
        if (pending !== undefined) subscriber.next(pending);
        if (subscriber.closed) return;
        pending = nextChunk();
        if (pending === undefined) {
          r.close();
          subscriber.complete();
          return;
        }
        this.schedule(undefined, dueIn(pending.startSample + pending.samples.length));
      } catch (error) {
        r.close();
        subscriber.error(error);
      }
    };
    let first: SampleChunk | undefined;
    try {
      first = nextChunk();
    } catch (error) {
      r.close();
      subscriber.error(error);
      return;
    }
    if (first === undefined) {
      r.close();
      subscriber.complete();
      return;
    }
    pending = first;
    const action = scheduler.schedule(emit, dueIn(first.startSample + first.samples.length));
    return () => {
      action.unsubscribe();
      r.close();
    };
  });
}

/** One signal file and the header signals interleaved in it. */
interface Group {
  path: string;
  format: number;
  byteOffset: number;
  width: number;
  fd?: number;
  size: number;
  bytes?: Uint8Array;
  adc?: Int32Array[];
}

/**
 * Synchronous block reader of selected signals (internal): positional reads, decode by signalFormats, scaling by
 * record.ts, so the bytes are interpreted exactly as `readRecord` does.
 */
class BlockReader {
  readonly header: RecordHeader;
  readonly headerFile: string;
  readonly names: string[];
  readonly numSamples: number;
  private readonly groups: Group[] = [];
  /** Per selected signal: its group and position in the group. */
  private readonly picks: { signal: number; group: number; position: number }[];
  private closed = false;

  constructor(dir: string, record: string, selection: readonly (string | number)[]) {
    this.headerFile = join(dir, `${record}.hea`);
    let text: string;
    try {
      text = readFileSync(this.headerFile, 'latin1');
    } catch (error) {
      throw asNotFound(error, this.headerFile);
    }
    const h = parseHeader(text, this.headerFile);
    this.header = h;
    if (h.numSegments !== undefined) {
      throw new RecordFormatError('ECG_ERR_UNSUPPORTED_FORMAT', 'multi-segment records are not supported by recordSource', { file: this.headerFile });
    }
    const groupOf: number[] = [];
    const positionOf: number[] = [];
    h.signals.forEach((sig, i) => {
      const last = this.groups[this.groups.length - 1];
      if (last !== undefined && i > 0 && h.signals[i - 1]!.fileName === sig.fileName) {
        positionOf[i] = last.width++;
      } else {
        this.groups.push({ path: join(dir, sig.fileName), format: sig.format, byteOffset: sig.byteOffset, width: 1, size: 0 });
        positionOf[i] = 0;
      }
      groupOf[i] = this.groups.length - 1;
    });
    this.picks = selection.map((s) => {
      const i = typeof s === 'number' ? s : h.signals.findIndex((sig) => sig.description === s);
      if (!(Number.isInteger(i) && i >= 0 && i < h.numSignals)) {
        throw new ConfigError(
          'ECG_ERR_BAD_OPTION',
          `recordSource: ${this.headerFile} has no signal ${JSON.stringify(s)} (signals: ${h.signals.map((x, k) => `${k} ${x.description}`).join(', ')})`,
        );
      }
      const sig = h.signals[i]!;
      if (![16, 80, 212].includes(sig.format) || sig.samplesPerFrame !== 1 || sig.skew !== 0) {
        throw new RecordFormatError('ECG_ERR_UNSUPPORTED_FORMAT', `recordSource reads formats 16, 80 and 212 without skew or oversampling, not signal ${i} (format ${sig.format})`, {
          file: this.headerFile,
          line: sig.line,
        });
      }
      return { signal: i, group: groupOf[i]!, position: positionOf[i]! };
    });
    this.names = this.picks.map((p) => h.signals[p.signal]!.description || `signal ${p.signal}`);
    try {
      for (const g of this.groups) {
        if (!this.picks.some((p) => this.groups[p.group] === g)) continue;
        try {
          g.fd = openSync(g.path, 'r');
        } catch (error) {
          throw asNotFound(error, g.path);
        }
        g.size = fstatSync(g.fd).size;
      }
    } catch (error) {
      this.close();
      throw error;
    }
    let n = h.numSamples ?? 0;
    if (n === 0) {
      n = Math.min(
        ...this.groups.filter((g) => g.fd !== undefined).map((g) => {
          const bytes = Math.max(0, g.size - g.byteOffset);
          const perFrame = g.format === 16 ? 2 * g.width : g.format === 212 ? 1.5 * g.width : g.width;
          return Math.floor(bytes / perFrame);
        }),
      );
    }
    this.numSamples = n;
  }

  /** Samples [from, to) of the selected signals, mV. */
  read(from: number, to: number): Float32Array[] {
    if (this.closed) throw new EcgMonitorError('ECG_ERR_BAD_OPTION', `${this.headerFile}: reader is closed`);
    const frames = to - from;
    const decoded = new Map<Group, Int32Array[]>();
    for (const p of this.picks) {
      const g = this.groups[p.group]!;
      if (decoded.has(g)) continue;
      const { start, end } = byteRangeOfStream(g.format, from * g.width, to * g.width);
      if (g.byteOffset + end > g.size) {
        throw new RecordFormatError(
          'ECG_ERR_TRUNCATED',
          `signal file ends at byte ${g.size} but samples [${from}, ${to}) need bytes up to ${g.byteOffset + end}`,
          { file: g.path, byteOffset: g.size },
        );
      }
      // Byte and ADC buffers are reused from block to block (only the mV arrays, which chunks view, are fresh).
      if (g.bytes === undefined || g.bytes.length < end - start) g.bytes = new Uint8Array(end - start);
      const bytes = g.bytes.subarray(0, end - start);
      let got = 0;
      while (got < bytes.length) {
        const n = readSync(g.fd!, bytes, got, bytes.length - got, g.byteOffset + start + got);
        if (n === 0) throw new RecordFormatError('ECG_ERR_TRUNCATED', 'signal file ended while reading', { file: g.path, byteOffset: g.byteOffset + start + got });
        got += n;
      }
      if (g.adc === undefined || g.adc[0]!.length < frames) g.adc = Array.from({ length: g.width }, () => new Int32Array(frames));
      const out = g.adc.map((a) => a.subarray(0, frames));
      decodeFrames(g.format, bytes, g.width, from, frames, out, 0);
      decoded.set(g, out);
    }
    return this.picks.map((p) => adcToMillivolts(decoded.get(this.groups[p.group]!)![p.position]!, this.header.signals[p.signal]!, this.header));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const g of this.groups) if (g.fd !== undefined) closeSync(g.fd);
  }
}
