import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { DS1_RECORDS, DS2_RECORDS } from '../../src/dataset/aamiClasses.js';
import { extractBeats } from '../../src/dataset/extractBeats.js';
import { trySetBackend } from '../../src/model/backend.js';
import { syntheticDataset, writeDataset } from '../../src/model/dataset.js';
import { trainModel } from '../../src/model/train.js';
import { correlation } from '../../src/pipeline/compareToTemplate.js';
import { isBeatCode } from '../../src/wfdb/annotationCodes.js';
import { encodeAnnotations, readAnnotations, type Annotation } from '../../src/wfdb/annotations.js';
import { toChecksum16 } from '../../src/wfdb/header.js';
import { readRecord } from '../../src/wfdb/record.js';
import { encodeFrames } from '../../src/wfdb/signalFormats.js';
import { MITDB_DIR, skipWithoutMitdb } from '../helpers/mitdb.js';

/**
 * `eval beats --dir` on a database that is not MIT-BIH as stored: a 250 Hz, format-16 WFDB database made here from the
 * first 5 minutes of MIT-BIH 100 and 119 (as `xform -i mitdb/100 -n db/100 -s 0 1 -t 5:0 -F 250` would make it, with the
 * annotations rescaled as xform rescales them). The classifier's windows are cut at 360 Hz, so every sample position
 * crosses two numberings (database 250 Hz, windows 360 Hz); these tests check that each crossing lands where it should:
 * the reader on the written database, the beat extractor's positions, and the .cls files the CLI writes.
 * The model is a tiny CNN trained for one epoch on synthetic beats: its classes are poor, its positions are what count.
 */

const SOURCE_FS_HZ = 360;
const DB_FS_HZ = 250;
const SECONDS = 300;
const RECORDS = ['100', '119'] as const;
/** Gain of the written database, adu/mV (MIT-BIH's is 200): the writer must carry it for mV values to survive. */
const DB_GAIN = 1000;

interface BuiltRecord {
  /** ADC values at 250 Hz as written, per signal. */
  adc: Int32Array[];
  /** Signal descriptions (lead names), in header order. */
  leads: string[];
  /** All annotations at 250 Hz, as written. */
  annotations: Annotation[];
  /** The beat annotations among them. */
  beats: Annotation[];
}

/** Linear interpolation of `x` (at `fromHz`) at `n` instants of `toHz`. */
function resampleLinear(x: Float32Array, fromHz: number, toHz: number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = (i * fromHz) / toHz;
    const k = Math.floor(t);
    const f = t - k;
    out[i] = k + 1 < x.length ? x[k]! * (1 - f) + x[k + 1]! * f : x[Math.min(k, x.length - 1)]!;
  }
  return out;
}

/** Writes `<name>.hea`, `<name>.dat` (format 16) and `<name>.atr` at 250 Hz from the first 5 minutes of a MIT-BIH record. */
async function writeResampledRecord(db: string, name: string): Promise<BuiltRecord> {
  const rec = await readRecord(MITDB_DIR, name, { toSample: SECONDS * SOURCE_FS_HZ });
  const n = SECONDS * DB_FS_HZ;
  const adc = rec.adc.map((_, i) => {
    const mv = resampleLinear(rec.toMillivolts(i), SOURCE_FS_HZ, DB_FS_HZ, n);
    return Int32Array.from(mv, (v) => Math.round(v * DB_GAIN)); // baseline 0: adc = mV x gain
  });
  const leads = rec.signalIndices.map((i) => rec.header.signals[i]!.description);
  await writeFile(join(db, `${name}.dat`), encodeFrames(16, adc));
  const signalLines = adc.map((a, i) => {
    const checksum = toChecksum16(a.reduce((s, v) => s + v, 0) % 65536 + 65536);
    // file format gain(baseline)/units adcres adczero initval checksum blocksize description
    return `${name}.dat 16 ${DB_GAIN}(0)/mV 16 0 ${a[0]} ${checksum} 0 ${leads[i]}`;
  });
  await writeFile(join(db, `${name}.hea`), [`${name} ${adc.length} ${DB_FS_HZ} ${n}`, ...signalLines, `# first ${SECONDS} s of mitdb/${name}, resampled to ${DB_FS_HZ} Hz`, ''].join('\n'));

  // Annotation times rescaled as xform does: round(sample x 250 / 360); every annotation kept (rhythm, noise, beats).
  const source = (await readAnnotations(join(MITDB_DIR, `${name}.atr`))).filter((a) => a.sample < SECONDS * SOURCE_FS_HZ);
  const annotations = source.map((a) => ({ ...a, sample: Math.round((a.sample * DB_FS_HZ) / SOURCE_FS_HZ) }));
  await writeFile(join(db, `${name}.atr`), encodeAnnotations(annotations));
  return { adc, leads, annotations, beats: annotations.filter((a) => isBeatCode(a.code)) };
}

