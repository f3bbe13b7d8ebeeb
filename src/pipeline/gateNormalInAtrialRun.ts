import { map, type OperatorFunction } from 'rxjs';
import { ConfigError } from '../errors.js';
import { median } from '../quantile.js';
import { BEAT_CLASSES, type BeatClass, type BeatClassification } from '../types.js';
import { ruleOutClass } from './ruleOutClass.js';

export interface GateNormalInAtrialRunOptions {
  /**
   * How far the beat's previous RR may be from the previous beat's previous RR, as a fraction of the latter, for the
   * beat to continue that beat's rhythm. Default 0.1.
   */
  maxRateChange?: number;
  /** The beat's previous RR, at most this share of the stream's usual N-to-N interval: faster than the sinus rhythm. Default 0.8. */
  maxShareOfUsualRr?: number;
  /** N-to-N intervals the usual one is the median of (the latest ones). Default 32. */
  usualIntervals?: number;
  /** No gate before this many N-to-N intervals. Default 8. */
  minUsualIntervals?: number;
}

interface StreamState {
  previousClass?: BeatClass;
  previousRrMs?: number;
  /** Previous RR of the latest beats called N after a beat called N, oldest first. */
  normalIntervalsMs: number[];
}

/**
 * Rules N out for a beat that continues a run of atrial ectopic beats: the beat before it is S, it comes at that beat's
 * rate (its previous RR within `maxRateChange` of that beat's previous RR), and that rate is faster than the
 * stream's sinus rhythm (its previous RR at most `maxShareOfUsualRr` of the median of the stream's latest N-to-N
 * intervals). In a run of atrial premature beats only the first one comes early against the beat before it; the
 * later ones come at the run's own steady rate, so a network judging each beat by its prematurity calls some of them
 * N. A sinus beat after an isolated atrial premature beat comes after a pause, not at its rate; the sinus rhythm
 * itself is not faster than itself, so a false S call in it does not spread.
 *
 * It runs after the other rules and reads what they left: it acts only where S is still allowed and is then the most
 * probable class, so it turns N into S and into nothing else, and never brings back an S another rule ruled out (in
 * atrial fibrillation, with the usual P wave, with an unusual QRS). Its S calls count as the beat before for the next
 * beat, so a run is followed to its end. The RR intervals are the beat window's (`rr`): no latency. The model's own
 * class stays in `modelClass`, the classes ruled out in `ruledOut` (ruleOutClass.ts).
 *
 * The bounds were chosen on MIT-BIH DS1 patients the models had not trained on, before DS2 was scored (see
 * models/EXPERIMENTS.md, "The atrial run gate"): with the other five rules on, S Se rose from 54.2 to 56.8 % and S +P from
 * 50.3 to 50.7 %, V unchanged.
 */
export function gateNormalInAtrialRun(options: GateNormalInAtrialRunOptions = {}): OperatorFunction<BeatClassification, BeatClassification> {
  const { maxRateChange = 0.1, maxShareOfUsualRr = 0.8, usualIntervals = 32, minUsualIntervals = 8 } = options;
  if (!(maxRateChange >= 0 && maxRateChange < 1)) throw new ConfigError('ECG_ERR_BAD_OPTION', `gateNormalInAtrialRun: maxRateChange=${maxRateChange} must be in [0, 1)`);
  if (!(maxShareOfUsualRr > 0 && maxShareOfUsualRr <= 1)) throw new ConfigError('ECG_ERR_BAD_OPTION', `gateNormalInAtrialRun: maxShareOfUsualRr=${maxShareOfUsualRr} must be in (0, 1]`);
  if (!(Number.isInteger(minUsualIntervals) && minUsualIntervals >= 1 && Number.isInteger(usualIntervals) && usualIntervals >= minUsualIntervals)) {
    throw new ConfigError('ECG_ERR_BAD_OPTION', `gateNormalInAtrialRun: need integers 1 <= minUsualIntervals (${minUsualIntervals}) <= usualIntervals (${usualIntervals})`);
  }
  const sIndex = BEAT_CLASSES.indexOf('S');
  const nIndex = BEAT_CLASSES.indexOf('N');
  // S would be what ruling N out leaves: allowed, and the most probable class apart from N among those allowed.
  const sIsNextChoice = (beat: BeatClassification) => !beat.ruledOut?.includes('S')
    && beat.probabilities.every((p, c) => c === sIndex || c === nIndex || beat.ruledOut?.includes(BEAT_CLASSES[c]) || p <= beat.probabilities[sIndex]);
  return (beats$) => {
    const streams = new Map<string, StreamState>();
    return beats$.pipe(
      map((beat) => {
        let state = streams.get(beat.streamId);
        if (!state) streams.set(beat.streamId, (state = { normalIntervalsMs: [] }));
        const rr = beat.rr;
        // The usual interval (a sort of up to 32) only for the few beats that pass the cheap tests first.
        const continuesAtrialRun = beat.beatClass === 'N' && state.previousClass === 'S' && rr !== undefined && state.previousRrMs !== undefined
          && Math.abs(rr.previousRrMs / state.previousRrMs - 1) <= maxRateChange
          && state.normalIntervalsMs.length >= minUsualIntervals
          && rr.previousRrMs <= maxShareOfUsualRr * median(state.normalIntervalsMs)
          && sIsNextChoice(beat);
        const out = continuesAtrialRun ? ruleOutClass(beat, 'N') : beat;
        if (out.beatClass === 'N' && state.previousClass === 'N' && rr !== undefined && rr.previousRrMs > 0) {
          state.normalIntervalsMs.push(rr.previousRrMs);
          if (state.normalIntervalsMs.length > usualIntervals) state.normalIntervalsMs.shift();
        }
        state.previousClass = out.beatClass;
        state.previousRrMs = rr?.previousRrMs;
        return out;
      }),
    );
  };
}
