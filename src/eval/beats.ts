import type { BeatClass } from '../types.js';
import { BEAT_CLASSES } from '../types.js';
import { ConfigError } from '../errors.js';
import {
  aamiClassMap,
  addConfusionMatrices,
  bxbClassMap,
  confusionMatrix,
  matchBeats,
  percent,
  PAIR_LABELS,
  type BeatPair,
  type ClassMap,
  type ConfusionMatrix,
  type MatchableAnnotation,
  type MatchOptions,
  type PairLabel,
} from './ec57.js';
import { qrsCountsFromMatrix, qrsScore, type QrsScore } from './qrs.js';

/**
 * Beat-class scoring, EC57 style: beats are matched one to one as bxb matches them (150 ms window, see
 * ec57.ts), then counted in bxb's confusion matrix (reference N S V F Q, plus `O` for test beats with no
 * reference beat and `X` for those in reference shutdown; test columns likewise), from which come:
 *
 * - QRS Se/+P: all beats regardless of class (bxb QTP, QFN, QFP);
 * - VEB Se = Vv / (Vv + Vn + Vs + Vf + Vq + Vo + Vx);
 *   VEB +P = Vv / (Vv + Nv + Sv + Ov + Xv) — test V on reference F or Q beats is not held against +P;
 *   VEB FPR = (Nv + Sv + Ov + Xv) / (that + every non-V reference or pseudo row's non-V test beats);
 * - SVEB Se = Ss / (Ss + Sn + Sv + Sf + Sq + So + Sx);
 *   SVEB +P = Ss / (Ss + Ns + Vs + Fs + Os + Xs) — test S on reference Q beats is left out.
 *   (These are bxb 10.7.0's formulas. ../shared/reference/cls-perturbed/README.md says test S on reference F
 *   and unmatched test S are also left out; bxb's source counts them. No record there has any, so both
 *   readings give the same figures; we follow bxb's source.)
 *
 * Two class maps: bxb's (escape beats e, j, n are SVEB) and the literature's (de Chazal 2004: e, j are N),
 * see {@link bxbClassMap} and {@link aamiClassMap}. Per-class Se, +P and F1 count unmatched beats against
 * their class (an unmatched reference V beat is a V false negative, an unmatched test V beat a V false
 * positive); accuracy is over matched beats only.
 *
 * References:
 *  - ANSI/AAMI EC57:1998/(R)2008, sections 3.4-3.5 and 4 (VEB and SVEB statistics).
 *  - Moody GB. bxb and sumstats, WFDB Software Package 10.7.0, PhysioNet.
 *  - de Chazal P, O'Dwyer M, Reilly RB. Automatic classification of heartbeats using ECG morphology and
 *    heartbeat interval features. IEEE Trans Biomed Eng 2004;51(7):1196-1206. doi:10.1109/TBME.2004.827359
 */

/** Named class maps: `bxb` (escape beats S) and `aami` (de Chazal 2004; escape beats e, j, n are N). */
export type ClassMapName = 'bxb' | 'aami';

/** The class map of a name, or the function itself. */
export function resolveClassMap(classMap: ClassMapName | ClassMap): ClassMap {
  if (typeof classMap === 'function') return classMap;
  if (classMap === 'bxb') return bxbClassMap;
  if (classMap === 'aami') return aamiClassMap;
  throw new ConfigError('ECG_ERR_BAD_OPTION', `class map "${String(classMap)}" unknown (expected bxb or aami)`);
}

export interface BeatClassOptions extends Omit<MatchOptions, 'classMap'> {
  /** Default `aami` (the literature's map, the headline); `bxb` for bxb's cross-check. */
  classMap?: ClassMapName | ClassMap;
}

/** Sensitivity and positive predictivity of one event type with its counts. */
export interface DetectionStats {
  tp: number;
  fn: number;
  fp: number;
  sePercent: number | undefined;
  ppPercent: number | undefined;
}

/** Per AAMI class: counts, Se, +P, F1 (0..1). */
export interface ClassStats extends DetectionStats {
  f1: number | undefined;
}

export interface BeatClassScore {
  /** bxb's confusion matrix, `matrix[reference][test]`. */
  matrix: ConfusionMatrix;
  /** QRS detection regardless of class. */
  qrs: QrsScore;
  /** Ventricular ectopic beats, with bxb's false positive rate (percent of non-VEB beats called V). */
  veb: DetectionStats & { fprPercent: number | undefined };
  /** Supraventricular ectopic beats. */
  sveb: DetectionStats;
  perClass: Record<BeatClass, ClassStats>;
  /** Matched beats whose test class equals the reference class, percent of matched beats. */
  accuracyPercent: number | undefined;
  /** Mean F1 over N, S, V, F (Q is too rare on MIT-BIH once paced records are out); undefined if any is. */
  macroF1: number | undefined;
  /** RMS RR-interval error, ms, as bxb reports it. */
  rmsRrErrorMs: number | undefined;
  /** The pairs, with indices into the input arrays (who matched whom). */
  pairs: BeatPair[];
}

