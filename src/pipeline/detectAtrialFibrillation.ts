import { map, type OperatorFunction } from 'rxjs';
import { ConfigError } from '../errors.js';
import type { BeatClassification, RhythmAssessment } from '../types.js';

export interface DetectAtrialFibrillationOptions {
  /** RR intervals the statistics are computed over (the last ones, so the rhythm is judged without waiting). Default 64. */
  intervals?: number;
  /** Shortest and longest intervals left out of RMSSD and entropy (Dash et al. trim 8 of 128). Default 8 each. */
  trimmed?: number;
}

/** Dash et al.'s thresholds. */
const RMSSD_THRESHOLD = 0.1;
const ENTROPY_THRESHOLD = 0.7;
const ENTROPY_BINS = 16;
const TURNING_POINT_Z = 2;

const PENDING: RhythmAssessment = { atrialFibrillation: false, normalisedRmssd: NaN, shannonEntropy: NaN, turningPointZ: NaN };

/**
 * Tells atrial fibrillation from the irregularity of the RR intervals before each beat, as Dash et al. do: the rhythm
 * is AF when the intervals vary much (normalised RMSSD), spread evenly (Shannon entropy) and change direction as often
 * as a random series does (turning points, which keeps bigeminy out). The three thresholds are the paper's.
 *
 * The window holds the last `intervals` RR intervals between two beats the classifier did not call V: the coupling
 * interval and the compensatory pause of a ventricular beat make a sinus rhythm look irregular (in MIT-BIH DS1 the
 * plain detector flagged 10 % of non-AF beats, most in records with frequent or bigeminal PVCs; without the V intervals,
 * 1.5 %). Only V calls are used, never S calls, so the rule that gates S beats (gateSvebInAtrialFibrillation.ts) does not
 * depend on what it gates. Causal: each beat is judged on the intervals up to its own, no added latency; a beat
 * before the window is full is not AF. Streams are kept apart by `streamId`.
 *
 * Reference: Dash S, Chon KH, Lu S, Raeder EA. Automatic real time detection of atrial fibrillation.
 * Ann Biomed Eng 2009;37(9):1701-9. doi:10.1007/s10439-009-9740-z
 */
export function detectAtrialFibrillation(options: DetectAtrialFibrillationOptions = {}): OperatorFunction<BeatClassification, BeatClassification> {
  const { intervals = 64, trimmed = 8 } = options;
  if (!Number.isInteger(trimmed) || trimmed < 0) throw new ConfigError('ECG_ERR_BAD_OPTION', `detectAtrialFibrillation: trimmed=${trimmed} must be a non-negative integer`);
  if (!Number.isInteger(intervals) || intervals < 2 * trimmed + 4) {
    throw new ConfigError('ECG_ERR_BAD_OPTION', `detectAtrialFibrillation: intervals=${intervals} must be an integer of at least ${2 * trimmed + 4} (2 x trimmed + 4)`);
  }
  return (beats$) => {
    const streams = new Map<string, { lastSampleIndex: number; lastWasV: boolean; window: number[] }>();
    return beats$.pipe(
      map((beat) => {
        const isV = beat.beatClass === 'V';
        const state = streams.get(beat.streamId);
        if (!state) {
          streams.set(beat.streamId, { lastSampleIndex: beat.sampleIndex, lastWasV: isV, window: [] });
          return { ...beat, rhythm: PENDING };
        }
        const rrMs = ((beat.sampleIndex - state.lastSampleIndex) * 1000) / beat.fsHz;
        if (rrMs > 0 && !isV && !state.lastWasV) {
          state.window.push(rrMs);
          if (state.window.length > intervals) state.window.shift();
        }
        state.lastSampleIndex = beat.sampleIndex;
        state.lastWasV = isV;
        return { ...beat, rhythm: state.window.length === intervals ? assessRrIrregularity(state.window, trimmed) : PENDING };
      }),
    );
  };
}

/** Dash et al.'s three statistics of one window of RR intervals (any unit), and whether all three say AF. */
export function assessRrIrregularity(rr: readonly number[], trimmed = 8): RhythmAssessment {
  const n = rr.length;
  let turningPoints = 0;
  for (let i = 1; i < n - 1; i++) {
    if ((rr[i] > rr[i - 1] && rr[i] > rr[i + 1]) || (rr[i] < rr[i - 1] && rr[i] < rr[i + 1])) turningPoints++;
  }
  // A random series of n values has (2n - 4) / 3 turning points, variance (16n - 29) / 90.
  const turningPointZ = (turningPoints - (2 * n - 4) / 3) / Math.sqrt((16 * n - 29) / 90);

  // Outliers (ectopic beats, missed detections) out, order kept: the values between the trimmed extremes.
  const sorted = [...rr].sort((a, b) => a - b);
  const lo = sorted[trimmed], hi = sorted[n - 1 - trimmed];
  const kept = rr.filter((x) => x >= lo && x <= hi);
  let sum = 0, squares = 0;
  for (let i = 0; i < kept.length; i++) {
    sum += kept[i];
    if (i > 0) squares += (kept[i] - kept[i - 1]) ** 2;
  }
  const normalisedRmssd = Math.sqrt(squares / (kept.length - 1)) / (sum / kept.length);
  const counts = new Array<number>(ENTROPY_BINS).fill(0);
  for (const x of kept) counts[hi > lo ? Math.min(ENTROPY_BINS - 1, Math.floor(((x - lo) / (hi - lo)) * ENTROPY_BINS)) : 0]++;
  let entropy = 0;
  for (const c of counts) if (c > 0) entropy -= (c / kept.length) * Math.log(c / kept.length);
  const shannonEntropy = entropy / Math.log(ENTROPY_BINS);
  return {
    atrialFibrillation: normalisedRmssd > RMSSD_THRESHOLD && shannonEntropy > ENTROPY_THRESHOLD && Math.abs(turningPointZ) <= TURNING_POINT_Z,
    normalisedRmssd, shannonEntropy, turningPointZ,
  };
}
