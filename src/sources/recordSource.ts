import { basename, resolve } from 'node:path';
import { asyncScheduler, Observable, type SchedulerLike } from 'rxjs';
import { ConfigError, RecordFormatError } from '../errors.js';
import type { LeadSamples, SampleChunk } from '../types.js';
import { RecordReader } from '../wfdb/record.js';

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
 * them (`RecordReader.readMillivoltsSync` of src/wfdb/record.ts: the same reader and decoders as `readRecord`, each
 * block decoded straight to mV), so memory stays flat in record length and the source has no hidden buffering: in fast mode all chunks
 * are emitted synchronously during `subscribe` (the pipeline downstream runs chunk by chunk), in paced mode one
 * scheduler action per chunk. Chunks are views into the current block's arrays (no copy per chunk). Files are opened
 * on subscribe and closed on complete, error or unsubscribe. Options are checked when the source is created;
 * header and file problems arrive on the error channel (RecordFormatError with the file).
 *
 * Supported signal formats: 16, 80 and 212 (format 8 needs decoding from the start and is read by `readRecord` only);
 * a header the reader refuses (multi-segment, skew, several samples per frame) or a missing signal file of any signal
 * of the record is a RecordFormatError on the error channel.
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
    let selected: Selection;
    try {
      selected = openSelection(dir, record, [lead, ...auxLeads]);
    } catch (error) {
      subscriber.error(error);
      return;
    }
    const { reader: r, indices, names } = selected;
    const fsHz = r.header.fsHz;
    const chunk = chunkSamples ?? Math.max(1, Math.round(fsHz));
    const end = Math.min(toSample ?? r.numSamples, r.numSamples);
    if (toSample !== undefined && toSample > r.numSamples) {
      r.closeSync();
      subscriber.error(new ConfigError('ECG_ERR_BAD_OPTION', `recordSource: toSample=${toSample} is past the end of ${r.header.file} (${r.numSamples} samples)`));
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
        block = r.readMillivoltsSync(next, Math.min(end, next + blockFrames), indices);
      }
      const a = next - blockStart;
      const b = Math.min(a + chunk, block[0]!.length);
      const out: SampleChunk = {
        streamId,
        startSample: next,
        fsHz,
        lead: names[0]!,
        samples: block[0]!.subarray(a, b),
      };
      if (block.length > 1) {
        out.auxLeads = block.slice(1).map((s, i): LeadSamples => ({ lead: names[i + 1]!, samples: s.subarray(a, b) }));
      }
      next += b - a;
      return out;
    };

    if (speed === 0) {
      try {
        for (let c = nextChunk(); c !== undefined && !subscriber.closed; c = nextChunk()) subscriber.next(c);
        r.closeSync();
        subscriber.complete();
      } catch (error) {
        r.closeSync();
        subscriber.error(error);
      }
      return () => r.closeSync();
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
          r.closeSync();
          subscriber.complete();
          return;
        }
        this.schedule(undefined, dueIn(pending.startSample + pending.samples.length));
      } catch (error) {
        r.closeSync();
        subscriber.error(error);
      }
    };
    let first: SampleChunk | undefined;
    try {
      first = nextChunk();
    } catch (error) {
      r.closeSync();
      subscriber.error(error);
      return;
    }
    if (first === undefined) {
      r.closeSync();
      subscriber.complete();
      return;
    }
    pending = first;
    const action = scheduler.schedule(emit, dueIn(first.startSample + first.samples.length));
    return () => {
      action.unsubscribe();
      r.closeSync();
    };
  });
}

/** The record's reader and the selected signals: header indices and names. */
interface Selection {
  reader: RecordReader;
  indices: number[];
  names: string[];
}

/**
 * Opens the record (src/wfdb/record.ts, the same reader as `readRecord`) and resolves the selected signals; an unknown
 * signal is a ConfigError, a format that cannot be read in blocks (8) or with skew / oversampling a RecordFormatError
 * naming the header line. Closes the reader if the selection fails.
 */
function openSelection(dir: string, record: string, selection: readonly (string | number)[]): Selection {
  const reader = RecordReader.openSync(dir, record);
  try {
    const h = reader.header;
    const indices = selection.map((s) => {
      const i = typeof s === 'number' ? s : h.signals.findIndex((sig) => sig.description === s);
      if (!(Number.isInteger(i) && i >= 0 && i < h.numSignals)) {
        throw new ConfigError(
          'ECG_ERR_BAD_OPTION',
          `recordSource: ${h.file} has no signal ${JSON.stringify(s)} (signals: ${h.signals.map((x, k) => `${k} ${x.description}`).join(', ')})`,
        );
      }
      const sig = h.signals[i]!;
      if (![16, 80, 212].includes(sig.format)) {
        throw new RecordFormatError('ECG_ERR_UNSUPPORTED_FORMAT', `recordSource reads formats 16, 80 and 212, not signal ${i} (format ${sig.format})`, {
          file: h.file,
          line: sig.line,
        });
      }
      return i;
    });
    return { reader, indices, names: indices.map((i) => h.signals[i]!.description || `signal ${i}`) };
  } catch (error) {
    reader.closeSync();
    throw error;
  }
}
