import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { log } from '../log.js';
import { datasetContentHash, loadDataset, loadUsualBeats, writeDataset, type BeatDataset } from '../model/dataset.js';
import { BEAT_FEATURE_COUNT, BEAT_FEATURE_NAMES, beatFeatureVector } from '../pipeline/beatFeatures.js';
import { BEAT_CLASSES } from '../types.js';
import { aamiClassOf } from './aamiClasses.js';
import { extractBeats, type BeatPositions } from './extractBeats.js';
import { missingProtocolRecords, PROTOCOLS, splitBeats } from './splits.js';

/** Bumped whenever the builder's output for the same input changes, so old caches are rebuilt. */
// 3: usual-beats.f32 (each beat's usual beat) beside the windows; the content hash is unchanged.
export const DATASET_BUILDER_VERSION = 3;

export interface BuildDatasetOptions {
  /** WFDB database folder (MITDB_DIR). */
  dir: string;
  /** Records to replay. */
  records: readonly string[];
  /** Output folder. */
  out: string;
  /** Beat positions: reference annotations or the project's detector. Default 'reference'. */
  positions?: BeatPositions;
  /** Lead to window. Default MLII. */
  lead?: string | number;
  /** Rebuild even when the folder holds a dataset of the same inputs. Default false. */
  force?: boolean;
  /** Called after each record, for progress. */
  onRecord?: (done: number, total: number, record: string, beats: number) => void;
}

export interface RecordSummary {
  record: string;
  lead: string;
  beats: number;
  unmatchedDetections: number;
  missedReferenceBeats: number;
}

export interface BuildDatasetResult {
  out: string;
  count: number;
  hash: string;
  inputHash: string;
  reused: boolean;
  records: RecordSummary[];
}

/**
 * Builds the beat dataset by replaying every record through the live pipeline's operators (extractBeats), and writes
 * it in the layout src/model/dataset.ts reads: Float32 windows and RR features, AAMI labels, the per-beat table
 * (record, sample, MIT-BIH symbol) and a manifest. All 48 records are kept with their original symbols; the protocols
 * (src/dataset/splits.ts) choose beats and classes, so one build serves inter, intra and seed.
 *
 * A build is keyed by an input hash (the record files' bytes, the options and DATASET_BUILDER_VERSION): a folder
 * whose manifest has the same input hash and whose content still matches its own content hash is reused; anything
 * else is rebuilt, never trusted.
 */
