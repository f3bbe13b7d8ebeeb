import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDataset, SPLITS_FILE, writeProtocolSplits } from '../../src/dataset/buildDataset.js';
import { splitBeats } from '../../src/dataset/splits.js';
import { MITDB_RECORDS } from '../../src/config.js';
import { existsSync } from 'node:fs';
import { extractBeats } from '../../src/dataset/extractBeats.js';
import { loadDataset, loadUsualBeats } from '../../src/model/dataset.js';
import { bandpass } from '../../src/pipeline/bandpass.js';
import { BEAT_FEATURE_NAMES } from '../../src/pipeline/beatFeatures.js';
import { correlation } from '../../src/pipeline/compareToTemplate.js';
import { recordSource } from '../../src/sources/recordSource.js';
import { isBeatCode } from '../../src/wfdb/annotationCodes.js';
import { readAnnotations } from '../../src/wfdb/annotations.js';
import { MITDB_DIR, skipWithoutMitdb } from '../helpers/mitdb.js';

describe.skipIf(skipWithoutMitdb())('dataset from the stream (MIT-BIH)', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ecg-dataset-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('cuts one window per reference beat, equal to the live band-passed stream around the R-peak', async () => {
    const extracted = await extractBeats(MITDB_DIR, '100');
    const reference = (await readAnnotations(join(MITDB_DIR, '100.atr'))).filter((a) => isBeatCode(a.code));
    expect(extracted.lead).toBe('MLII');
    expect(extracted.beats.map((b) => b.sampleIndex)).toEqual(reference.map((a) => a.sample));
    expect(extracted.symbols).toEqual(reference.map((a) => a.symbol));

    // The live path: the same source and band-pass, subscribed on its own.
    const chunks = await lastValueFrom(recordSource(MITDB_DIR, '100', { lead: 'MLII' }).pipe(bandpass(), toArray()));
    const live = new Float32Array(chunks.reduce((n, c) => n + c.samples.length, 0));
    chunks.forEach((c) => live.set(c.samples, c.startSample));
    for (const beat of [extracted.beats[1], extracted.beats[1000], extracted.beats.at(-2)!]) {
      expect(beat.paddedSamples).toBe(0);
      expect(beat.samples).toEqual(live.subarray(beat.sampleIndex - 180, beat.sampleIndex + 180));
    }
    expect(extracted.beats[0].paddedSamples).toBe(180 - extracted.beats[0].sampleIndex); // first beat at sample 77
  });

  it('uses MLII where it is the second signal (record 114)', async () => {
    const extracted = await extractBeats(MITDB_DIR, '114');
    expect(extracted.lead).toBe('MLII');
  });

  it('end to end: labels detections with the reference beat matched within 150 ms and counts the rest', async () => {
    const extracted = await extractBeats(MITDB_DIR, '105', { positions: 'detector' });
    const labelled = extracted.symbols.filter((s) => s !== '').length;
    expect(labelled + extracted.unmatchedDetections).toBe(extracted.beats.length);
    expect(labelled).toBeGreaterThan(2500); // 105 has 2,572 reference beats and is noisy: some are missed, some extra
    expect(extracted.unmatchedDetections).toBeGreaterThan(0);
  });

  it('stores windows, RR features, labels and the beat table; reuses an up-to-date build and rebuilds a stale one', async () => {
    const dir = join(work, 'db');
    for (const ext of ['hea', 'dat', 'atr']) for (const r of ['100', '232']) await cp(join(MITDB_DIR, `${r}.${ext}`), join(dir, `${r}.${ext}`));
    const out = join(work, 'dataset');
    const first = await buildDataset({ dir, records: ['100', '232'], out });
    expect(first.reused).toBe(false);
    const dataset = await loadDataset(out);
    expect(dataset.count).toBe(first.count);
    expect(dataset.windowLength).toBe(360);
    expect(dataset.featureNames).toEqual([...BEAT_FEATURE_NAMES]);
    // Template features: unknown for the first beats of each record, then finite; record 100's N beats match it.
    const F = dataset.featureCount, qrs = BEAT_FEATURE_NAMES.indexOf('templateQrsCorrelation');
    const qrsCorrelations = dataset.record.flatMap((r, i) => (r === '100' && dataset.symbol[i] === 'N' ? [dataset.features[i * F + qrs]] : []));
    expect(qrsCorrelations.slice(0, 8).every(Number.isNaN)).toBe(true);
    expect(qrsCorrelations.slice(8).every(Number.isFinite)).toBe(true);
    expect(qrsCorrelations.slice(8).sort((a, b) => a - b)[Math.floor((qrsCorrelations.length - 8) / 2)]).toBeGreaterThan(0.98);
    expect(dataset.hash).toBe(first.hash);
    // The stored usual beats are the templates those features were computed against (stream and dataset agree).
    const usual = await loadUsualBeats(dataset);
    for (let i = 0; i < dataset.count; i++) {
      const value = dataset.features[i * F + qrs];
      if (Number.isFinite(value)) expect(correlation(dataset.windows.subarray(i * 360, (i + 1) * 360), usual.subarray(i * 360, (i + 1) * 360), 151, 210), `beat ${i}`).toBeCloseTo(value, 5);
    }
    const counts = (r: string) => dataset.record.filter((x) => x === r).length;
    expect(counts('100')).toBe(2273);
    const aSymbols = dataset.symbol.filter((s, i) => s === 'A' && dataset.record[i] === '232').length;
    expect(aSymbols).toBeGreaterThan(1000); // 232 is mostly APCs
    dataset.symbol.forEach((s, i) => {
      const expected = s === 'A' ? 1 : s === 'N' || s === 'R' ? 0 : s === 'V' ? 2 : s === 'F' ? 3 : s === 'Q' || s === '/' ? 4 : 255;
      if (['A', 'N', 'R', 'V'].includes(s)) expect(dataset.labels[i]).toBe(expected);
    });

    expect((await buildDataset({ dir, records: ['100', '232'], out })).reused).toBe(true);
    // Two records are no protocol's dataset: no splits file.
    expect(existsSync(join(out, SPLITS_FILE))).toBe(false);

    // Stale content: a flipped byte in the stored windows is caught by the content hash.
    const windowsFile = join(out, 'windows.f32');
    const bytes = await readFile(windowsFile);
    bytes[1000] ^= 0xff;
    await writeFile(windowsFile, bytes);
    expect((await buildDataset({ dir, records: ['100', '232'], out })).reused).toBe(false);

    // So is one in the usual beats, which have a hash of their own.
    expect((await buildDataset({ dir, records: ['100', '232'], out })).reused).toBe(true);
    const usualFile = join(out, 'usual-beats.f32');
    const usualBytes = await readFile(usualFile);
    usualBytes[5000] ^= 0xff;
    await writeFile(usualFile, usualBytes);
    expect((await buildDataset({ dir, records: ['100', '232'], out })).reused).toBe(false);

    // Stale inputs: any change to a record file changes the input hash.
    await writeFile(join(dir, '100.hea'), (await readFile(join(dir, '100.hea'), 'utf8')) + '# edited\n');
    const rebuilt = await buildDataset({ dir, records: ['100', '232'], out });
    expect(rebuilt.reused).toBe(false);
    expect(rebuilt.inputHash).not.toBe(first.inputHash);
    expect(rebuilt.hash).toBe(first.hash); // same beats: a comment does not change the content
  });
});

