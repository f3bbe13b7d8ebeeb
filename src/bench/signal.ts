import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { tap } from 'rxjs';
import { MITDB_RECORDS } from '../config.js';
import { bandpass } from '../pipeline/bandpass.js';
import { detectRPeaks } from '../pipeline/detectRPeaks.js';
import { recordSource } from '../sources/recordSource.js';

export interface SignalBenchOptions {
  /** Folder of the WFDB records. */
  dir: string;
  /** Records to run. Default: the 48 MIT-BIH records. */
  records?: readonly string[];
  /** Samples per chunk. Default: one second at the record's rate (as the live stream). */
  chunkSamples?: number;
  /** Run detectRPeaks with `leadFallback` on the second signal as auxiliary lead (reads both leads). Default false. */
  leadFallback?: boolean;
  /** Called after each record (progress logging). */
  onRecord?: (record: string, samples: number, peaks: number) => void;
}

/** Latency percentiles of the emitted R-peaks (detectedAtSample - sampleIndex). */
export interface LatencySummary {
  p50Samples: number;
  p90Samples: number;
  p99Samples: number;
  maxSamples: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface SignalBenchResult {
  records: number;
  /** Primary-lead samples pushed from file through band-pass and R-peak detection. */
  samples: number;
  peaks: number;
  /** Wall-clock time of the run, s. */
  seconds: number;
  /** samples / seconds (wall clock). */
  samplesPerSecond: number;
  /** CPU time (user + system) of the process during the run, s: on a shared machine the wall clock overstates the cost. */
  cpuSeconds: number;
  /** samples / cpuSeconds: throughput per core while running. */
  samplesPerCpuSecond: number;
  /** The process's peak resident set size (getrusage ru_maxrss), bytes. */
  peakRssBytes: number;
  /** Resident set size when the run starts (the process with its modules loaded), bytes. */
  rssAtStartBytes: number;
  /**
   * Resident set size after the first and after the last record, bytes. Records are read in blocks, never whole; what
   * RSS gains later is garbage V8 has not collected yet, so it moves with V8's timing (87 to 112 MiB after the 48
   * records over runs of the same code). Whether anything is kept: heapAfterGc* below.
   */
  rssAfterFirstRecordBytes: number;
  rssAfterLastRecordBytes: number;
  /**
   * Memory in use right after a full garbage collection (V8's heap plus the buffers outside it that typed arrays
   * hold), after the first and after the last record, bytes. RSS also holds garbage not yet collected, so it depends
   * on when V8 last collected; these two do not, and equal figures mean the stream keeps no state that grows with
   * the records it has run.
   */
  heapAfterGcFirstRecordBytes: number;
  heapAfterGcLastRecordBytes: number;
  chunkSamples: number | 'one second';
  leadFallback: boolean;
  latency: LatencySummary;
  node: string;
}

/**
 * Throughput benchmark of the signal path: every record from its file through recordSource -> bandpass ->
 * detectRPeaks, in one process on one core, through the same RxJS operators as the live stream, in one-second chunks
 * (fast mode: no pacing). Counts primary-lead samples; the second lead is read and filtered only with `leadFallback`.
 */
export function runSignalBench(options: SignalBenchOptions): SignalBenchResult {
  const records = options.records ?? MITDB_RECORDS;
  let latencies = new Int32Array(1 << 17);
  let peaks = 0;
  let samples = 0;
  let fsHz = 0;
  let rssFirst = 0;
  let heapFirst = 0;
  let gcWallNs = 0n;
  let gcCpuMicros = 0;
  const rssAtStart = process.memoryUsage().rss;
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (const record of records) {
    let recordSamples = 0;
    // Fast mode is synchronous: the subscription has run the whole record when subscribe returns.
    let failure: unknown;
    recordSource(options.dir, record, { chunkSamples: options.chunkSamples, auxLeads: options.leadFallback ? [1] : [] })
      .pipe(
        tap((chunk) => {
          recordSamples += chunk.samples.length;
          fsHz = chunk.fsHz;
        }),
        bandpass(),
        detectRPeaks({ leadFallback: options.leadFallback ?? false }),
      )
      .subscribe({
        next: (peak) => {
          if (peaks === latencies.length) {
            const grown = new Int32Array(2 * latencies.length);
            grown.set(latencies);
            latencies = grown;
          }
          latencies[peaks++] = peak.latencySamples;
        },
        error: (error: unknown) => (failure = error ?? new Error('unknown error')),
      });
    if (failure !== undefined) throw failure;
    samples += recordSamples;
    if (rssFirst === 0) {
      rssFirst = process.memoryUsage().rss;
      // The forced collection is not the stream's work: its time is taken out of the figures.
      const [gcWall0, gcCpu0] = [process.hrtime.bigint(), process.cpuUsage()];
      heapFirst = heapAfterGc();
      const gcCpu = process.cpuUsage(gcCpu0);
      gcWallNs = process.hrtime.bigint() - gcWall0;
      gcCpuMicros = gcCpu.user + gcCpu.system;
    }
    options.onRecord?.(record, recordSamples, peaks);
  }
  const seconds = Number(process.hrtime.bigint() - t0 - gcWallNs) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system - gcCpuMicros) / 1e6;
  const sorted = latencies.slice(0, peaks).sort();
  // Nearest rank, not src/quantile.ts's interpolation: a latency is a whole number of samples, and each percentile
  // reported is one that a beat had.
  const pct = (p: number): number => (peaks === 0 ? 0 : sorted[Math.min(peaks - 1, Math.floor(p * peaks))]!);
  const ms = (s: number): number => (fsHz > 0 ? Math.round((s / fsHz) * 1e4) / 10 : 0);
  const [p50, p90, p99, max] = [pct(0.5), pct(0.9), pct(0.99), peaks === 0 ? 0 : sorted[peaks - 1]!];
  return {
    records: records.length,
    samples,
    peaks,
    seconds,
    samplesPerSecond: samples / seconds,
    cpuSeconds,
    samplesPerCpuSecond: samples / cpuSeconds,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    rssAtStartBytes: rssAtStart,
    rssAfterFirstRecordBytes: rssFirst,
    rssAfterLastRecordBytes: process.memoryUsage().rss,
    heapAfterGcFirstRecordBytes: heapFirst,
    heapAfterGcLastRecordBytes: heapAfterGc(),
    chunkSamples: options.chunkSamples ?? 'one second',
    leadFallback: options.leadFallback ?? false,
    latency: { p50Samples: p50, p90Samples: p90, p99Samples: p99, maxSamples: max, p50Ms: ms(p50), p90Ms: ms(p90), p99Ms: ms(p99), maxMs: ms(max) },
    node: process.version,
  };
}

/**
 * Heap and external memory (typed arrays' buffers live there) in use after full collections. `gc` is exposed at run
 * time, so the bench needs no `--expose-gc` flag. Three collections, because a buffer freed by one leaves the external
 * count only at a later one: after one, the figure still varied by up to 9 MiB between identical runs; after three,
 * by 0.4.
 */
function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}
