import { ConfigError } from '../errors.js';

/**
 * Beat-by-beat matching of a test annotation stream against a reference, exactly as PhysioNet's `bxb` does it
 * (WFDB software 10.7.0, app/bxb.c, revision of 27 April 2020), which implements ANSI/AAMI EC38 and EC57.
 *
 * Both annotation streams are walked in file order. Each stream keeps its *current* and *next* beat; at every
 * step the earlier of the two current beats is either paired with the other stream's current beat (when they
 * lie within the match window and no neighbour is a better partner) or paired with a pseudo-beat (`O`: no
 * partner; `X`: the other stream was in shutdown). Non-beat annotations are skipped, except:
 *  - ventricular flutter/fibrillation episodes, `[` (VFON) to `]` (VFOFF): every annotation inside is skipped,
 *    and a test beat falling in a *reference* VF episode is not counted at all;
 *  - shutdown: a NOISE annotation (`~`) whose subtype has bits 4 and 5 set (both signals unreadable) opens a
 *    shutdown that the next NOISE annotation closes; beats missed there are counted apart (column/row X).
 *
 * Times are integer sample numbers at the record's rate. The comparison starts at `fromSample` (bxb `-f`;
 * bxb's default is 5 minutes, EC57's learning period) and runs until both streams pass `endSample` (bxb: the
 * record length from the header, or the end of the reference file when the length is unknown).
 *
 * This is a clean re-implementation, not a translation: names are ours, the two per-stream readers (bxb's
 * getref/gettest) are one class with a role, and every quirk that changes a count is kept and commented,
 * because the test suite holds this module to bxb's counts record by record.
 *
 * References:
 *  - ANSI/AAMI EC57:1998/(R)2008, Testing and reporting performance results of cardiac rhythm and ST segment
 *    measurement algorithms. Association for the Advancement of Medical Instrumentation.
 *  - Moody GB. bxb: ANSI/AAMI-standard beat-by-beat annotation comparator. WFDB Software Package 10.7.0,
 *    PhysioNet. https://physionet.org/physiotools/wag/bxb-1.htm (source: github.com/bemoody/wfdb, app/bxb.c).
 */

/** The part of a decoded WFDB annotation the matcher reads (src/wfdb/annotations.ts `Annotation` fits). */
export interface MatchableAnnotation {
  /** Sample number (time) of the annotation. */
  sample: number;
  /** MIT annotation code (1 = N, 5 = V, 14 = NOISE, 32 = `[`, ...). */
  code: number;
  /** Annotation subtype; for NOISE, bits 4 and 5 set mean shutdown. */
  subtype: number;
}

/** An AAMI beat class as bxb labels beats, or `O` for a beat annotation that no AAMI class takes. */
export type AamiLabel = 'N' | 'S' | 'V' | 'F' | 'Q' | 'O';

/** A side of a pair: an AAMI label, or a pseudo-beat — `O` no partner, `X` partner stream in shutdown. */
export type PairLabel = 'N' | 'S' | 'V' | 'F' | 'Q' | 'O' | 'X';

/** Maps an MIT annotation code to an AAMI label. Called only for beat codes (see {@link isBeatCodeBxb}). */
export type ClassMap = (code: number) => AamiLabel;

/**
 * MIT annotation codes used here (WFDB `ecgcodes.h`). Format facts live in this table, not as bare numbers.
 * Symbol in the comment is what rdann prints.
 */
export const MIT_CODE = {
  NORMAL: 1, // N
  LBBB: 2, // L
  RBBB: 3, // R
  ABERR: 4, // a  aberrated atrial premature beat
  PVC: 5, // V
  FUSION: 6, // F  fusion of ventricular and normal
  NPC: 7, // J  nodal (junctional) premature
  APC: 8, // A  atrial premature
  SVPB: 9, // S  supraventricular premature or ectopic
  VESC: 10, // E  ventricular escape
  NESC: 11, // j  nodal (junctional) escape
  PACE: 12, // /  paced
  UNKNOWN: 13, // Q  unclassifiable
  NOISE: 14, // ~  signal quality change
  BBB: 25, // B  bundle branch block beat (unspecified)
  LEARN: 30, // ?  learning
  FLWAV: 31, // !  ventricular flutter wave
  VFON: 32, // [  start of ventricular flutter/fibrillation
  VFOFF: 33, // ]  end of ventricular flutter/fibrillation
  AESC: 34, // e  atrial escape
  SVESC: 35, // n  supraventricular escape
  PFUS: 38, // f  fusion of paced and normal
  RONT: 41, // r  R-on-T premature ventricular contraction
} as const;

