import { readdir, readFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError, RecordFormatError } from '../errors.js';
import type { RPeak } from '../types.js';
import { readAnnotations, writeAnnotations, type Annotation } from '../wfdb/annotations.js';
import { ANN, codeToSymbol } from '../wfdb/annotationCodes.js';
import { writeFileAtomic } from '../wfdb/files.js';
import { readHeader, type RecordHeader } from '../wfdb/header.js';
import { secondsToSamples } from './ec57.js';
import { scoreQrs, summarizeQrs, type QrsRecordScore, type QrsSummary } from './qrs.js';

/**
 * EC57 QRS evaluation over a WFDB database: for each record, the reference beat annotations are compared with
 * detections — read from existing annotation files, or produced by a detector run on the record — with bxb's
 * matching (see ec57.ts), and the results are summed as sumstats does. Works for any WFDB database with beat
 * annotations and any sampling rate (the 150 ms window becomes samples at the record's rate).
 *
 * The detections of a detector run can be written as WFDB annotation files `OUT/<record>.qrs`, so that
 * PhysioNet's own tools read them (`rdann -r REC -a qrs`, `bxb -r REC -a atr qrs`), plus `OUT/summary.json`.
 */

/** What the evaluation needs from a detector: the R-peak sample and whether it came from search-back. */
export type DetectedBeat = Pick<RPeak, 'sampleIndex' | 'searchBack' | 'lead'>;

/** Runs a detector on one record; the CLI passes the project's signal pipeline. */
export type DetectRecord = (request: {
  dir: string;
  record: string;
  header: RecordHeader;
  lead?: number | string;
  leadFallback?: boolean;
}) => Promise<readonly DetectedBeat[]>;

export interface EvaluateQrsOptions {
  /** Database folder (holds `RECORDS`, `.hea`, `.dat` and the reference annotation files). */
  dir: string;
  /** Records to score, or `all`: the `RECORDS` file of `dir`, else every header with a reference annotation file. */
  records?: 'all' | readonly string[];
  /** Reference annotator (file extension). Default `atr`. */
  referenceAnnotator?: string;
  /** Start of the comparison, s. Default 0 (whole record); 300 is EC57's 5-minute start. */
  fromS?: number;
  /** Match window, s. Default 0.15 (EC57). */
  matchWindowS?: number;
  /** Score existing files `detections.dir/<record>.<detections.annotator>` instead of running a detector. */
  detections?: { dir: string; annotator: string };
  /** The detector, required when `detections` is not given. */
  detect?: DetectRecord;
  /** Lead for the detector: signal number (0-based) or name. Default: the detector's (first signal). */
  lead?: number | string;
  /** Let the detector fall back to the record's first other signal while the lead is flat or missing. Default false. */
  leadFallback?: boolean;
  /** Folder for `<record>.qrs` detection files (detector runs only) and `summary.json`. */
  outDir?: string;
  /** Annotator name of the written detection files. Default `qrs`. */
  outAnnotator?: string;
  /** Called after each record (progress, streaming output). */
  onRecord?: (score: QrsRecordScore) => void;
}

/** The result: per-record scores, gross and average, and how they were obtained. */
export interface QrsEvaluation extends QrsSummary {
  dir: string;
  referenceAnnotator: string;
  /** `annotator NAME in DIR` or `detector`. */
  test: { kind: 'files'; dir: string; annotator: string } | { kind: 'detector'; lead?: number | string; leadFallback: boolean };
  fromS: number;
  matchWindowS: number;
  perRecord: QrsRecordScore[];
}

/**
 * The record names of a database: its `RECORDS` file (one per line), else every `NAME.hea` that has a
 * reference annotation file `NAME.<referenceAnnotator>`, sorted.
 * @throws RecordFormatError ECG_ERR_FILE_NOT_FOUND when the folder holds neither.
 */
export async function listRecords(dir: string, referenceAnnotator = 'atr'): Promise<string[]> {
  const recordsFile = join(dir, 'RECORDS');
  if (existsSync(recordsFile)) {
    const names = (await readFile(recordsFile, 'utf8')).split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    if (names.length > 0) return names;
  }
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    throw new RecordFormatError('ECG_ERR_FILE_NOT_FOUND', 'database folder not found', { file: dir }, { cause: error });
  }
  const present = new Set(entries);
  const names = entries
    .filter((f) => f.endsWith('.hea'))
    .map((f) => f.slice(0, -'.hea'.length))
    .filter((r) => present.has(`${r}.${referenceAnnotator}`))
    .sort();
  if (names.length === 0) {
    throw new RecordFormatError('ECG_ERR_FILE_NOT_FOUND', `no RECORDS file and no record with a .${referenceAnnotator} file`, { file: dir });
  }
  return names;
}