describe('writeProtocolSplits (DIR/splits.json)', () => {
  it("holds each protocol's default split as splitBeats makes it, for all 48 records", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ecg-splits-'));
    try {
      const symbols = ['N', 'N', 'L', 'R', 'A', 'V', 'F', '/', 'Q', 'j', '~'];
      const record = MITDB_RECORDS.flatMap((r) => Array.from({ length: 40 }, () => r));
      const symbol = record.map((r, i) => symbols[(i * 7 + Number(r)) % symbols.length]);
      expect(await writeProtocolSplits(dir, record, symbol)).toBe(true);
      const written = JSON.parse(await readFile(join(dir, SPLITS_FILE), 'utf8')) as Record<string, { train: number[]; validation: number[]; test: number[]; classes: string[]; splitSeed: number }>;
      const beats = record.map((r, i) => ({ record: r, symbol: symbol[i] }));
      for (const protocol of ['inter', 'intra', 'seed'] as const) {
        const split = splitBeats(beats, protocol);
        expect(written[protocol]).toMatchObject({ train: split.train, validation: split.validation, test: split.test, classes: [...split.classes], splitSeed: split.seed });
      }
      // Without DS1 record 101 no protocol applies: nothing written.
      const other = join(dir, 'other');
      expect(await writeProtocolSplits(other, record.filter((r) => r !== '101'), symbol.filter((_, i) => record[i] !== '101'))).toBe(false);
      expect(existsSync(join(other, SPLITS_FILE))).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