/** Largest legal annotation code (WFDB ACMAX). */
const MAX_CODE = 49;

/**
 * Which codes bxb takes as beats: WFDB's default `isqrs` table (ecgmap.h). Note that FLWAV (`!`) is a "QRS"
 * there although no AAMI class takes it; bxb then labels it `O` (see {@link bxbClassMap}).
 */
const BXB_BEAT_CODES: ReadonlySet<number> = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 25, 30, 31, 34, 35, 38, 41]);

/** True when bxb treats annotation `code` as a beat (WFDB `isqrs`). */
export function isBeatCodeBxb(code: number): boolean {
  return code > 0 && code <= MAX_CODE && BXB_BEAT_CODES.has(code);
}

/**
 * bxb's own class map, as used with its SVEB reports (`-L`, `-C`, `-S`): every supraventricular ectopic *and*
 * escape beat (A a J S e j n) is S. With bxb's VEB-only reports (`-l`, `-c`, `-s`) these are N instead, which
 * changes no QRS count.
 */
export function bxbClassMap(code: number): AamiLabel {
  switch (code) {
    case MIT_CODE.NORMAL:
    case MIT_CODE.LBBB:
    case MIT_CODE.RBBB:
    case MIT_CODE.BBB:
      return 'N';
    case MIT_CODE.NPC:
    case MIT_CODE.APC:
    case MIT_CODE.SVPB:
    case MIT_CODE.ABERR:
    case MIT_CODE.NESC:
    case MIT_CODE.AESC:
    case MIT_CODE.SVESC:
      return 'S';
    case MIT_CODE.PVC:
    case MIT_CODE.RONT:
    case MIT_CODE.VESC:
      return 'V';
    case MIT_CODE.FUSION:
      return 'F';
    // Paced beats, paced fusions and LEARN labels are scored as unknown beats (bxb; AAMI excludes paced records).
    case MIT_CODE.UNKNOWN:
    case MIT_CODE.PACE:
    case MIT_CODE.PFUS:
    case MIT_CODE.LEARN:
      return 'Q';
    default:
      return 'O';
  }
}

/**
 * The literature's AAMI map (de Chazal et al. 2004, after ANSI/AAMI EC57): N = N L R e j, S = A a J S,
 * V = V E, F = F, Q = / f Q. Escape beats e and j are N here, unlike bxb.
 *
 * Choices for codes the paper does not list (none occurs in the 48 MIT-BIH records, so no figure depends on
 * them): `n` (supraventricular escape) is N, treated like the other escape beats e and j, since the map's
 * rationale is that escape beats are not premature; `B` (BBB) is N, `r` (R-on-T) is V, LEARN is Q, as in bxb.
 *
 * References: de Chazal P, O'Dwyer M, Reilly RB. Automatic classification of heartbeats using ECG
 * morphology and heartbeat interval features. IEEE Trans Biomed Eng 2004;51(7):1196-1206.
 * doi:10.1109/TBME.2004.827359
 */
export function aamiClassMap(code: number): AamiLabel {
  switch (code) {
    case MIT_CODE.NESC:
    case MIT_CODE.AESC:
    case MIT_CODE.SVESC:
      return 'N';
    default:
      return bxbClassMap(code);
  }
}