/**
 * Detections as WFDB annotations: one beat per R-peak at its sample, code N — or Q for a beat found only by
 * search-back (the detector lowered its threshold to find it, so it vouches for a beat but not for its form) —
 * with `chan` = the signal number of the lead the peak was found on (0 when the name is not in the header).
 */
export function detectionsToAnnotations(beats: readonly DetectedBeat[], header?: RecordHeader): Annotation[] {
  const chanOf = (lead: string): number => {
    const i = header?.signals.findIndex((s) => s.description === lead) ?? -1;
    return i >= 0 ? i : 0;
  };
  return [...beats]
    .sort((a, b) => a.sampleIndex - b.sampleIndex)
    .map((b) => {
      const code = b.searchBack ? ANN.UNKNOWN : ANN.NORMAL;
      return { sample: b.sampleIndex, code, symbol: codeToSymbol(code), subtype: 0, chan: chanOf(b.lead), num: 0 };
    });
}

/**
 * Scores a database record by record.
 *
 * ## Example
 * ```ts
 * const result = await evaluateQrs({ dir: mitdbDir(), detections: { dir: '../shared/reference/gqrs', annotator: 'qrs' } });
 * result.gross.sePercent; // 99.728 (gqrs, whole records)
 * ```
 * @param options database, records, start (s), window (s), detections or detector, output folder
 * @throws ConfigError ECG_ERR_BAD_OPTION on bad options; RecordFormatError for missing or malformed files
 */
export async function evaluateQrs(options: EvaluateQrsOptions): Promise<QrsEvaluation> {
  const {
    dir,
    records = 'all',
    referenceAnnotator = 'atr',
    fromS = 0,
    matchWindowS = 0.15,
    detections,
    detect,
    lead,
    leadFallback = false,
    outDir,
    outAnnotator = 'qrs',
    onRecord,
  } = options;
  if (!(fromS >= 0)) throw new ConfigError('ECG_ERR_BAD_OPTION', `from=${fromS} s must be >= 0`);
  if (!(matchWindowS > 0)) throw new ConfigError('ECG_ERR_BAD_OPTION', `match window ${matchWindowS} s must be > 0`);
  if (!detections && !detect) throw new ConfigError('ECG_ERR_BAD_OPTION', 'evaluateQrs: give detections files or a detector');
  const names = records === 'all' ? await listRecords(dir, referenceAnnotator) : [...records];
  if (names.length === 0) throw new ConfigError('ECG_ERR_BAD_OPTION', 'no records to evaluate');
  if (outDir !== undefined) await mkdir(outDir, { recursive: true });

  const perRecord: QrsRecordScore[] = [];
  for (const record of names) {
    const header = await readHeader(join(dir, `${record}.hea`));
    const reference = await readAnnotations(join(dir, `${record}.${referenceAnnotator}`));
    let test: readonly Annotation[];
    if (detections) {
      test = await readAnnotations(join(detections.dir, `${record}.${detections.annotator}`));
    } else {
      test = detectionsToAnnotations(await detect!({ dir, record, header, lead, leadFallback }), header);
      if (outDir !== undefined) {
        // Same relative path as the record (RECORDS may name records in subfolders), so --detections OUT reads them.
        const file = join(outDir, `${record}.${outAnnotator}`);
        await mkdir(dirname(file), { recursive: true });
        await writeAnnotations(file, test);
      }
    }
    const fromSample = secondsToSamples(fromS, header.fsHz);
    const endSample = header.numSamples !== undefined && header.numSamples > 0 ? header.numSamples : undefined;
    if (endSample !== undefined && fromSample > endSample) {
      throw new ConfigError('ECG_ERR_BAD_OPTION', `${record}: --from ${fromS} s is past the end of the record (${endSample} samples)`);
    }
    const score = scoreQrs(reference, test, { fsHz: header.fsHz, fromSample, endSample, matchWindowS });
    const recordScore: QrsRecordScore = { record, fsHz: header.fsHz, fromSample, endSample, ...score };
    perRecord.push(recordScore);
    onRecord?.(recordScore);
  }

  const result: QrsEvaluation = {
    dir,
    referenceAnnotator,
    test: detections ? { kind: 'files', ...detections } : { kind: 'detector', lead, leadFallback },
    fromS,
    matchWindowS,
    perRecord,
    ...summarizeQrs(perRecord),
  };
  if (outDir !== undefined) await writeFileAtomic(join(outDir, 'summary.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