function fakeIo(cacheHome: string): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out, err,
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    env: { ...process.env, XDG_CACHE_HOME: cacheHome, ECG_TF_BACKEND: 'wasm' },
  };
}

describe.skipIf(skipWithoutMitdb())('eval beats --dir on a 250 Hz format-16 database (MIT-BIH 100 and 119, first 5 min)', () => {
  let work: string;
  let db: string;
  let modelDir: string;
  const built = new Map<string, BuiltRecord>();

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ecg-otherdb-'));
    db = join(work, 'db250');
    await mkdir(db);
    for (const name of RECORDS) built.set(name, await writeResampledRecord(db, name));
    await writeFile(join(db, 'RECORDS'), `${RECORDS.join('\n')}\n`);

    expect(await trySetBackend('wasm')).toBe(true);
    await writeDataset(join(work, 'synthetic'), syntheticDataset({ beatsPerRecord: 8, records: [...DS1_RECORDS, ...DS2_RECORDS], seed: 5 }));
    modelDir = join(work, 'model');
    await trainModel({ model: 'cnn', protocol: 'inter', datasetDir: join(work, 'synthetic'), outDir: modelDir, epochs: 1, batchSize: 16, perClassPerEpoch: 30, maxMinutes: 1e6 });
  }, 120_000);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('(a) readRecord reads the written database back: rate, length, values, first values and checksums checked', async () => {
    for (const name of RECORDS) {
      const rec = await readRecord(db, name); // whole record from 0: throws ECG_ERR_CHECKSUM on a wrong first value or checksum
      const b = built.get(name)!;
      expect(rec.header.fsHz).toBe(DB_FS_HZ);
      expect(rec.header.numSamples).toBe(SECONDS * DB_FS_HZ);
      expect(rec.header.signals.map((s) => [s.format, s.adcGain, s.baseline, s.description])).toEqual(b.leads.map((l) => [16, DB_GAIN, 0, l]));
      expect(rec.header.signals.every((s) => s.hasInitialValue && s.checksum !== undefined)).toBe(true);
      expect(rec.adc).toEqual(b.adc);
      // Millivolts at 250 Hz match the 360 Hz source at the same instants (every 36th source sample = every 25th here).
      const source = await readRecord(MITDB_DIR, name, { toSample: SECONDS * SOURCE_FS_HZ });
      const mv = rec.toMillivolts(0);
      const mvSource = source.toMillivolts(0);
      for (let i = 0; i < mv.length; i += 25) expect(mv[i]).toBeCloseTo(mvSource[(i * SOURCE_FS_HZ) / DB_FS_HZ]!, 3);
      expect((await readAnnotations(join(db, `${name}.atr`))).map((a) => [a.sample, a.symbol, a.aux ?? ''])).toEqual(
        b.annotations.map((a) => [a.sample, a.symbol, a.aux ?? '']),
      );
    }
  });

  it('(a) the checks are live: a header with a wrong checksum is refused', async () => {
    const bad = join(work, 'bad');
    await mkdir(bad, { recursive: true });
    const hea = readFileSync(join(db, '100.hea'), 'utf8').split('\n');
    hea[1] = hea[1]!.replace(/^(\S+ \S+ \S+ \S+ \S+ \S+ )(-?\d+)/, (_, head: string, sum: string) => `${head}${toChecksum16(Number(sum) + 1 + 65536)}`);
    await writeFile(join(bad, '100.hea'), hea.join('\n'));
    await writeFile(join(bad, '100.dat'), readFileSync(join(db, '100.dat')));
    await expect(readRecord(bad, '100')).rejects.toMatchObject({ code: 'ECG_ERR_CHECKSUM' });
  });

  it('(b) extractBeats: one 360-sample window per reference beat, at the 250 Hz annotation samples, shaped as at 360 Hz', async () => {
    const b = built.get('100')!;
    const beats = await extractBeats(db, '100');
    expect(beats.fsHz).toBe(DB_FS_HZ);
    expect(beats.lead).toBe('MLII');
    expect(beats.beats).toHaveLength(b.beats.length);
    expect(beats.recordSamples).toEqual(b.beats.map((a) => a.sample));
    expect(beats.symbols).toEqual(b.beats.map((a) => a.symbol));
    for (const [i, beat] of beats.beats.entries()) {
      expect(beat.samples).toHaveLength(360);
      expect(beat.fsHz).toBe(SOURCE_FS_HZ);
      expect(beat.sampleIndex).toBe(Math.round((b.beats[i]!.sample * SOURCE_FS_HZ) / DB_FS_HZ));
    }
    // The windows are the same beats as cut from the original 360 Hz record: a window cut in the wrong place (a
    // numbering mix-up between 250 and 360 Hz) would not correlate. Away from the 5-minute edge and the filter's start.
    // Rounding to 250 Hz and back moves a third of the beats by one sample at 360 Hz; compare them with that shift.
    const original = await extractBeats(MITDB_DIR, '100');
    const inner = beats.beats.slice(5, -5);
    const correlations = inner.map((beat, k) => {
      const o = original.beats[k + 5]!;
      const shift = beat.sampleIndex - o.sampleIndex; // beat.samples[j] is o's sample j + shift
      expect(Math.abs(shift)).toBeLessThanOrEqual(1);
      const n = 360 - Math.abs(shift);
      return correlation(beat.samples.subarray(Math.max(0, -shift), Math.max(0, -shift) + n), o.samples.subarray(Math.max(0, shift), Math.max(0, shift) + n), 0, n);
    });
    expect(Math.min(...correlations)).toBeGreaterThan(0.99);
  }, 60_000);

  it('(c) `eval beats --dir` at reference positions: every beat scored, QRS Se 100 %, .cls files at the 250 Hz numbering', async () => {
    const cache = join(work, 'cache-ref');
    const json = join(work, 'ref.json');
    const out = join(work, 'cls');
    const io = fakeIo(cache);
    const code = await main(['eval', 'beats', '--model', modelDir, '--dir', db, '--json', json, '--out', out], io);
    expect(code, io.err.join('')).toBe(0);
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    const totalBeats = RECORDS.reduce((n, r) => n + built.get(r)!.beats.length, 0);
    expect(summary.beats).toBe(totalBeats);
    expect(summary.positions).toBe('reference');
    expect(summary.ec57.aami.gross.qrs.sePercent).toBe(100);
    expect(summary.ec57.aami.gross.qrs.ppPercent).toBe(100);
    expect(summary.ec57.aami.gross.qrs.tp).toBe(totalBeats);
    expect(io.out.join('')).toContain(`${totalBeats} test beats`);
    for (const name of RECORDS) {
      const cls = await readAnnotations(join(out, `${name}.cls`));
      expect(cls.map((a) => a.sample)).toEqual(built.get(name)!.beats.map((a) => a.sample));
      for (const a of cls) expect(['N', 'A', 'V', 'F', 'Q']).toContain(a.symbol);
    }
  }, 180_000);

  it('(c) `eval beats --model A,A`: an ensemble of a model with itself scores as the model; models of another protocol are refused', async () => {
    const summaryOf = async (models: string) => {
      const json = join(work, 'ensemble.json');
      const io = fakeIo(join(work, 'cache-ref'));
      expect(await main(['eval', 'beats', '--model', models, '--dir', db, '--json', json], io), io.err.join('')).toBe(0);
      return JSON.parse(readFileSync(json, 'utf8'));
    };
    const one = await summaryOf(modelDir);
    const twice = await summaryOf(`${modelDir},${modelDir}`);
    expect(twice.classification.confusion).toEqual(one.classification.confusion);
    expect(twice.model).toBe('model + model');
    expect(twice.notes.join()).toMatch(/ensemble of 2 models/);
    const intra = join(work, 'model-intra');
    await trainModel({ model: 'mlp', protocol: 'intra', datasetDir: join(work, 'synthetic'), outDir: intra, epochs: 1, batchSize: 16, perClassPerEpoch: 30, maxMinutes: 1e6 });
    const bad = fakeIo(join(work, 'cache-ref'));
    expect(await main(['eval', 'beats', '--model', `${modelDir},${intra}`, '--dir', db], bad)).toBe(2);
    expect(bad.err.join('')).toMatch(/an ensemble's models must share protocol and split: model is inter, .* model-intra intra/);
  }, 180_000);

  it('(c) `eval beats --positions detector --dir`: the detector finds the beats of the 250 Hz records (QRS Se > 95 %)', async () => {
    const json = join(work, 'det.json');
    const io = fakeIo(join(work, 'cache-det'));
    const code = await main(['eval', 'beats', '--model', modelDir, '--positions', 'detector', '--dir', db, '--json', json], io);
    expect(code, io.err.join('')).toBe(0);
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    expect(summary.positions).toBe('detector');
    const qrs = summary.ec57.aami.gross.qrs;
    expect(qrs.sePercent).toBeGreaterThan(95);
    expect(qrs.ppPercent).toBeGreaterThan(95);
    // Each reference beat is found or missed, never both: tp + fn = the annotated beats.
    expect(qrs.tp + qrs.fn).toBe(RECORDS.reduce((n, r) => n + built.get(r)!.beats.length, 0));
  }, 180_000);
});