export interface MatchOptions {
  /** Sampling frequency of the record, Hz; converts the window (and the RR error) from seconds. */
  fsHz: number;
  /** First sample of the comparison (bxb `-f`). Default 0: the whole record. EC57 uses 5 minutes. */
  fromSample?: number;
  /**
   * Last sample of the comparison (bxb: the record length, `strtim("e")`). Undefined: the comparison ends
   * with the reference annotations, as bxb does when the header gives no length.
   */
  endSample?: number;
  /** Match window, s. Default 0.15 (EC57). Converted to samples as WFDB's strtim does: floor(s * fsHz + 0.5). */
  matchWindowS?: number;
  /** Class map applied to both streams. Default {@link bxbClassMap}. */
  classMap?: ClassMap;
}

/** One counted pair: a reference beat or pseudo-beat against a test beat or pseudo-beat. */
export interface BeatPair {
  ref: PairLabel;
  test: PairLabel;
  /** Index in the reference array of the paired beat; undefined when `ref` is a pseudo-beat. */
  refIndex?: number;
  /** Index in the test array of the paired beat; undefined when `test` is a pseudo-beat. */
  testIndex?: number;
}

export interface MatchResult {
  /** The pairs in the order bxb counts them. Test beats inside reference VF episodes appear in none. */
  pairs: BeatPair[];
  /** Match window used, samples. */
  matchWindowSamples: number;
  /** Sum of squared RR-interval differences (samples^2) and how many, as bxb tallies its "RMS RR error". */
  rrErrorSumSquares: number;
  rrErrorCount: number;
  /** RMS RR-interval error, ms (bxb's "RR err" column); undefined when no RR pair was tallied. */
  rmsRrErrorMs?: number;
  /** Test annotator's total shutdown time, samples (bxb's "Total shutdown time", before rounding to s). */
  testShutdownSamples: number;
}

/** Stands for "no more annotations" (bxb's huge_time); finite so that differences stay finite. */
const END_OF_FILE = 2 ** 52;

/** Label of bxb's pseudo-annotation at time 0 before the first read; pair() ignores it. */
type CursorLabel = PairLabel | 'none' | 'vf';

/**
 * Reads one annotation stream the way bxb's getref()/gettest() do: it holds the current and next beat, the
 * last two VF episodes and shutdown intervals, and the current RR interval.
 */
class BeatCursor {
  /** Current and next beat: sample and label. */
  sample = 0;
  label: CursorLabel = 'none';
  index: number | undefined = undefined;
  nextSample = 0;
  nextLabel: CursorLabel = 'none';
  nextIndex: number | undefined = undefined;
  /** RR interval ending at the current beat, samples; 0 when not valid (first beat, VF or shutdown between). */
  rrSamples = 0;
  /** Last two shutdown intervals and VF episodes; -1 = none. */
  shutdownOn = -1;
  shutdownOff = -1;
  previousShutdownOn = -1;
  previousShutdownOff = -1;
  vfOn = -1;
  vfOff = -1;
  previousVfOn = -1;
  previousVfOff = -1;
  /** Test stream only: accumulated shutdown duration, samples. */
  shutdownSamples = 0;
  private position = 0;

  constructor(
    private readonly annotations: readonly MatchableAnnotation[],
    private readonly role: 'reference' | 'test',
    private readonly classMap: ClassMap,
    private readonly matchWindowSamples: number,
    private readonly endSample: number | undefined,
  ) {}