const sumRow = (m: ConfusionMatrix, r: PairLabel, cols: readonly PairLabel[]): number => cols.reduce((s, c) => s + m[r][c], 0);
const sumCol = (m: ConfusionMatrix, c: PairLabel, rows: readonly PairLabel[]): number => rows.reduce((s, r) => s + m[r][c], 0);

/** VEB statistics from a confusion matrix (bxb VTP, VFN, VFP, VTN). */
export function vebStats(m: ConfusionMatrix): BeatClassScore['veb'] {
  const tp = m.V.V;
  const fn = sumRow(m, 'V', ['N', 'S', 'F', 'Q', 'O', 'X']);
  const fp = m.N.V + m.S.V + m.O.V + m.X.V;
  const nonVRows: PairLabel[] = ['N', 'S', 'F', 'Q', 'O', 'X'];
  const tn = nonVRows.reduce((s, r) => s + sumRow(m, r, ['N', 'S', 'F', 'Q']), 0);
  return { tp, fn, fp, sePercent: percent(tp, tp + fn), ppPercent: percent(tp, tp + fp), fprPercent: percent(fp, tn + fp) };
}

/** SVEB statistics from a confusion matrix (bxb STP, SFN, SFP). */
export function svebStats(m: ConfusionMatrix): DetectionStats {
  const tp = m.S.S;
  const fn = sumRow(m, 'S', ['N', 'V', 'F', 'Q', 'O', 'X']);
  const fp = m.N.S + m.V.S + m.F.S + m.O.S + m.X.S;
  return { tp, fn, fp, sePercent: percent(tp, tp + fn), ppPercent: percent(tp, tp + fp) };
}

/** Per-class Se, +P, F1 with unmatched beats counted against their class. */
export function perClassStats(m: ConfusionMatrix): Record<BeatClass, ClassStats> {
  const out = {} as Record<BeatClass, ClassStats>;
  for (const c of BEAT_CLASSES) {
    const tp = m[c][c];
    const fn = sumRow(m, c, PAIR_LABELS) - tp;
    const fp = sumCol(m, c, PAIR_LABELS) - tp;
    const f1 = 2 * tp + fn + fp > 0 ? (2 * tp) / (2 * tp + fn + fp) : undefined;
    out[c] = { tp, fn, fp, sePercent: percent(tp, tp + fn), ppPercent: percent(tp, tp + fp), f1 };
  }
  return out;
}

/** Everything derived from one confusion matrix. */
export function statsFromMatrix(matrix: ConfusionMatrix): Omit<BeatClassScore, 'pairs' | 'rmsRrErrorMs'> {
  let matched = 0;
  let agree = 0;
  for (const r of BEAT_CLASSES) {
    for (const c of BEAT_CLASSES) matched += matrix[r][c];
    agree += matrix[r][r];
  }
  const perClass = perClassStats(matrix);
  const f1s = (['N', 'S', 'V', 'F'] as const).map((c) => perClass[c].f1);
  return {
    matrix,
    qrs: qrsScore(qrsCountsFromMatrix(matrix)),
    veb: vebStats(matrix),
    sveb: svebStats(matrix),
    perClass,
    accuracyPercent: percent(agree, matched),
    macroF1: f1s.every((f) => f !== undefined) ? f1s.reduce((a, b) => a + (b as number), 0) / f1s.length : undefined,
  };
}

/**
 * Scores test beat classes against reference annotations for one record, as `bxb -L` does (and with the
 * literature's map when asked). Beats are matched within 150 ms; the reference label of a matched test
 * beat is `pairs[i].ref` and its reference annotation `reference[pairs[i].refIndex]`.
 *
 * ## Example
 * ```ts
 * const s = scoreBeatClasses(await readAnnotations('mitdb/100.atr'), await readAnnotations('out/100.cls'),
 *   { fsHz: 360, fromSample: 0, endSample: 650000, classMap: 'aami' });
 * s.veb.sePercent; s.sveb.ppPercent; s.matrix.S.N; // reference S called N
 * ```
 * @param reference reference annotations in file order
 * @param test classifier annotations in file order (beat codes N, A, V, F, Q)
 * @param options rate (Hz), first sample (default 0), end sample, window (0.15 s), class map (default `aami`)
 */