export async function buildDataset(options: BuildDatasetOptions): Promise<BuildDatasetResult> {
  const { dir, records, out, positions = 'reference', lead = 'MLII', force = false, onRecord } = options;
  const inputHash = await hashInputs(dir, records, { positions, lead, version: DATASET_BUILDER_VERSION, featureNames: BEAT_FEATURE_NAMES });

  if (!force && existsSync(join(out, 'manifest.json'))) {
    try {
      const existing = await loadDataset(out);
      if (existing.manifest.inputHash === inputHash && (await contentHashMatches(out, existing))) {
        log.info({ out, count: existing.count }, 'dataset up to date, reused');
        if (!existsSync(join(out, SPLITS_FILE))) await writeProtocolSplits(out, existing.record, existing.symbol);
        return { out, count: existing.count, hash: existing.hash, inputHash, reused: true, records: existing.manifest.recordSummaries as RecordSummary[] };
      }
      log.info({ out }, 'dataset is stale (inputs or content changed): rebuilding');
    } catch (error) {
      log.warn({ out, err: (error as Error).message }, 'dataset unreadable: rebuilding');
    }
  }

  const windowsParts: Float32Array[] = [];
  const usualParts: Float32Array[] = [];
  const featureParts: Float32Array[] = [];
  const recordOfBeat: string[] = [];
  const sampleOfBeat: number[] = [];
  const symbolOfBeat: string[] = [];
  const summaries: RecordSummary[] = [];
  let windowLength = 0;
  for (const [k, record] of records.entries()) {
    const extracted = await extractBeats(dir, record, { positions, lead });
    const features = new Float32Array(extracted.beats.length * BEAT_FEATURE_COUNT);
    extracted.beats.forEach((beat, i) => {
      windowLength ||= beat.samples.length;
      windowsParts.push(beat.samples);
      usualParts.push(beat.usualBeat!); // monitorPipeline runs compareToTemplate
      beatFeatureVector(beat, features, i * BEAT_FEATURE_COUNT);
      recordOfBeat.push(record);
      sampleOfBeat.push(extracted.recordSamples[i]);
    });
    featureParts.push(features);
    symbolOfBeat.push(...extracted.symbols);
    summaries.push({ record, lead: extracted.lead, beats: extracted.beats.length, unmatchedDetections: extracted.unmatchedDetections, missedReferenceBeats: extracted.missedReferenceBeats });
    onRecord?.(k + 1, records.length, record, extracted.beats.length);
  }

  const labels = Uint8Array.from(symbolOfBeat, (symbol) => {
    const beatClass = aamiClassOf(symbol);
    return beatClass === undefined ? 255 : BEAT_CLASSES.indexOf(beatClass);
  });
  // Write next to the target, then swap, so an interrupted build never leaves a half-written dataset behind.
  const staging = `${out}.building`;
  await rm(staging, { recursive: true, force: true });
  const hash = await writeDataset(staging, {
    windowLength,
    featureNames: [...BEAT_FEATURE_NAMES],
    windows: concat(windowsParts),
    usualBeats: concat(usualParts),
    features: concat(featureParts),
    record: recordOfBeat,
    sample: sampleOfBeat,
    symbol: symbolOfBeat,
    labels,
    extra: {
      builderVersion: DATASET_BUILDER_VERSION, inputHash, positions, lead, source: dir,
      labelMap: 'AAMI, de Chazal 2004 (e, j as N); 255 = not an AAMI-labelled beat', recordSummaries: summaries, createdAt: new Date().toISOString(),
    },
  });
  await writeProtocolSplits(staging, recordOfBeat, symbolOfBeat);
  await rm(out, { recursive: true, force: true });
  await rename(staging, out);
  return { out, count: recordOfBeat.length, hash, inputHash, reused: false, records: summaries };
}

export const SPLITS_FILE = 'splits.json';

/**
 * Writes DIR/splits.json: for each protocol, its default split of the stored beats (beat indices into beats.json for
 * train, validation and test; the seed protocol's resampling repeats indices), with the classes, split seed and
 * description. It is for people and other tools: train and eval beats recompute the split from the records and
 * symbols (splitBeats), so the file is outside the content hash and a build of a few records, which is no protocol's
 * dataset, gets none.
 */
export async function writeProtocolSplits(dir: string, record: readonly string[], symbol: readonly string[]): Promise<boolean> {
  const beats = record.map((r, i) => ({ record: r, symbol: symbol[i] }));
  if (missingProtocolRecords(record).length > 0) {
    log.info({ dir }, `no ${SPLITS_FILE}: the dataset lacks DS1 or DS2 records, so no protocol applies`);
    return false;
  }
  const splits = Object.fromEntries(PROTOCOLS.map((protocol) => {
    const { classes, seed, validationFold, description, train, validation, test } = splitBeats(beats, protocol);
    return [protocol, { description, classes, splitSeed: seed, validationFold, train, validation, test }];
  }));
  await writeFile(join(dir, SPLITS_FILE), JSON.stringify({ note: 'default split of each protocol (src/dataset/splits.ts): indices into beats.json', ...splits }));
  return true;
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** sha256 over the record files the build reads, in order, and the build settings. */
async function hashInputs(dir: string, records: readonly string[], settings: object): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify(settings));
  for (const record of records) {
    for (const ext of ['hea', 'dat', 'atr']) {
      hash.update(`${record}.${ext}\0`);
      hash.update(await readFile(join(dir, `${record}.${ext}`)));
    }
  }
  return `sha256:${hash.digest('hex')}`;
}

/** Recomputes the content hash and the usual beats' hash from the files and compares them with the manifest's. */
async function contentHashMatches(out: string, dataset: BeatDataset): Promise<boolean> {
  const [windows, features, labels, beatsJson] = await Promise.all([
    readFile(join(out, 'windows.f32')), readFile(join(out, 'features.f32')), readFile(join(out, 'labels.u8')), readFile(join(out, 'beats.json'), 'utf8'),
  ]);
  if (datasetContentHash(windows, features, labels, beatsJson) !== dataset.hash) return false;
  try {
    await loadUsualBeats(dataset);
    return true;
  } catch {
    return false;
  }
}