  /** Moves next -> current and reads the following beat (bxb getref/gettest). */
  advance(): void {
    const previousSample = this.sample;
    this.sample = this.nextSample;
    this.label = this.nextLabel;
    this.index = this.nextIndex;
    // The RR interval is invalid for the first beat (bxb tests the previous time against 0), after the last,
    // and when a VF episode or a shutdown starts between the two beats.
    const between = (x: number): boolean => previousSample <= x && x < this.sample;
    this.rrSamples =
      previousSample === 0 ||
      this.sample === END_OF_FILE ||
      between(this.vfOn) ||
      between(this.shutdownOn) ||
      between(this.previousVfOn) ||
      between(this.previousShutdownOn)
        ? 0
        : this.sample - previousSample;

    while (this.position < this.annotations.length) {
      const ann = this.annotations[this.position++];
      if (isBeatCodeBxb(ann.code)) {
        this.nextSample = ann.sample;
        this.nextLabel = this.classMap(ann.code);
        this.nextIndex = this.position - 1;
        return;
      }
      if (ann.code === MIT_CODE.NOISE) {
        if (!isShutdownStart(ann)) continue;
        this.previousShutdownOn = this.shutdownOn;
        this.previousShutdownOff = this.shutdownOff;
        this.shutdownOn = ann.sample;
        if (this.position >= this.annotations.length) {
          // The file ends inside the shutdown. bxb closes a reference shutdown at "infinity" but leaves a test
          // shutdown's end where it was; for the test it adds the time to the record end to the tally.
          if (this.role === 'reference') this.shutdownOff = END_OF_FILE;
          else if (this.endSample !== undefined && this.endSample > 0) this.shutdownSamples += this.endSample - this.shutdownOn;
          this.setEndOfFile();
          return;
        }
        const closing = this.annotations[this.position++];
        if (closing.code === MIT_CODE.NOISE && !isShutdownStart(closing)) {
          this.shutdownOff = closing.sample;
        } else {
          // AHA-style single shutdown mark: shutdown is taken to start one window after the previous beat (or
          // the end of the previous VF) and to end one window before the next annotation, which is read again.
          this.shutdownOn = (this.vfOff > this.sample ? this.vfOff : this.sample) + this.matchWindowSamples;
          this.shutdownOff = closing.sample - this.matchWindowSamples;
          if (this.shutdownOn > this.shutdownOff) this.shutdownOn = this.shutdownOff;
          this.position--;
        }
        if (this.role === 'test') this.shutdownSamples += this.shutdownOff - this.shutdownOn;
      } else if (ann.code === MIT_CODE.VFON) {
        this.previousVfOn = this.vfOn;
        this.previousVfOff = this.vfOff;
        this.vfOn = ann.sample;
        // Everything up to the matching `]` is skipped, beats included.
        for (;;) {
          if (this.position >= this.annotations.length) {
            this.setEndOfFile();
            return;
          }
          const inside = this.annotations[this.position++];
          if (inside.code === MIT_CODE.VFOFF) {
            this.vfOff = inside.sample;
            break;
          }
        }
      }
    }
    this.setEndOfFile();
  }

  /** True when `sampleIndex` lies in one of the last two VF episodes of this stream (an open one included). */
  inVf(sampleIndex: number): boolean {
    return (
      (this.vfOn !== -1 && this.vfOn <= sampleIndex && (sampleIndex <= this.vfOff || this.vfOff === -1)) ||
      (this.previousVfOn !== -1 && this.previousVfOn <= sampleIndex && sampleIndex <= this.previousVfOff)
    );
  }

  /** True when `sampleIndex` lies in one of the last two shutdown intervals of this stream. */
  inShutdown(sampleIndex: number): boolean {
    return (
      (this.shutdownOn !== -1 &&
        this.shutdownOn <= sampleIndex &&
        (sampleIndex <= this.shutdownOff || this.shutdownOff === -1)) ||
      (this.previousShutdownOn !== -1 && this.previousShutdownOn <= sampleIndex && sampleIndex <= this.previousShutdownOff)
    );
  }

  private setEndOfFile(): void {
    this.nextSample = END_OF_FILE;
    this.nextLabel = 'vf'; // bxb's '*': a label pair() does not count
    this.nextIndex = undefined;
  }
}

/** NOISE subtype bits 4 and 5 (0x30) both set: neither signal readable, i.e. shutdown (bxb, EC38). */
function isShutdownStart(ann: MatchableAnnotation): boolean {
  return (ann.subtype & 0x30) === 0x30;
}

/** Converts seconds to samples as WFDB's strtim does. */
export function secondsToSamples(seconds: number, fsHz: number): number {
  return Math.floor(seconds * fsHz + 0.5);
}

