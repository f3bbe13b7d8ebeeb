import type { Command } from 'commander';
import { runSignalBench, type SignalBenchResult } from '../../bench/signal.js';
import { MITDB_RECORDS, mitdbDir } from '../../config.js';
import { log } from '../../log.js';
import { helpFile, newCommand, positiveInteger, recordsOption, type CliIo, type RecordsOption } from '../io.js';
import type { BenchSuite } from './bench.js';

export interface SignalBenchFlags {
  dir?: string;
  records: RecordsOption;
  chunkSamples?: number;
  leadFallback?: boolean;
}

/** The records of a bench's `--records`: `all` is the 48 MIT-BIH records. */
export function benchRecords(records: RecordsOption): readonly string[] {
  return records === 'all' ? MITDB_RECORDS : records;
}

/** The signal benchmark as a bench suite: flags in, table and JSON out. */
export const signalBenchSuite: BenchSuite<SignalBenchFlags, SignalBenchResult> = {
  name: 'signal',
  description: 'file -> band-pass -> R-peaks throughput, memory and detector latency over MIT-BIH',
  addOptions: (cmd) =>
    cmd
      .option('--dir <path>', 'WFDB records folder (default: MITDB_DIR, else ~/.cache/ecg-monitor/mitdb)')
      .option('--records <list>', 'records to run, comma-separated, or "all" (the 48 MIT-BIH records)', recordsOption, 'all')
      .option('--chunk-samples <n>', "samples per chunk (default: one second at the record's rate, as the live stream)", positiveInteger)
      .option('--lead-fallback', 'also detect on the second signal and fill in beats where the first is flat', false),
  run: (flags, io) => {
    const dir = flags.dir ?? mitdbDir(io.env);
    const result = runSignalBench({
      dir,
      records: benchRecords(flags.records),
      chunkSamples: flags.chunkSamples,
      leadFallback: flags.leadFallback ?? false,
      onRecord: (record, samples, peaks) => log.debug({ record, samples, peaks }, 'bench signal: record done'),
    });
    return Promise.resolve(result);
  },
  table: (r) => {
    const mb = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
    const rows: [string, string][] = [
      ['records', String(r.records)],
      ['samples', String(r.samples)],
      ['R-peaks', String(r.peaks)],
      ['seconds', r.seconds.toFixed(3)],
      ['samples/s', `${(r.samplesPerSecond / 1e6).toFixed(2)} M (wall clock)`],
      ['CPU seconds', r.cpuSeconds.toFixed(3)],
      ['samples/CPU-s', `${(r.samplesPerCpuSecond / 1e6).toFixed(2)} M (per core)`],
      ['peak RSS', mb(r.peakRssBytes)],
      ['RSS at start / after first / after last record', `${mb(r.rssAtStartBytes)} / ${mb(r.rssAfterFirstRecordBytes)} / ${mb(r.rssAfterLastRecordBytes)}`],
      ['heap + buffers after GC, after first / last record', `${mb(r.heapAfterGcFirstRecordBytes)} / ${mb(r.heapAfterGcLastRecordBytes)}`],
      ['latency p50', `${r.latency.p50Samples} samples (${r.latency.p50Ms} ms)`],
      ['latency p90', `${r.latency.p90Samples} samples (${r.latency.p90Ms} ms)`],
      ['latency p99', `${r.latency.p99Samples} samples (${r.latency.p99Ms} ms)`],
      ['latency max', `${r.latency.maxSamples} samples (${r.latency.maxMs} ms)`],
    ];
    const w = Math.max(...rows.map(([k]) => k.length));
    return `bench signal (file -> band-pass -> R-peaks${r.leadFallback ? ', lead fallback' : ''}, one process, ${r.node})\n${rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n')}\n`;
  },
};

/** `ecg-monitor bench signal [--dir] [--records] [--chunk-samples] [--json FILE]`. */
export function benchSignalCommand(io: CliIo, addJson: (cmd: Command) => Command, write: (result: unknown, table: string, json?: string) => Promise<void>): Command {
  const cmd = signalBenchSuite.addOptions(newCommand('signal', io).description(signalBenchSuite.description));
  return addJson(cmd)
    .addHelpText('after', helpFile('bench-signal'))
    .action(async (flags: SignalBenchFlags & { json?: string }) => {
      const result = await signalBenchSuite.run(flags, io);
      await write(result, signalBenchSuite.table(result), flags.json);
    });
}
