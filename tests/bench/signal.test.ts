import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSignalBench } from '../../src/bench/signal.js';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';
import { MITDB_DIR, skipWithoutMitdb } from '../helpers/mitdb.js';

function fakeIo(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [], err: string[] = [];
  return { out, err, stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, env: { ...process.env, MITDB_DIR } };
}

describe.skipIf(skipWithoutMitdb())('bench signal', () => {
  it('runs file -> band-pass -> R-peaks and reports throughput, memory and latency percentiles', () => {
    const r = runSignalBench({ dir: MITDB_DIR, records: ['100', '101'] });
    expect(r.records).toBe(2);
    expect(r.samples).toBe(2 * 650_000);
    expect(r.peaks).toBeGreaterThan(2273 + 1865 - 50); // 100 and 101 hold 2273 and 1865 beats
    expect(r.samplesPerSecond).toBeGreaterThan(0);
    expect(r.peakRssBytes).toBeGreaterThan(r.rssAfterFirstRecordBytes / 2);
    // The live path keeps no state that grows with the samples it has run: a record later, the heap after a full
    // collection is where it was (RSS is not: it holds garbage V8 has not collected yet).
    expect(r.heapAfterGcFirstRecordBytes).toBeGreaterThan(0);
    expect(Math.abs(r.heapAfterGcLastRecordBytes - r.heapAfterGcFirstRecordBytes)).toBeLessThan(2 * 2 ** 20);
    const l = r.latency;
    expect(l.p50Samples).toBeLessThanOrEqual(l.p90Samples);
    expect(l.p90Samples).toBeLessThanOrEqual(l.p99Samples);
    expect(l.p99Samples).toBeLessThanOrEqual(l.maxSamples);
    expect(l.p50Ms).toBeCloseTo((l.p50Samples / 360) * 1000, 0);
    expect(l.p50Ms).toBeLessThan(300); // target: median latency under 300 ms
  });

  it('`bench signal --records 100 --json FILE` prints a table and writes the JSON', async () => {
    const io = fakeIo();
    const file = join(mkdtempSync(join(tmpdir(), 'bench-')), 'b.json');
    expect(await main(['bench', 'signal', '--records', '100', '--json', file], io)).toBe(0);
    expect(io.out.join('')).toMatch(/samples\/s\s+[\d.]+ M/);
    const json = JSON.parse(readFileSync(file, 'utf8'));
    expect(json).toMatchObject({ records: 1, samples: 650_000, latency: { p50Samples: expect.any(Number) } });
    expect(json.samplesPerSecond).toBeGreaterThan(0);
  });

  it('`bench signal --help` lists the flags with defaults; a bad flag is a usage error', async () => {
    const io = fakeIo();
    expect(await main(['bench', 'signal', '--help'], io)).toBe(0);
    // commander wraps long lines; the options are listed once (no hand-written block repeating them)
    const help = io.out.join('').replace(/\s+/g, ' ');
    expect(help).toMatch(/--records <list> .*\(default: "all"\)/);
    expect(help.match(/--chunk-samples/g)).toHaveLength(1);
    expect(await main(['bench', 'signal', '--chunk-samples', '0'], fakeIo())).toBe(2);
  });
});
