import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchSuite } from '../cli/commands/bench.js';
import { benchRecords } from '../cli/commands/benchSignal.js';
import { positiveInteger, recordsOption, type RecordsOption } from '../cli/io.js';
import { MITDB_RECORDS, mitdbDir } from '../config.js';
import { median } from '../quantile.js';
import { readHeader } from '../wfdb/header.js';
import { readRecord } from '../wfdb/record.js';
import { decodeFrames } from '../wfdb/signalFormats.js';

/**
 * Throughput of the WFDB layer, measured as a benchmark (never as a timed test assertion):
 * - **decode**: `decodeFrames(212, ...)` over the whole of one record's signal file already in memory (default MIT-BIH 100:
 *   2 signals x 650000 frames), repeated; the bit unpacking alone.
 * - **read**: `readRecord(dir, name)` of every record, whole (files -> ADC values, first values and 16-bit checksums
 *   checked against the headers); counts every sample of every signal.
 * Each figure is the median of `repetitions` timed runs after one untimed warm-up run, in samples/s.
 *
 * ## Example
 * ```ts
 * const r = await benchDecode(mitdbDir());
 * console.log(`${(r.decodeSamplesPerSecond / 1e6).toFixed(0)} M samples/s decoded`);
 * ```
 */

export interface DecodeBenchOptions {
  /** Record whose format-212 signal file is decoded. Default '100'. */
  decodeRecord?: string;
  /** Decodes of the whole file per timed run. Default 10. */
  decodesPerRun?: number;
  /** Records read whole per timed run. Default: the 48 MIT-BIH records. */
  records?: readonly string[];
  /** Timed runs of each part; the median is reported. Default 5. */
  repetitions?: number;
}

export interface DecodeBenchResult {
  /** Median format-212 decode speed, samples/s (one sample = one value of one signal). */
  decodeSamplesPerSecond: number;
  /** Median whole-record read speed (files -> checked ADC values), samples/s over all signals. */
  readSamplesPerSecond: number;
  decode: {
    record: string;
    /** Samples decoded per timed run (decodesPerRun x frames x signals). */
    samplesPerRun: number;
    /** Samples/s of each timed run, in run order. */
    runs: number[];
  };
  read: {
    records: number;
    /** Samples read per timed run, all signals of all records. */
    samplesPerRun: number;
    /** Whether first values and checksums were checked (always true: reads fail on a mismatch). */
    checksumsChecked: true;
    runs: number[];
  };
  repetitions: number;
  node: string;
}

const seconds = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

/**
 * Runs the WFDB decode and read benchmark on the records in `dir` (e.g. `mitdbDir()`).
 * @throws RecordFormatError from the reader (missing file, checksum mismatch): a benchmark of wrong data is no benchmark
 */
