import { join } from 'node:path';
import { connectable, from, lastValueFrom, Subject, toArray, type Observable } from 'rxjs';
import { matchBeats } from '../eval/ec57.js';
import { bandpass } from '../pipeline/bandpass.js';
import { detectRPeaks } from '../pipeline/detectRPeaks.js';
import { windowBeats } from '../pipeline/windowBeats.js';
import { recordSource } from '../sources/recordSource.js';
import type { BeatWindow, RPeak, SampleChunk } from '../types.js';
import { isBeatCode } from '../wfdb/annotationCodes.js';
import { readAnnotations, type Annotation } from '../wfdb/annotations.js';
import { readHeader } from '../wfdb/header.js';

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
  fsHz: number;
  beats: BeatWindow[];
  /** MIT-BIH symbol of each beat's reference annotation; '' for a detection that matched no reference beat. */
  symbols: string[];
  /** Detector mode: detections with no reference beat within 150 ms (kept, symbol ''). */
  unmatchedDetections: number;
  /** Detector mode: reference beats no detection matched (absent from `beats`). */
  missedReferenceBeats: number;
}

/**
 * Replays one record through the live pipeline's own operators (record source -> band-pass -> [detectRPeaks] ->
 * windowBeats) and labels each beat from the reference annotations, so the training set is cut exactly as the monitor
 * cuts beats. With `positions: 'reference'` the R-peaks are the annotated beats; with `'detector'`, detectRPeaks's
 * output, each detection taking the label of the reference beat bxb's matcher pairs with it (150 ms window).
 *
 * The record must be at 360 Hz (the window is 180 + 180 samples at 360 Hz); other rates go through `resample` first,
 * which the evaluation of other databases does.
 */
export async function extractBeats(dir: string, record: string, options: ExtractBeatsOptions = {}): Promise<RecordBeats> {
  const { positions = 'reference', lead = 'MLII', annotator = 'atr' } = options;
  const header = await readHeader(join(dir, `${record}.hea`));
  const leadIndex = typeof lead === 'number' ? lead : Math.max(0, header.signals.findIndex((s) => s.description === lead));
  const leadName = header.signals[leadIndex]?.description ?? String(leadIndex);
  const annotations = await readAnnotations(join(dir, `${record}.${annotator}`));
  const referenceBeats = annotations.filter((a) => isBeatCode(a.code));

  // One pass over the record: windowBeats and the detector share the band-passed stream, connected once both listen.
  const filtered$ = connectable(recordSource(dir, record, { lead: leadIndex }).pipe(bandpass()), { connector: () => new Subject<SampleChunk>() });
  const peaks$: Observable<RPeak> =
    positions === 'reference'
      ? from(referenceBeats.map((a) => referencePeak(a, record, header.fsHz, leadName)))
      : filtered$.pipe(detectRPeaks());
  const beatsPromise = lastValueFrom(filtered$.pipe(windowBeats(peaks$), toArray()), { defaultValue: [] as BeatWindow[] });
  filtered$.connect();
  const beats = await beatsPromise;

  if (positions === 'reference') {
    const symbolAt = new Map(referenceBeats.map((a) => [a.sample, a.symbol]));
    return { record, lead: leadName, fsHz: header.fsHz, beats, symbols: beats.map((b) => symbolAt.get(b.sampleIndex) ?? ''), unmatchedDetections: 0, missedReferenceBeats: 0 };
  }
  const detections = beats.map((b) => ({ sample: b.sampleIndex, code: 1, subtype: 0 }));
  const { pairs } = matchBeats(annotations, detections, { fsHz: header.fsHz, endSample: header.numSamples });
  const symbols = beats.map(() => '');
  let unmatchedDetections = 0;
  let missedReferenceBeats = 0;
  for (const pair of pairs) {
    if (pair.testIndex !== undefined && pair.refIndex !== undefined) symbols[pair.testIndex] = annotations[pair.refIndex].symbol;
    else if (pair.testIndex !== undefined) unmatchedDetections++;
    else if (pair.refIndex !== undefined) missedReferenceBeats++;
  }
  return { record, lead: leadName, fsHz: header.fsHz, beats, symbols, unmatchedDetections, missedReferenceBeats };
}

function referencePeak(annotation: Annotation, record: string, fsHz: number, lead: string): RPeak {
  return {
    streamId: record, sampleIndex: annotation.sample, fsHz, amplitudeMv: Number.NaN,
    detectedAtSample: annotation.sample, latencySamples: 0, lead, searchBack: false,
  };
}