/**
 * Matches `test` beats to `reference` beats as bxb does and returns the counted pairs.
 * Both arrays are annotation files in file order (as decoded), non-beat annotations included: the matcher
 * needs the VF and NOISE marks.
 *
 * ## Example
 * ```ts
 * const { pairs } = matchBeats(readAnnotations('mitdb/100.atr'), readAnnotations('out/100.qrs'), { fsHz: 360 });
 * const tp = pairs.filter((p) => p.refIndex !== undefined && p.testIndex !== undefined).length;
 * ```
 * @param reference reference annotations (e.g. `.atr`), file order
 * @param test test annotations (e.g. `.qrs`), file order
 * @param options sampling rate, start and end sample, window, class map
 */
export function matchBeats(
  reference: readonly MatchableAnnotation[],
  test: readonly MatchableAnnotation[],
  options: MatchOptions,
): MatchResult {
  const { fsHz, fromSample = 0, endSample, matchWindowS = 0.15, classMap = bxbClassMap } = options;
  if (!(fsHz > 0)) throw new ConfigError('ECG_ERR_BAD_OPTION', `matchBeats: fsHz=${fsHz} must be > 0`);
  if (!(matchWindowS > 0)) throw new ConfigError('ECG_ERR_BAD_OPTION', `matchBeats: matchWindowS=${matchWindowS} must be > 0`);
  if (!Number.isInteger(fromSample) || fromSample < 0) {
    throw new ConfigError('ECG_ERR_BAD_OPTION', `matchBeats: fromSample=${fromSample} must be a non-negative integer`);
  }
  if (endSample !== undefined && !(Number.isInteger(endSample) && endSample > 0 && endSample >= fromSample)) {
    throw new ConfigError('ECG_ERR_BAD_OPTION', `matchBeats: endSample=${endSample} must be an integer >= fromSample and > 0`);
  }
  const window = secondsToSamples(matchWindowS, fsHz);
  const ref = new BeatCursor(reference, 'reference', classMap, window, endSample);
  const tst = new BeatCursor(test, 'test', classMap, window, endSample);
  const pairs: BeatPair[] = [];
  let rrErrorSumSquares = 0;
  let rrErrorCount = 0;

  /** Counts one pair; labels 'none' and 'vf' are not counted (bxb's switch ignores them) but the RR tally runs. */
  const pair = (refLabel: CursorLabel, testLabel: CursorLabel, refIndex?: number, testIndex?: number): void => {
    if (refLabel !== 'none' && refLabel !== 'vf' && testLabel !== 'none' && testLabel !== 'vf') {
      // bxb has no counter for a pseudo-beat against a pseudo-beat (an `O` reference against an unmatched
      // test side cannot occur; an `O`-labelled reference beat paired with a pseudo-beat is dropped).
      const refIsPseudoSide = refLabel === 'O' || refLabel === 'X';
      const testIsPseudoSide = testLabel === 'O' || testLabel === 'X';
      if (!(refIsPseudoSide && testIsPseudoSide)) pairs.push({ ref: refLabel, test: testLabel, refIndex, testIndex });
    }
    if (ref.rrSamples > 0 && tst.rrSamples > 0) {
      const difference = ref.rrSamples - tst.rrSamples;
      rrErrorSumSquares += difference * difference;
      rrErrorCount++;
    }
  };
  const pairCurrent = (): void => pair(ref.label, tst.label, ref.index, tst.index);
  /** An unmatched test beat: `*` (not counted) in reference VF, `X` in reference shutdown, else `O`. */
  const pairUnmatchedTest = (): void =>
    pair(ref.inVf(tst.sample) ? 'vf' : ref.inShutdown(tst.sample) ? 'X' : 'O', tst.label, undefined, tst.index);
  /** An unmatched reference beat: `X` in test shutdown (no special case for test VF), else `O`. */
  const pairUnmatchedRef = (): void => pair(ref.label, tst.inShutdown(ref.sample) ? 'X' : 'O', ref.index, undefined);

  // Current reference beat: the first at or after the start. Current test beat: the last before the start (or
  // bxb's pseudo-beat at 0), next test beat: the first at or after the start.
  do ref.advance();
  while (ref.sample < fromSample);
  do tst.advance();
  while (tst.nextSample < fromSample);

  // A test beat just before the start may match the first reference beat (T - t > 0 here).
  if (ref.sample - tst.sample < Math.abs(ref.sample - tst.nextSample) && ref.sample - tst.sample <= window) {
    pairCurrent(); // pair() ignores the two pseudo-beats at 0 when the start is 0
    ref.advance();
    tst.advance();
  } else {
    // A test beat within one window after the start that matches the reference worse than the one after it is
    // dropped uncounted.
    tst.advance();
    if (tst.sample - fromSample <= window && Math.abs(ref.sample - tst.nextSample) < Math.abs(ref.sample - tst.sample)) {
      tst.advance();
    }
  }

  const continues = (): boolean =>
    endSample !== undefined
      ? ref.sample <= endSample || tst.sample <= endSample
      : ref.sample !== END_OF_FILE;
  while (continues()) {
    const T = ref.sample;
    const t = tst.sample;
    if (t < T) {
      // Test beat first: pair it if within the window and no closer to the next test beat than the reference
      // beat is — or if the next beats of both streams pair better with each other (bxb, 24 Nov 2002).
      if (T - t <= window && (T - t < Math.abs(T - tst.nextSample) || Math.abs(ref.nextSample - tst.nextSample) < Math.abs(T - tst.nextSample))) {
        pairCurrent();
        ref.advance();
        tst.advance();
      } else {
        pairUnmatchedTest();
        tst.advance();
      }
    } else if (t - T <= window && (t - T < Math.abs(t - ref.nextSample) || Math.abs(tst.nextSample - ref.nextSample) < Math.abs(t - ref.nextSample))) {
      // Reference beat first (or same sample): the mirror image.
      pairCurrent();
      tst.advance();
      ref.advance();
    } else {
      pairUnmatchedRef();
      ref.advance();
    }
  }

  return {
    pairs,
    matchWindowSamples: window,
    rrErrorSumSquares,
    rrErrorCount,
    rmsRrErrorMs: rrErrorCount > 0 ? (Math.sqrt(rrErrorSumSquares / rrErrorCount) * 1000) / secondsToSamples(1, fsHz) : undefined,
    testShutdownSamples: tst.shutdownSamples,
  };
}