export function scoreBeatClasses(
  reference: readonly MatchableAnnotation[],
  test: readonly MatchableAnnotation[],
  options: BeatClassOptions,
): BeatClassScore {
  const { classMap = 'aami', ...matchOptions } = options;
  const result = matchBeats(reference, test, { ...matchOptions, classMap: resolveClassMap(classMap) });
  return { ...statsFromMatrix(confusionMatrix(result.pairs)), rmsRrErrorMs: result.rmsRrErrorMs, pairs: result.pairs };
}

/** Gross figures (from the summed matrix) and averages of per-record figures (records where defined). */
export interface BeatClassSummary {
  records: number;
  gross: Omit<BeatClassScore, 'pairs' | 'rmsRrErrorMs'>;
  average: {
    qrs: { sePercent: number | undefined; ppPercent: number | undefined };
    veb: { sePercent: number | undefined; ppPercent: number | undefined };
    sveb: { sePercent: number | undefined; ppPercent: number | undefined };
    rmsRrErrorMs: number | undefined;
  };
}

/** Mean of the defined values, undefined when none is (sumstats skips records where a figure is `-`). */
function meanDefined(values: readonly (number | undefined)[]): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length > 0 ? defined.reduce((a, b) => a + b, 0) / defined.length : undefined;
}

/** Gross and average statistics over records, as PhysioNet's sumstats computes them from bxb's line output. */
export function summarizeBeatClasses(scores: readonly Pick<BeatClassScore, 'matrix' | 'rmsRrErrorMs'>[]): BeatClassSummary {
  const perRecord = scores.map((s) => statsFromMatrix(s.matrix));
  const pick = (get: (s: Omit<BeatClassScore, 'pairs' | 'rmsRrErrorMs'>) => DetectionStats | QrsScore) => ({
    sePercent: meanDefined(perRecord.map((s) => get(s).sePercent)),
    ppPercent: meanDefined(perRecord.map((s) => get(s).ppPercent)),
  });
  return {
    records: scores.length,
    gross: statsFromMatrix(addConfusionMatrices(scores.map((s) => s.matrix))),
    average: {
      qrs: pick((s) => s.qrs),
      veb: pick((s) => s.veb),
      sveb: pick((s) => s.sveb),
      rmsRrErrorMs: meanDefined(scores.map((s) => s.rmsRrErrorMs)),
    },
  };
}

/**
 * The 19 count columns of bxb's line format with SVEB statistics (`bxb -L`), in its order:
 * Nn' Sn' Vn' Fn' On' Ns Ss Vs Fs' Os' Nv Sv Vv Fv' Ov' No' So' Vo' Fo'. Primed columns merge rows or
 * columns (e.g. Nn' = Nn + Nf + Nq; Fn' = Fn + Ff + Fq + Qn + Qf + Qq; On' = On + Of + Oq + Xn + Xf + Xq).
 */
export function bxbLineCounts(m: ConfusionMatrix): number[] {
  const nfq: PairLabel[] = ['N', 'F', 'Q'];
  const ox: PairLabel[] = ['O', 'X'];
  const fq: PairLabel[] = ['F', 'Q'];
  const cell = (rows: PairLabel[], cols: PairLabel[]): number => rows.reduce((s, r) => s + sumRow(m, r, cols), 0);
  return [
    cell(['N'], nfq), cell(['S'], nfq), cell(['V'], nfq), cell(fq, nfq), cell(ox, nfq),
    m.N.S, m.S.S, m.V.S, cell(fq, ['S']), cell(ox, ['S']),
    m.N.V, m.S.V, m.V.V, cell(fq, ['V']), cell(ox, ['V']),
    cell(['N'], ox), cell(['S'], ox), cell(['V'], ox), cell(fq, ox),
  ];
}

/** A statistic as bxb's line format prints it: ` %6.2f`, or `      -` when undefined. */
function lineStat(value: number | undefined): string {
  return value === undefined ? '      -' : ` ${value.toFixed(2).padStart(6)}`;
}

/**
 * One record's line exactly as `bxb -L` writes it (counts, Q/V/S Se and +P, RMS RR error), so that a run can
 * be compared with PhysioNet's output character for character.
 */
export function formatBxbLine(record: string, score: Pick<BeatClassScore, 'matrix' | 'rmsRrErrorMs'>): string {
  const c = bxbLineCounts(score.matrix);
  const w = [5, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 3, 3, 3, 3, 3, 3];
  const stats = statsFromMatrix(score.matrix);
  return (
    record.padStart(4) +
    c.map((n, i) => ` ${String(n).padStart(w[i])}`).join('') +
    [stats.qrs.sePercent, stats.qrs.ppPercent, stats.veb.sePercent, stats.veb.ppPercent, stats.sveb.sePercent, stats.sveb.ppPercent]
      .map(lineStat)
      .join('') +
    (score.rmsRrErrorMs === undefined ? '     -' : ` ${score.rmsRrErrorMs.toFixed(2).padStart(6)}`)
  );
}
