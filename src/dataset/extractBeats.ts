import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { matchBeats } from '../eval/ec57.js';
import { monitorPipeline } from '../pipeline/monitorPipeline.js';
import { recordSource } from '../sources/recordSource.js';
import type { BeatWindow, RPeak } from '../types.js';
import { isBeatCode } from '../wfdb/annotationCodes.js';
import { readAnnotations } from '../wfdb/annotations.js';
import { chooseLeadIndex, readHeader } from '../wfdb/header.js';

/** The classifier's input rate: windows of 180 + 180 samples at 360 Hz. */
const WINDOW_FS_HZ = 360;

/** Where the beats of a record come from: the reference annotations (classification alone) or the project's detector (end to end). */
export type BeatPositions = 'reference' | 'detector';

export interface ExtractBeatsOptions {
  /** Default 'reference'. */
  positions?: BeatPositions;
  /** Lead to window: a name or a signal index. Default `MLII` (the second signal in record 114), else signal 0. */
  lead?: string | number;
  /** Annotator of the reference beats. Default `atr`. */
  annotator?: string;
}

/** The beats of one record, windowed, with the reference annotation each carries. */
export interface RecordBeats {
  record: string;
  lead: string;
  /** The record's own sampling rate, Hz; `beats` are cut at 360 Hz. */
  fsHz: number;
  /** Beat windows at 360 Hz (`sampleIndex` counted at 360 Hz). */
  beats: BeatWindow[];
  /** Each beat's sample in the record's own numbering (the annotation's sample in reference mode). */
  recordSamples: number[];
  /** MIT-BIH symbol of each beat's reference annotation; '' for a detection that matched no reference beat. */
  symbols: string[];
  /** Detector mode: detections with no reference beat within 150 ms (kept, symbol ''). */
  unmatchedDetections: number;
  /** Detector mode: reference beats no detection matched (absent from `beats`). */
  missedReferenceBeats: number;
}

/**
 * Replays one record through the live pipeline (record source -> monitorPipeline: band-pass -> R-peaks -> windowBeats) and labels each beat from the reference annotations, so the training set is cut exactly as the monitor
 * cuts beats. With `positions: 'reference'` the R-peaks are the annotated beats; with `'detector'`, detectRPeaks's
 * output, each detection taking the label of the reference beat bxb's matcher pairs with it (150 ms window).
 *
 * Records at other rates are resampled to 360 Hz by the pipeline (the window is 180 + 180 samples at 360 Hz).
 */
export async function extractBeats(dir: string, record: string, options: ExtractBeatsOptions = {}): Promise<RecordBeats> {
  const { positions = 'reference', lead = 'MLII', annotator = 'atr' } = options;
  const header = await readHeader(join(dir, `${record}.hea`));
  const signalIndex = chooseLeadIndex(header, lead, `extractBeats: record ${record}`);
  const leadName = header.signals[signalIndex]?.description ?? String(signalIndex);
  const annotations = await readAnnotations(join(dir, `${record}.${annotator}`));
  const referenceBeats = annotations.filter((a) => isBeatCode(a.code));

  // Windows are cut at 360 Hz whatever the record's rate; positions map between the two numberings.
  const toWindowRate = (sample: number): number => Math.round((sample * WINDOW_FS_HZ) / header.fsHz);
  const toRecordRate = (sampleIndex: number): number => Math.round((sampleIndex * header.fsHz) / WINDOW_FS_HZ);
  const rPeaks =
    positions === 'reference'
      ? () => from(referenceBeats.map((a) => referencePeak(toWindowRate(a.sample), record, leadName)))
      : undefined; // the monitor's own detector
  const source$ = recordSource(dir, record, { lead: signalIndex, streamId: record });
  const beats = await lastValueFrom(source$.pipe(monitorPipeline({ fsHz: WINDOW_FS_HZ, rPeaks }), toArray()));

  if (positions === 'reference') {
    // windowBeats emits one beat per peak, in order: beat i is reference beat i.
    return {
      record, lead: leadName, fsHz: header.fsHz, beats, recordSamples: referenceBeats.map((a) => a.sample), symbols: referenceBeats.map((a) => a.symbol),
      unmatchedDetections: 0, missedReferenceBeats: 0,
    };
  }
  const recordSamples = beats.map((b) => toRecordRate(b.sampleIndex));
  const detections = recordSamples.map((sample) => ({ sample, code: 1, subtype: 0 }));
  const { pairs } = matchBeats(annotations, detections, { fsHz: header.fsHz, endSample: header.numSamples });
  const symbols = beats.map(() => '');
  let unmatchedDetections = 0;
  let missedReferenceBeats = 0;
  for (const pair of pairs) {
    if (pair.testIndex !== undefined && pair.refIndex !== undefined) symbols[pair.testIndex] = annotations[pair.refIndex].symbol;
    else if (pair.testIndex !== undefined) unmatchedDetections++;
    else if (pair.refIndex !== undefined) missedReferenceBeats++;
  }
  return { record, lead: leadName, fsHz: header.fsHz, beats, recordSamples, symbols, unmatchedDetections, missedReferenceBeats };
}

function referencePeak(sampleIndex: number, record: string, lead: string): RPeak {
  return { streamId: record, sampleIndex, fsHz: WINDOW_FS_HZ, amplitudeMv: Number.NaN, detectedAtSample: sampleIndex, latencySamples: 0, lead, searchBack: false };
}