/** Row and column order of the confusion matrix: the five AAMI classes, then `O` (none) and `X` (shutdown). */
export const PAIR_LABELS: readonly PairLabel[] = ['N', 'S', 'V', 'F', 'Q', 'O', 'X'];

/** bxb's confusion matrix: `matrix[ref][test]` counts pairs; rows are reference labels, columns test labels. */
export type ConfusionMatrix = Record<PairLabel, Record<PairLabel, number>>;

/** An all-zero confusion matrix. */
export function emptyConfusionMatrix(): ConfusionMatrix {
  const matrix = {} as ConfusionMatrix;
  for (const r of PAIR_LABELS) {
    matrix[r] = {} as Record<PairLabel, number>;
    for (const c of PAIR_LABELS) matrix[r][c] = 0;
  }
  return matrix;
}

/** Counts the pairs into bxb's confusion matrix (the O and X rows have no O and X columns: those stay 0). */
export function confusionMatrix(pairs: readonly BeatPair[]): ConfusionMatrix {
  const matrix = emptyConfusionMatrix();
  for (const p of pairs) matrix[p.ref][p.test]++;
  return matrix;
}

/** Adds matrices cell by cell (for gross statistics over records). */
export function addConfusionMatrices(matrices: readonly ConfusionMatrix[]): ConfusionMatrix {
  const sum = emptyConfusionMatrix();
  for (const m of matrices) for (const r of PAIR_LABELS) for (const c of PAIR_LABELS) sum[r][c] += m[r][c];
  return sum;
}

/** `100 * numerator / denominator`, or undefined when the denominator is 0 (bxb prints `-`). */
export function percent(numerator: number, denominator: number): number | undefined {
  return denominator > 0 ? (100 * numerator) / denominator : undefined;
}

/** The five AAMI classes, the rows and columns that count as beats in QRS statistics. */
export const BEAT_LABELS_FOR_QRS: readonly Exclude<PairLabel, 'O' | 'X'>[] = ['N', 'S', 'V', 'F', 'Q'];
