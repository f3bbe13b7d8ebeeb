import {
  BEAT_LABELS_FOR_QRS,
  confusionMatrix,
  matchBeats,
  percent,
  type ConfusionMatrix,
  type MatchableAnnotation,
  type MatchOptions,
} from './ec57.js';

/**
 * QRS detection scoring, EC57 style: sensitivity and positive predictivity of beat detection, whatever the
 * beat classes. A true positive is a reference beat matched to a test beat within the window (150 ms), a
 * false negative a reference beat left unmatched, a false positive a test beat left unmatched (outside
 * reference VF episodes, which are not scored). These are bxb's QTP, QFN and QFP.
 *
 * References: ANSI/AAMI EC57:1998/(R)2008, section 4 (QRS detection); PhysioNet bxb and sumstats
 * (WFDB 10.7.0): gross statistics sum the counts over records, averages are means of per-record figures.
 */

/** Counts of one record (or summed over records). */
export interface QrsCounts {
  /** Reference beats matched by a test beat. */
  tp: number;
  /** Reference beats with no test beat (bxb QFN, shutdown included). */
  fn: number;
  /** Test beats with no reference beat (bxb QFP). */
  fp: number;
}

/** Counts and the two figures, percent (undefined when a denominator is 0, printed `-` like bxb). */
export interface QrsScore extends QrsCounts {
  /** Sensitivity, 100 TP / (TP + FN). */
  sePercent: number | undefined;
  /** Positive predictivity, 100 TP / (TP + FP). */
  ppPercent: number | undefined;
}

/** A record's score with what it was computed on. */
export interface QrsRecordScore extends QrsScore {
  record: string;
  fsHz: number;
  fromSample: number;
  endSample: number | undefined;
  matchWindowSamples: number;
}

/** Gross (counts summed, then figures) and average (mean of per-record figures) over records. */
export interface QrsSummary {
  records: number;
  gross: QrsScore;
  average: { sePercent: number | undefined; ppPercent: number | undefined };
}

/** QRS counts from bxb's confusion matrix: the N S V F Q block is TP, their O/X columns FN, O/X rows FP. */
export function qrsCountsFromMatrix(matrix: ConfusionMatrix): QrsCounts {
  let tp = 0;
  let fn = 0;
  let fp = 0;
  for (const r of BEAT_LABELS_FOR_QRS) {
    for (const c of BEAT_LABELS_FOR_QRS) tp += matrix[r][c];
    fn += matrix[r].O + matrix[r].X;
    fp += matrix.O[r] + matrix.X[r];
  }
  return { tp, fn, fp };
}

/** Adds Se and +P to counts. */
export function qrsScore(counts: QrsCounts): QrsScore {
  return {
    ...counts,
    sePercent: percent(counts.tp, counts.tp + counts.fn),
    ppPercent: percent(counts.tp, counts.tp + counts.fp),
  };
}

/**
 * Scores test beat annotations against reference annotations of one record, as `bxb -f FROM -w 0.15` does.
 *
 * ## Example
 * ```ts
 * const ref = await readAnnotations('mitdb/100.atr');
 * const det = await readAnnotations('out/100.qrs');
 * scoreQrs(ref, det, { fsHz: 360, fromSample: 0, endSample: 650000 }); // { tp, fn, fp, sePercent, ppPercent }
 * ```
 * @param reference reference annotations in file order (beats, rhythm, noise, VF marks)
 * @param test detector annotations in file order
 * @param options rate (Hz), first sample (default 0), end sample (default: end of the reference), window (0.15 s)
 */
export function scoreQrs(
  reference: readonly MatchableAnnotation[],
  test: readonly MatchableAnnotation[],
  options: MatchOptions,
): QrsScore & { matchWindowSamples: number } {
  const result = matchBeats(reference, test, options);
  return { ...qrsScore(qrsCountsFromMatrix(confusionMatrix(result.pairs))), matchWindowSamples: result.matchWindowSamples };
}

/** Gross and average Se/+P over records, as PhysioNet's sumstats reports them. */
export function summarizeQrs(scores: readonly QrsCounts[]): QrsSummary {
  const sum = { tp: 0, fn: 0, fp: 0 };
  for (const s of scores) {
    sum.tp += s.tp;
    sum.fn += s.fn;
    sum.fp += s.fp;
  }
  const mean = (values: (number | undefined)[]): number | undefined => {
    const defined = values.filter((v): v is number => v !== undefined);
    return defined.length > 0 ? defined.reduce((a, b) => a + b, 0) / defined.length : undefined;
  };
  const perRecord = scores.map(qrsScore);
  return {
    records: scores.length,
    gross: qrsScore(sum),
    average: { sePercent: mean(perRecord.map((s) => s.sePercent)), ppPercent: mean(perRecord.map((s) => s.ppPercent)) },
  };
}