export async function benchDecode(dir: string, options: DecodeBenchOptions = {}): Promise<DecodeBenchResult> {
  const decodeRecord = options.decodeRecord ?? '100';
  const decodesPerRun = options.decodesPerRun ?? 10;
  const records = options.records ?? MITDB_RECORDS;
  const repetitions = options.repetitions ?? 5;
  if (!Number.isInteger(repetitions) || repetitions < 1) throw new RangeError(`benchDecode: repetitions=${repetitions} must be an integer >= 1`);
  if (!Number.isInteger(decodesPerRun) || decodesPerRun < 1) throw new RangeError(`benchDecode: decodesPerRun=${decodesPerRun} must be an integer >= 1`);

  // Decode: the record's one signal file, as the header describes it (all signals in one 212 file, as in MIT-BIH).
  const header = await readHeader(join(dir, `${decodeRecord}.hea`));
  const first = header.signals[0];
  if (first === undefined || first.format !== 212 || header.signals.some((s) => s.fileName !== first.fileName || s.format !== 212)) {
    throw new RangeError(`benchDecode: record ${decodeRecord} must keep all its signals in one format-212 file`);
  }
  const bytes = (await readFile(join(dir, first.fileName))).subarray(first.byteOffset);
  const g = header.numSignals;
  const frames = header.numSamples ?? Math.floor((bytes.length * 2) / 3 / g);
  const out = Array.from({ length: g }, () => new Int32Array(frames));
  const decodeOnce = (): void => {
    for (let k = 0; k < decodesPerRun; k++) decodeFrames(212, bytes, g, 0, frames, out);
  };
  decodeOnce(); // warm-up: lets the JIT optimise the loop before timing
  const decodeSamplesPerRun = decodesPerRun * frames * g;
  const decodeRuns: number[] = [];
  for (let r = 0; r < repetitions; r++) {
    const t0 = process.hrtime.bigint();
    decodeOnce();
    decodeRuns.push(decodeSamplesPerRun / seconds(t0));
  }

  // Read: whole records, verified (readRecord checks first values and checksums by default and throws on a mismatch).
  const readAll = async (): Promise<number> => {
    let samples = 0;
    for (const name of records) {
      const rec = await readRecord(dir, name);
      for (const a of rec.adc) samples += a.length;
    }
    return samples;
  };
  const readSamplesPerRun = await readAll(); // warm-up (also fills the OS page cache: runs measure decoding, not the disk)
  const readRuns: number[] = [];
  for (let r = 0; r < repetitions; r++) {
    const t0 = process.hrtime.bigint();
    const samples = await readAll();
    readRuns.push(samples / seconds(t0));
  }

  return {
    decodeSamplesPerSecond: median(decodeRuns),
    readSamplesPerSecond: median(readRuns),
    decode: { record: decodeRecord, samplesPerRun: decodeSamplesPerRun, runs: decodeRuns },
    read: { records: records.length, samplesPerRun: readSamplesPerRun, checksumsChecked: true, runs: readRuns },
    repetitions,
    node: process.version,
  };
}

/** Human-readable table of a {@link DecodeBenchResult}. */
export function decodeBenchTable(r: DecodeBenchResult): string {
  const m = (v: number): string => `${(v / 1e6).toFixed(1)} M`;
  const rows: [string, string][] = [
    [`format 212 decode (record ${r.decode.record}) samples/s`, m(r.decodeSamplesPerSecond)],
    [`whole-record reads (${r.read.records} records, checksums checked) samples/s`, m(r.readSamplesPerSecond)],
    ['samples per run (decode / read)', `${r.decode.samplesPerRun} / ${r.read.samplesPerRun}`],
    ['repetitions (median reported)', String(r.repetitions)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return `bench decode (WFDB layer, ${r.node})\n${rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n')}\n`;
}

/**
 * The benchmark as a `bench` suite (`ecg-monitor bench decode`, and a `decode` key in `bench all --json`), to be passed to
 * `benchCommand` in main.ts beside the other suites.
 */
export const decodeBenchSuite: BenchSuite<{ dir?: string; records: RecordsOption; repetitions: number }, DecodeBenchResult> = {
  name: 'decode',
  description: 'WFDB layer: format-212 decode and whole-record reads (checksums checked) over MIT-BIH, samples/s',
  addOptions: (cmd) =>
    cmd
      .option('--dir <path>', 'WFDB records folder (default: MITDB_DIR)')
      .option('--records <list>', 'records read whole, comma-separated, or "all" (the 48 MIT-BIH records)', recordsOption, 'all')
      .option('--repetitions <n>', 'timed runs of each part; the median is reported', positiveInteger, 5),
  run: (flags, io) =>
    benchDecode(flags.dir ?? mitdbDir(io.env), {
      repetitions: flags.repetitions,
      records: benchRecords(flags.records),
    }),
  table: decodeBenchTable,
  helpAfter: '\nExamples:\n  ecg-monitor bench decode --json bench-decode.json\n  ecg-monitor bench decode --records 100,208 --repetitions 3\n',
};
